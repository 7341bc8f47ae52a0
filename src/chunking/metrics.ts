import type { LiveMetricsSummary } from './events.js';

/** What one tick did, for the totals. @internal */
export interface TickWork {
  /** Bytes read back (windowed) or fed (streaming). */
  readonly bytesRead: number;
  /** Seconds of audio decoded. */
  readonly decodedSec: number;
  /** Backend calls made. */
  readonly calls: number;
  /** Wall-clock seconds the tick took. */
  readonly processingSec: number;
}

/** The totals of a live session, for {@link LiveMetricsSummary}. @internal */
export class LiveMetrics {
  #bytesRead = 0;
  #maxBytes = 0;
  #decodedSec = 0;
  #calls = 0;
  #procSum = 0;
  #procMax = 0;
  #lagEvents = 0;
  #maxLag = 0;
  /** Ticks run by this process (a recovered processor continues the tick index from the journal). */
  #ticksThisSession = 0;

  /** Adds one tick's work. */
  countTick(work: TickWork): void {
    this.#bytesRead += work.bytesRead;
    this.#maxBytes = Math.max(this.#maxBytes, work.bytesRead);
    this.#decodedSec += work.decodedSec;
    this.#calls += work.calls;
    this.#procSum += work.processingSec;
    this.#procMax = Math.max(this.#procMax, work.processingSec);
    this.#ticksThisSession++;
  }

  /** Notes a tick's lag (seconds of audio not yet decoded). */
  noteLag(lagSec: number): void {
    this.#maxLag = Math.max(this.#maxLag, lagSec);
  }

  /** Counts a `lag` event. */
  countLagEvent(): void {
    this.#lagEvents++;
  }

  /** The totals, with what the processor knows of the session. */
  summary(session: {
    readonly mode: 'windowed' | 'streaming';
    readonly ticks: number;
    readonly audioBytes: number;
    readonly bytesPerSec: number;
    readonly committedWords: number;
  }): LiveMetricsSummary {
    const { audioBytes } = session;
    const audioSec = audioBytes / session.bytesPerSec;
    return {
      mode: session.mode,
      ticks: session.ticks,
      audioSec,
      audioBytes,
      bytesRead: this.#bytesRead,
      bytesReadRatio: audioBytes > 0 ? this.#bytesRead / audioBytes : 0,
      maxBytesReadPerTick: this.#maxBytes,
      decodedSec: this.#decodedSec,
      decodedRatio: audioSec > 0 ? this.#decodedSec / audioSec : 0,
      backendCalls: this.#calls,
      meanProcessingSec: this.#procSum / Math.max(1, this.#ticksThisSession),
      maxProcessingSec: this.#procMax,
      lagEvents: this.#lagEvents,
      maxLagSec: this.#maxLag,
      committedWords: session.committedWords,
    };
  }
}
