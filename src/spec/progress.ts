/** How far a `transcribe()` call has got, passed to {@link TranscriptionConfig.onProgress}. */
export interface TranscriptionProgress {
  /** Seconds of audio processed so far. Never decreases; equals `totalSec` at the end. */
  readonly processedSec: number;
  /**
   * Duration of the whole input in seconds, when known up front (files and buffers); `undefined`
   * for streamed input of unknown length until the end.
   */
  readonly totalSec: number | undefined;
}
