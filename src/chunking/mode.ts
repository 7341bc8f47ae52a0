import { ASRError } from '../errors/index.js';
import type { LiveEvent } from './events.js';

/** What a live mode may ask of the processor that runs it. @internal */
export interface LiveHost {
  /** Whether the processor still takes audio (not stopping, stopped or failed). */
  isRunning(): boolean;
  /** Emits an event (to listeners and `events()` subscribers). */
  send(e: LiveEvent): void;
  /** Ends the session with a fatal error (emitted once, `recoverable: false`). */
  fail(e: unknown): void;
}

/** How the processor drives either live mode (windowed or streaming). @internal */
export interface LiveMode {
  /** The mode's name, as ticks and the summary report it. */
  readonly name: 'windowed' | 'streaming';
  /** New audio (whole frames of 16-bit PCM) was spooled: decode it now or when due. */
  afterAppend(bytes: Uint8Array): Promise<void>;
  /** Resolves when no tick is running or due. */
  idle(): Promise<void>;
  /** Decodes and commits everything left, then reports the final tick. */
  finish(signal: AbortSignal): Promise<void>;
}

/** The error as an {@link ASRError} (for `error` events). @internal */
export function asAsrError(e: unknown): ASRError {
  if (ASRError.isInstance(e)) return e;
  return new ASRError(e instanceof Error ? e.message : String(e), { cause: e });
}
