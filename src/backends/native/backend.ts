import type {
  ASRBackend,
  AudioChunk,
  AudioInput,
  BackendCapabilities,
  Segment,
  StreamConfig,
  Transcription,
  TranscriptionConfig,
  TranscriptionEvent,
  TranscriptionWarning,
} from '../../spec/index.js';
import { ASRError, BackendUnavailableError, InvalidArgumentError, throwIfAborted, toAbortError } from '../../errors/index.js';
import { ChunkNormalizer, decodeAudio } from '../../audio/index.js';
import { abortable } from '../../internal/abort.js';
import type { ResolvedModel } from '../../models/index.js';
import type { Diarizer } from '../../diarization/index.js';
import { transcribeBatch } from './batch.js';
import { type Loaded, ModelLoader } from './loader.js';
import { onlineStream } from './online-stream.js';
import { type NativeBackendOptions, type ResolvedNativeOptions, resolveNativeOptions } from './options.js';
import { vadStream } from './vad-stream.js';

const UNLOADED_CAPS: BackendCapabilities = {
  streaming: false,
  diarization: false,
  offline: true,
  wordTimestamps: true,
  languages: [],
  hotwords: false,
};

/**
 * On-device speech recognition through the sherpa-onnx-node native addon: private, offline, no
 * server. Works with offline models (long audio is cut by Silero VAD into pieces of at most
 * `maxSegmentSec`, decoded off the event loop) and streaming models (chunk-by-chunk decoding with
 * endpointing); either kind can transcribe files and streams.
 *
 * Constructing a backend opens nothing; the first call (or {@link NativeBackend.load}) resolves
 * the models, validates their files (a corrupt model would abort the process inside sherpa) and
 * loads them.
 *
 * The class is a coordinator: loading is `loader.ts`, files and buffers `batch.ts` (long files
 * for offline models `offline-file.ts`), live streams `online-stream.ts` (streaming models) and
 * `vad-stream.ts` (offline models behind the VAD).
 *
 * @example
 * ```ts
 * const asr = new NativeBackend({ model: 'tiny-ctc-en-offline' });
 * const { text, segments } = await asr.transcribe('meeting.wav');
 * ```
 */
export class NativeBackend implements ASRBackend {
  /** `id` used in results (`Transcription.backend`). */
  readonly id: string;
  readonly #o: ResolvedNativeOptions;
  readonly #loader: ModelLoader;
  #loading: Promise<Loaded> | undefined;
  #loaded: Loaded | undefined;
  #disposed = false;
  #diarizer: Promise<Diarizer> | undefined;

  /** @param options - the model and settings; validated now, loaded on first use. */
  constructor(options: NativeBackendOptions) {
    this.#o = resolveNativeOptions(options);
    this.#loader = new ModelLoader(this.#o);
    this.id = this.#o.id;
  }

  /** Human-readable name, including the loaded model's name once loaded. */
  get name(): string {
    const m = this.#loaded?.model.manifest.name ?? (typeof this.#o.model === 'string' ? this.#o.model : this.#o.model.manifest.name);
    return `sherpa-onnx (${m})`;
  }

  /** What the loaded model can do; conservative placeholders until the backend has loaded. */
  get capabilities(): BackendCapabilities {
    return this.#loaded?.capabilities ?? UNLOADED_CAPS;
  }

  /** The resolved recognition model, once loaded. */
  get model(): ResolvedModel | undefined {
    return this.#loaded?.model;
  }

  /**
   * Resolves, validates and loads the models. Called by every operation; call it yourself to load
   * ahead of time. A failed load is not cached: a later call tries again.
   */
  async load(options: { readonly abortSignal?: AbortSignal } = {}): Promise<void> {
    await this.#ensure(options.abortSignal);
  }

