/**
 * The one mechanism behind `TranscriptionConfig.onProgress`: throttled, monotonic, never throws
 * into the work it reports on, and always ends with `processedSec === totalSec`.
 * @module
 */
import type { TranscriptionProgress } from '../spec/index.js';

/** Reports the advance of one `transcribe()` call. */
export interface ProgressSink {
  /** Audio processed so far; reported at most every `minIntervalMs`, and never backwards. */
  update(processedSec: number): void;
  /** The work is done: reports `totalSec` processed (always, once). */
  finish(totalSec: number): void;
}

const NOOP: ProgressSink = { update: () => {}, finish: () => {} };

/**
 * Wraps the caller's callback. `totalSec` is the input's length when known up front.
 * @param minIntervalMs - least time between two intermediate reports.
 */
export function progressSink(
  callback: ((p: TranscriptionProgress) => void) | undefined,
  totalSec: number | undefined,
  minIntervalMs = 250,
): ProgressSink {
  if (callback === undefined) return NOOP;
  let last = -Infinity;
  let shown = 0;
  let finished = false;
  const call = (p: TranscriptionProgress): void => {
    try {
      callback(p);
    } catch {
      // A progress callback must not break the work it reports on.
    }
  };
  return {
    update(processedSec) {
      if (finished || !(processedSec > shown)) return;
      const now = performance.now();
      if (now - last < minIntervalMs) return;
      last = now;
      shown = totalSec === undefined ? processedSec : Math.min(processedSec, totalSec);
      call({ processedSec: shown, totalSec });
    },
    finish(total) {
      if (finished) return;
      finished = true;
      call({ processedSec: total, totalSec: total });
    },
  };
}
