/**
 * Voice activity detection (Silero VAD through sherpa-onnx): push mono samples, take finished
 * speech segments on the stream's timeline. Used by the native backend (cutting long audio), the
 * diarizer and the live processor.
 *
 * @module
 */
import { InvalidArgumentError, ModelError } from '../errors/index.js';
import {
  type ModelProofOptions,
  type ResolveOptions,
  type ResolvedModel,
  expectedSha256Of,
  proveSherpaConfig,
  resolveModel,
  validateModel,
} from '../models/index.js';
import { type RawSpeech, SileroVad, sileroConfig } from './silero.js';

/** A finished stretch of speech. Times are seconds from the first pushed sample. */
export interface SpeechSegment {
  /** Start, seconds. */
  readonly start: number;
  /** End, seconds. */
  readonly end: number;
  /** The segment's samples (mono, at the detector's rate). */
  readonly samples: Float32Array;
  /**
   * True when speech goes straight on after `end`: the segment was cut at the length limit
   * (`maxSpeechSec`) rather than ended by a pause. Absent otherwise.
   */
  readonly continues?: boolean | undefined;
}

/** Options of {@link VoiceActivityDetector.create}. */
export interface VadOptions extends Pick<ResolveOptions, 'modelsDir' | 'cacheDir' | 'abortSignal'> {
  /**
   * The Silero VAD model: a folder, a name under HYBRID_ASR_MODELS, a catalog id, or a resolved model.
   * @defaultValue 'silero-vad'
   */
  readonly model?: string | ResolvedModel | undefined;
  /**
   * Speech probability above which a window counts as speech.
   * @defaultValue 0.5
   */
  readonly threshold?: number | undefined;
  /**
   * Silence that ends a segment, seconds.
   * @defaultValue 0.5
   */
  readonly minSilenceSec?: number | undefined;
  /**
   * Shortest segment reported, seconds.
   * @defaultValue 0.25
   */
  readonly minSpeechSec?: number | undefined;
  /**
   * Longest segment; longer speech is cut into pieces of at most this length (at the quietest
   * 20 ms in the second half of each piece), seconds. Enforced exactly.
   * @defaultValue 20
   */
  readonly maxSpeechSec?: number | undefined;
  /**
   * How the model is proven before this process loads it (a first load of given bytes runs in a
   * child process; the verdict is cached by content digest): cache folder, `cache: false` to
   * prove every time, `onProof`.
   * @defaultValue the cache under `cacheDir`
   */
  readonly proof?: Pick<ModelProofOptions, 'cache' | 'cacheDir' | 'onProof' | 'timeoutMs' | 'expectedSha256'> | undefined;
}

function checkNumber(name: string, v: number, min: number, max: number): void {
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new InvalidArgumentError(`\`${name}\` must be a number in ${min}..${max}, got ${v}`);
  }
}

/**
 * Streaming Silero VAD. Create with {@link VoiceActivityDetector.create} (which resolves,
 * validates and proves the model in a child process before any native object exists here: a
 * missing path would give sherpa a silent null handle, a corrupt file would abort the process).
 */
export class VoiceActivityDetector {
  /** Sample rate the detector works at, Hz. */
  readonly sampleRate: number;
  readonly #vad: SileroVad;
  readonly #maxSamples: number;

  private constructor(vad: SileroVad, sampleRate: number, maxSpeechSec: number) {
    this.#vad = vad;
    this.sampleRate = sampleRate;
    this.#maxSamples = Math.floor(maxSpeechSec * sampleRate);
  }

  /** Resolves, validates, proves (once per content digest) and loads the VAD model. */
  static async create(options: VadOptions = {}): Promise<VoiceActivityDetector> {
    const { config, dir, sampleRate, maxSpeechSec } = await VoiceActivityDetector.#prepare(options);
    const vad = SileroVad.load(config, Math.ceil(maxSpeechSec * 2 + 10), `VAD model in ${dir}`, dir);
    return new VoiceActivityDetector(vad, sampleRate, maxSpeechSec);
  }

  /**
   * Resolves, validates and proves the VAD model (in a child process, or from the proof cache)
   * without building a detector in this process: a later {@link VoiceActivityDetector.create}
   * with the same model is then a memory lookup plus the load. Takes the same options.
   * @throws ModelError when the model is missing, corrupt or can't run.
   */
  static async prove(options: VadOptions = {}): Promise<void> {
    await VoiceActivityDetector.#prepare(options);
  }