  async #ensure(signal?: AbortSignal): Promise<Loaded> {
    if (this.#disposed) throw new BackendUnavailableError(`Backend "${this.id}" has been disposed`);
    throwIfAborted(signal);
    if (this.#loaded) return this.#loaded;
    this.#loading ??= this.#loader.load().then(
      (l) => (this.#loaded = l),
      (e: unknown) => {
        this.#loading = undefined;
        throw e;
      },
    );
    const l = await this.#loading;
    if (this.#disposed) throw new BackendUnavailableError(`Backend "${this.id}" has been disposed`);
    return l;
  }

  /** True when the addon and the models load. Never throws. */
  async isAvailable(options: { readonly abortSignal?: AbortSignal } = {}): Promise<boolean> {
    try {
      await this.#ensure(options.abortSignal);
      return true;
    } catch {
      return false;
    }
  }

  /** Soft gaps and impossible requests of one call. */
  #check(l: Loaded, config: TranscriptionConfig): TranscriptionWarning[] {
    const warnings: TranscriptionWarning[] = [];
    const langs = l.capabilities.languages;
    if (config.language !== undefined) {
      if (typeof config.language !== 'string' || config.language === '') throw new InvalidArgumentError('`language` must be a non-empty string such as "en"');
      const lang = config.language.toLowerCase().split('-')[0]!;
      if (langs !== 'any' && !langs.includes(lang)) {
        throw new BackendUnavailableError(
          `Model "${l.model.manifest.name}" recognises ${langs.join(', ')}; language "${config.language}" was requested`,
        );
      }
    }
    if (config.diarization && !l.capabilities.diarization) {
      warnings.push({ type: 'unsupported', feature: 'diarization', details: 'no speaker-embedding model is configured (`speakerModel`)' });
    }
    if (config.hotwords !== undefined) {
      if (!Array.isArray(config.hotwords) || config.hotwords.some((h) => typeof h !== 'string')) {
        throw new InvalidArgumentError('`hotwords` must be an array of strings');
      }
      if (config.hotwords.length && !l.capabilities.hotwords) {
        warnings.push({
          type: 'unsupported',
          feature: 'hotwords',
          details: `hotwords need an offline transducer model with decodingMethod 'modified_beam_search'; "${l.model.manifest.name}" is ${l.model.manifest.family}`,
        });
      }
    }
    if (config.punctuation) {
      warnings.push({ type: 'unsupported', feature: 'punctuation', details: `model "${l.model.manifest.name}" produces no punctuation` });
    }
    return warnings;
  }

  /** Transcribes a whole recording (any length: memory stays bounded unless diarization is asked). */
  async transcribe(audio: AudioInput, options: TranscriptionConfig = {}): Promise<Transcription> {
    const signal = options.abortSignal;
    const t0 = performance.now();
    try {
      const l = await this.#ensure(signal);
      const warnings = this.#check(l, options);
      const rate = l.model.manifest.sampleRate;
      const wantDiarization = Boolean(options.diarization) && l.capabilities.diarization;
      // Diarization needs the whole signal twice (ASR and embeddings): decode it once.
      const whole = wantDiarization ? (await decodeAudio(audio, { sampleRate: rate, ...(signal ? { abortSignal: signal } : {}) })).samples : undefined;
      const hotwords = l.capabilities.hotwords && options.hotwords?.length ? options.hotwords.join('/') : undefined;
      const { segments, durationSec, progress } = await transcribeBatch(l, audio, { whole, hotwords, onProgress: options.onProgress, signal });
      if (wantDiarization && whole) {
        const { applyDiarization } = await import('../../merge/index.js');
        const diarizer = await this.#getDiarizer(l);
        const d = typeof options.diarization === 'object' ? options.diarization : {};
        const turns = await diarizer.diarize(whole, {
          ...(d.numSpeakers !== undefined ? { numSpeakers: d.numSpeakers } : {}),
          ...(signal ? { abortSignal: signal } : {}),
        });
        throwIfAborted(signal);
        const base = this.#assemble(segments, durationSec, t0, warnings, options.language);
        const withSpeakers = applyDiarization(base, turns);
        progress.finish(durationSec);
        return { ...withSpeakers, processingTimeSec: (performance.now() - t0) / 1000 };
      }
      progress.finish(durationSec);
      return this.#assemble(segments, durationSec, t0, warnings, options.language);
    } catch (e) {
      throw toAbortError(signal, e);
    }
  }

  #assemble(
    segments: Segment[],
    durationSec: number,
    t0: number,
    warnings: TranscriptionWarning[],
    language: string | undefined,
  ): Transcription {
    const langs = this.#loaded?.capabilities.languages;
    const lang = language ?? (typeof langs === 'object' && langs.length === 1 ? langs[0] : undefined);
    return {
      text: segments.map((s) => s.text).join(' '),
      segments,
      ...(lang !== undefined ? { language: lang } : {}),
      durationSec,
      processingTimeSec: (performance.now() - t0) / 1000,
      backend: this.id,
      warnings,
    };
  }

  /** The diarizer, built on first use (only when a speaker model is configured). */
  async #getDiarizer(l: Loaded): Promise<Diarizer> {
    this.#diarizer ??= (async () => {
      const { Diarizer: D } = await import('../../diarization/index.js');
      const vad = l.vad ?? (await this.#loader.resolve(this.#o.vadModel, 'vad'));
      return new D({ vadModel: vad.paths.model!, embeddingModel: l.speaker!.paths.model!, numThreads: this.#o.threads });
    })().catch((e: unknown) => {
      this.#diarizer = undefined;
      throw e;
    });
    return this.#diarizer;
  }

  /**
   * Live transcription. Streaming models decode chunk by chunk with endpointing (partials grow;
   * a final per utterance). Offline models use the VAD: the open utterance is re-decoded for a
   * partial every `partialIntervalMs`, and a final comes when the VAD closes the utterance.
   * Breaking out of the loop stops reading `audio` and frees the stream.
   */
  async *transcribeStream(audio: AsyncIterable<AudioChunk>, options: StreamConfig = {}): AsyncGenerator<TranscriptionEvent> {
    const signal = options.abortSignal;
    let l: Loaded;
    try {
      l = await this.#ensure(signal);
    } catch (e) {
      throw toAbortError(signal, e);
    }
    const warnings = this.#check(l, options);
    for (const w of warnings) yield { type: 'warning', warning: w };
    const input = { audio: abortable(audio, signal), norm: new ChunkNormalizer(l.model.manifest.sampleRate), partials: options.partials ?? true, signal };
    try {
      if (l.kind === 'streaming') {
        const vad = l.vad;
        const createEndVad = vad && ((minSilenceSec: number) => this.#loader.createVad(vad, l.maxSegmentSec, { minSilenceSec }));
        yield* onlineStream(l, input, createEndVad, this.#o.fastEndpoint);
      } else {
        yield* vadStream(l, input, this.#o.partialIntervalMs);
      }
    } catch (e) {
      const err = toAbortError(signal, e);
      if (ASRError.isInstance(err) && err.code !== 'aborted') yield { type: 'error', error: err, recoverable: false };
      throw err;
    }
  }

  /** Releases the models. Idempotent; later calls reject with `BackendUnavailableError`. */
  dispose(): Promise<void> {
    this.#disposed = true;
    this.#loaded = undefined;
    this.#loading = undefined;
    this.#diarizer = undefined;
    return Promise.resolve();
  }
}
