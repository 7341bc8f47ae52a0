/**
 * The one wrapper around sherpa-onnx-node's Silero `Vad`: whole 512-sample windows in, raw speech
 * segments (absolute sample offsets) out. {@link VoiceActivityDetector} and the diarizers build on
 * it; neither talks to the addon's `Vad` directly.
 *
 * A `Vad` given a missing path gets a silent null handle, and one given corrupt bytes aborts the
 * process, so a `SileroVad` is only ever built from a config whose model file was checked and
 * proven in a child process ({@link SileroVad.openSync} does both; {@link VoiceActivityDetector}
 * resolves, validates and proves first, then calls {@link SileroVad.load}).
 * @internal
 * @module
 */
import { ModelError } from '../errors/index.js';
import { loadSherpa, type SherpaVad } from '../internal/sherpa.js';
import { checkOnnxFileSync, proveSherpaConfigSync } from '../models/index.js';

/** Samples per VAD window (Silero at 16 kHz). */
const VAD_WINDOW = 512;

/** sherpa's `sileroVad` settings. @internal */
export interface SileroSettings {
  /** The `.onnx` file. */
  readonly model: string;
  /** Speech probability above which a window counts as speech. */
  readonly threshold: number;
  /** Silence that ends a segment, seconds. */
  readonly minSilenceDuration: number;
  /** Shortest segment reported, seconds. */
  readonly minSpeechDuration: number;
  /** Length past which sherpa raises the threshold to end a segment (no hard limit), seconds. */
  readonly maxSpeechDuration: number;
}

/** The sherpa config of a Silero VAD at `sampleRate`. @internal */
export function sileroConfig(settings: SileroSettings, sampleRate: number): { sileroVad: SileroSettings & { windowSize: number }; sampleRate: number; numThreads: number; provider: string; debug: boolean } {
  return {
    sileroVad: {
      model: settings.model,
      threshold: settings.threshold,
      minSilenceDuration: settings.minSilenceDuration,
      minSpeechDuration: settings.minSpeechDuration,
      maxSpeechDuration: settings.maxSpeechDuration,
      windowSize: VAD_WINDOW,
    },
    sampleRate,
    numThreads: 1,
    provider: 'cpu',
    debug: false,
  };
}

/** A segment as sherpa reports it: first sample (from the first pushed sample) and the samples. @internal */
export interface RawSpeech {
  readonly start: number;
  readonly samples: Float32Array;
}

/**
 * Streaming Silero VAD over sherpa's `Vad`: buffers pushed samples into whole windows, pads the
 * last one at {@link SileroVad.finish}, and drains the finished segments.
 * @internal
 */
export class SileroVad {
  readonly #vad: SherpaVad;
  #pending = new Float32Array(0);
  #pushed = 0;

  private constructor(vad: SherpaVad) {
    this.#vad = vad;
  }

  /**
   * Builds the addon's `Vad` for a config whose model was already proven (see the module note).
   * @param what - names the model in the error when sherpa still gives a null handle.
   * @throws ModelError when the addon could not load the model.
   */
  static load(config: object, bufferSec: number, what: string, path: string): SileroVad {
    const sherpa = loadSherpa();
    const vad = new sherpa.Vad(config, bufferSec);
    if (!vad.handle) throw new ModelError(`sherpa-onnx could not load the ${what}`, { path });
    return new SileroVad(vad);
  }

  /**
   * Checks the `.onnx` file, proves the config in a child process (once per content digest,
   * blocking) and loads it; for synchronous callers given a model file rather than a folder.
   * @throws ModelError when the file is missing, not ONNX, or can't run.
   */
  static openSync(settings: SileroSettings, sampleRate: number, bufferSec: number): SileroVad {
    checkOnnxFileSync(settings.model, 'VAD');
    const config = sileroConfig(settings, sampleRate);
    proveSherpaConfigSync({ className: 'Vad', config }, `VAD model ${settings.model}`, settings.model);
    return SileroVad.load(config, bufferSec, `VAD model ${settings.model}`, settings.model);
  }

  /** Samples pushed so far. */
  get pushed(): number {
    return this.#pushed;
  }

  /** Whether the detector is inside speech right now. */
  get inSpeech(): boolean {
    return this.#vad.isDetected();
  }

  /** Feeds samples; returns the segments they finished. */
  push(samples: Float32Array): RawSpeech[] {
    let buf = samples;
    if (this.#pending.length > 0) {
      buf = new Float32Array(this.#pending.length + samples.length);
      buf.set(this.#pending);
      buf.set(samples, this.#pending.length);
    }
    const whole = buf.length - (buf.length % VAD_WINDOW);
    for (let i = 0; i < whole; i += VAD_WINDOW) this.#vad.acceptWaveform(buf.subarray(i, i + VAD_WINDOW));
    this.#pending = buf.slice(whole);
    this.#pushed += samples.length;
    return this.#drain();
  }

  /**
   * Ends the stream: pads the last partial window with silence, flushes, and returns the remaining
   * segments. The last one may run past {@link SileroVad.pushed} (into the padding); callers clip.
   */
  finish(): RawSpeech[] {
    if (this.#pending.length > 0) {
      const last = new Float32Array(VAD_WINDOW);
      last.set(this.#pending);
      this.#vad.acceptWaveform(last);
      this.#pending = new Float32Array(0);
    }
    this.#vad.flush();
    return this.#drain();
  }

  /** Clears all state, for reuse on a new stream. */
  reset(): void {
    this.#vad.reset();
    this.#pending = new Float32Array(0);
    this.#pushed = 0;
  }

  #drain(): RawSpeech[] {
    const out: RawSpeech[] = [];
    while (!this.#vad.isEmpty()) {
      const seg = this.#vad.front(false);
      // Copy: the addon may reuse its buffer after pop().
      out.push({ start: seg.start, samples: Float32Array.from(seg.samples) });
      this.#vad.pop();
    }
    return out;
  }
}