  static async #prepare(options: VadOptions): Promise<{ config: object; dir: string; sampleRate: number; maxSpeechSec: number }> {
    const threshold = options.threshold ?? 0.5;
    const minSilenceSec = options.minSilenceSec ?? 0.5;
    const minSpeechSec = options.minSpeechSec ?? 0.25;
    const maxSpeechSec = options.maxSpeechSec ?? 20;
    checkNumber('threshold', threshold, 0.01, 0.99);
    checkNumber('minSilenceSec', minSilenceSec, 0.01, 10);
    checkNumber('minSpeechSec', minSpeechSec, 0, 10);
    checkNumber('maxSpeechSec', maxSpeechSec, 1, 600);
    const spec = options.model ?? 'silero-vad';
    const model =
      typeof spec === 'string'
        ? await resolveModel(spec, {
            kind: 'vad',
            ...(options.modelsDir !== undefined ? { modelsDir: options.modelsDir } : {}),
            ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
            ...(options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {}),
          })
        : spec;
    if (model.manifest.kind !== 'vad') {
      throw new ModelError(`Model "${model.manifest.name}" is a ${model.manifest.kind} model, not a VAD`, { path: model.dir });
    }
    await validateModel(model, options.abortSignal ? { abortSignal: options.abortSignal } : {});
    const sampleRate = model.manifest.sampleRate;
    const file = model.paths['model'];
    if (file === undefined) throw new ModelError(`Model "${model.manifest.name}" names no \`model\` file`, { path: model.dir });
    const config = sileroConfig(
      { model: file, threshold, minSilenceDuration: minSilenceSec, minSpeechDuration: minSpeechSec, maxSpeechDuration: maxSpeechSec },
      sampleRate,
    );
    // Prove, then load: a corrupt graph aborts the process that loads it.
    const expected = expectedSha256Of(model);
    await proveSherpaConfig({ className: 'Vad', config }, `"${model.manifest.name}" (vad ${model.manifest.family})`, model.dir, {
      ...(expected ? { expectedSha256: expected } : {}),
      ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
      ...options.proof,
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
    return { config, dir: model.dir, sampleRate, maxSpeechSec };
  }

  /** Seconds of audio pushed so far. */
  get pushedSec(): number {
    return this.#vad.pushed / this.sampleRate;
  }

  /** Whether the detector is inside speech right now. */
  get inSpeech(): boolean {
    return this.#vad.inSpeech;
  }

  /** Feeds mono samples at {@link VoiceActivityDetector.sampleRate}; returns the segments they finished. */
  push(samples: Float32Array): SpeechSegment[] {
    return this.#split(this.#vad.push(samples));
  }

  /** Ends the stream (pads the last window, flushes) and returns the remaining segments. */
  finish(): SpeechSegment[] {
    const raw = this.#vad.finish();
    const total = this.pushedSec;
    return this.#split(raw)
      .map((s) =>
        s.end <= total ? s : { start: s.start, end: total, samples: s.samples.subarray(0, Math.max(0, Math.round((total - s.start) * this.sampleRate))) },
      )
      .filter((s) => s.end > s.start);
  }

  /** Clears all state, for reuse on a new stream. */
  reset(): void {
    this.#vad.reset();
  }

  #split(raw: readonly RawSpeech[]): SpeechSegment[] {
    const out: SpeechSegment[] = [];
    for (const seg of raw) {
      const samples = seg.samples;
      // sherpa's maxSpeechDuration only raises the threshold for a while; it is no hard limit
      // (a 2 s limit gave 4.6 s segments), so longer segments are cut here.
      // Silero ends a segment at a pause, except past maxSpeechDuration, where sherpa raises the
      // threshold until it can end it: a segment that long may stop in running speech.
      const forcedEnd = samples.length >= this.#maxSamples;
      for (const [a, b] of splitPoints(samples, this.#maxSamples, this.sampleRate)) {
        const s = seg.start + a;
        const continues = b < samples.length || forcedEnd;
        out.push({ start: s / this.sampleRate, end: (s + (b - a)) / this.sampleRate, samples: samples.subarray(a, b), ...(continues ? { continues } : {}) });
      }
    }
    return out;
  }
}

/**
 * Cuts `samples` into pieces of at most `max` samples, each cut at the quietest 20 ms frame in
 * the second half of the allowed span (a pause between words where there is one).
 */
function splitPoints(samples: Float32Array, max: number, rate: number): [number, number][] {
  const out: [number, number][] = [];
  const frame = Math.max(1, Math.round(rate * 0.02));
  let a = 0;
  while (samples.length - a > max) {
    let best = a + max;
    let bestEnergy = Infinity;
    for (let f = a + Math.floor(max / 2); f + frame <= a + max; f += frame) {
      let e = 0;
      for (let i = f; i < f + frame; i++) e += samples[i]! * samples[i]!;
      if (e < bestEnergy) {
        bestEnergy = e;
        best = f + (frame >> 1);
      }
    }
    out.push([a, best]);
    a = best;
  }
  if (samples.length > a) out.push([a, samples.length]);
  return out;
}
/** @internal The one Silero VAD wrapper (diarization uses it too). */
export { SileroVad, type RawSpeech, type SileroSettings } from './silero.js';
