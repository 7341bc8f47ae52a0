/**
 * Trailing-silence detection on frame energy, for fast endpointing of streaming models.
 *
 * Silero VAD needs a few windows of hangover before it lets go of speech, and a streaming model's
 * own rule counts trailing blanks in its (large) decoding chunks; both end an utterance hundreds of
 * milliseconds after the voice stops. On clean audio the energy of 10 ms frames tells sooner: once
 * an utterance has had real speech, `silenceSec` of frames far below its loudest frame mark its end.
 * On noisy audio (noise within `dropDb` of the speech) it never fires, and the slower detectors
 * still end the utterance.
 *
 * @module
 * @internal
 */

/** Options of {@link TrailingSilence}. @internal */
interface TrailingSilenceOptions {
  /** Quiet time that ends an utterance, seconds. */
  readonly silenceSec: number;
  /** A frame is quiet when its energy is this many dB under the utterance's loudest frame. */
  readonly dropDb: number;
  /** Loud time an utterance needs before it can end, seconds. */
  readonly minSpeechSec: number;
}

/** Frames quieter than this (dBFS, mean square) are always quiet. */
const ABSOLUTE_FLOOR_DB = -70;
/** Frames need at least this level (dBFS, mean square) to count as speech. */
const SPEECH_MIN_DB = -50;

/**
 * Feed mono samples in [-1, 1]; {@link TrailingSilence.push} stops where an utterance's speech
 * has ended. After that it starts over (the next utterance needs its own speech).
 * @internal
 */
export class TrailingSilence {
  readonly #frame: number;
  readonly #silenceFrames: number;
  readonly #minSpeechFrames: number;
  readonly #drop: number;
  /** Mean square of the loudest frame of the current utterance. */
  #peak = 0;
  #loudFrames = 0;
  #quietRun = 0;
  /** Partial frame carried over between pushes. */
  #acc = 0;
  #accN = 0;

  constructor(sampleRate: number, o: TrailingSilenceOptions) {
    this.#frame = Math.max(1, Math.round(sampleRate / 100));
    this.#silenceFrames = Math.max(1, Math.round(o.silenceSec * 100));
    this.#minSpeechFrames = Math.max(1, Math.round(o.minSpeechSec * 100));
    this.#drop = 10 ** (-o.dropDb / 10);
  }

  /**
   * Feeds samples up to the point where the current utterance's speech is known to have ended.
   * @returns the number of samples consumed: all of them, or fewer when the utterance ended
   *   (then {@link TrailingSilence.ended} is true until the next push; feed the rest after
   *   handling it).
   */
  push(samples: Float32Array): number {
    this.ended = false;
    const floor = 10 ** (ABSOLUTE_FLOOR_DB / 10);
    const speechMin = 10 ** (SPEECH_MIN_DB / 10);
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i]!;
      this.#acc += v * v;
      if (++this.#accN < this.#frame) continue;
      const e = this.#acc / this.#accN;
      this.#acc = 0;
      this.#accN = 0;
      if (e > this.#peak) this.#peak = e;
      const quiet = e < floor || e < this.#peak * this.#drop;
      if (!quiet) {
        if (e >= speechMin) this.#loudFrames++;
        this.#quietRun = 0;
        continue;
      }
      this.#quietRun++;
      if (this.#loudFrames >= this.#minSpeechFrames && this.#quietRun >= this.#silenceFrames) {
        this.reset();
        this.ended = true;
        return i + 1;
      }
    }
    return samples.length;
  }

  /** Whether the last {@link TrailingSilence.push} stopped at the end of an utterance. */
  ended = false;

  /** Starts over: the next utterance needs its own speech. */
  reset(): void {
    this.#peak = 0;
    this.#loudFrames = 0;
    this.#quietRun = 0;
  }
}
