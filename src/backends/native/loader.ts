import type { BackendCapabilities } from '../../spec/index.js';
import { ModelError } from '../../errors/index.js';
import { type SherpaOfflineRecognizer, type SherpaOnlineRecognizer, loadSherpa } from '../../internal/sherpa.js';
import {
  type ModelProofOptions,
  type ResolvedModel,
  expectedSha256Of,
  proveSherpaConfig,
  resolveModel,
  sherpaConfigFor,
  validateModel,
} from '../../models/index.js';
import { VoiceActivityDetector } from '../../vad/index.js';
import type { ResolvedNativeOptions } from './options.js';
import { ScratchArrays, VadPool } from './pools.js';

/** Whisper decodes at most 30 s and silently drops the rest. */
const WHISPER_LIMIT_SEC = 30;
/** What is decoded beyond a piece: context + padding on both sides, or the partial buffer's slack. */
const WHISPER_MARGIN_SEC = 2.5;

/** What every loaded backend has, whatever the model's kind. */
interface LoadedCommon {
  readonly model: ResolvedModel;
  /** The proven VAD model, when one is in use. */
  readonly vad: ResolvedModel | undefined;
  readonly speaker: ResolvedModel | undefined;
  readonly capabilities: BackendCapabilities;
  /** Longest piece decoded at once, seconds. */
  readonly maxSegmentSec: number;
}

/** An offline model: long audio is cut by the VAD. */
export interface LoadedOffline extends LoadedCommon {
  readonly kind: 'offline';
  readonly recognizer: SherpaOfflineRecognizer;
  readonly vads: VadPool;
  readonly scratch: ScratchArrays;
}

/** A streaming model: decoded chunk by chunk with endpointing. */
export interface LoadedOnline extends LoadedCommon {
  readonly kind: 'streaming';
  readonly recognizer: SherpaOnlineRecognizer;
}

/** A loaded backend's models and recognizer. */
export type Loaded = LoadedOffline | LoadedOnline;

/** The model kinds {@link ModelLoader.resolve} can be asked for. */
type Kind = 'offline' | 'streaming' | 'vad' | 'speaker-embedding';

/**
 * Resolves, validates, proves and loads the models of one backend: no model bytes reach
 * sherpa-onnx in this process before a child process (or the verdict cache) has proven them.
 */
export class ModelLoader {
  readonly #o: ResolvedNativeOptions;

  /** @param options - the backend's resolved options. */
  constructor(options: ResolvedNativeOptions) {
    this.#o = options;
  }

  /** Resolves `spec` (a name, folder or catalog id) and checks its kind and files. */
  async resolve(spec: string | ResolvedModel, kind: Kind | Kind[]): Promise<ResolvedModel> {
    const m =
      typeof spec === 'string'
        ? await resolveModel(spec, {
            kind,
            ...(this.#o.modelsDir !== undefined ? { modelsDir: this.#o.modelsDir } : {}),
            ...(this.#o.cacheDir !== undefined ? { cacheDir: this.#o.cacheDir } : {}),
          })
        : spec;
    const kinds: readonly string[] = Array.isArray(kind) ? kind : [kind];
    if (!kinds.includes(m.manifest.kind)) {
      throw new ModelError(`Model "${m.manifest.name}" is a ${m.manifest.kind} model; expected ${kinds.join(' or ')}`, { path: m.dir });
    }
    await validateModel(m);
    return m;
  }

  /** Options of every model proof this backend runs. */
  #proofOptions(model?: ResolvedModel): ModelProofOptions {
    const expected = model && expectedSha256Of(model);
    return {
      ...(expected ? { expectedSha256: expected } : {}),
      cache: this.#o.probe === 'cached',
      ...(this.#o.cacheDir !== undefined ? { cacheDir: this.#o.cacheDir } : {}),
      ...(this.#o.onModelProof ? { onProof: this.#o.onModelProof } : {}),
    };
  }

  /** A VAD on `model`, proven (in a child, or from the cache) before it is built. */
  createVad(model: ResolvedModel, maxSpeechSec: number, extra: { minSilenceSec?: number } = {}): Promise<VoiceActivityDetector> {
    return VoiceActivityDetector.create({ model, maxSpeechSec, ...extra, proof: this.#proofOptions(model) });
  }

  /** Proves the VAD on `model` without building one here (a short clip never needs it). */
  #proveVad(model: ResolvedModel, maxSpeechSec: number): Promise<void> {
    return VoiceActivityDetector.prove({ model, maxSpeechSec, proof: this.#proofOptions(model) });
  }

  /** Resolves, proves and loads everything the options name. */
  async load(): Promise<Loaded> {
    const o = this.#o;
    const sherpa = loadSherpa();
    const model = await this.resolve(o.model, ['offline', 'streaming']);
    const isOffline = model.manifest.kind === 'offline';
    // Offline models need the VAD for long audio and pseudo-streaming.
    // Streaming models use it, when one is installed, for fast endpointing.
    const vad = isOffline
      ? await this.resolve(o.vadModel, 'vad')
      : o.fastEndpoint
        ? await this.resolve(o.vadModel, 'vad').catch(() => undefined)
        : undefined;
    const speaker = o.speakerModel !== undefined ? await this.resolve(o.speakerModel, 'speaker-embedding') : undefined;
    const family = model.manifest.family.replace('-', '_');
    const { className, config } = sherpaConfigFor(model, { numThreads: o.threads, provider: o.provider });
    const hotwords = family === 'transducer' && o.decodingMethod === 'modified_beam_search' && isOffline;
    const cfg: Record<string, unknown> = isOffline
      ? { ...config, decodingMethod: o.decodingMethod }
      : { ...config, decodingMethod: o.decodingMethod, enableEndpoint: true, ...o.endpoint };
    // Prove, then load: the exact config runs first in a child process (or its verdict is cached),
    // so bytes that abort sherpa-onnx never reach it in this process.
    await proveSherpaConfig({ className, config: cfg }, `"${model.manifest.name}" (${model.manifest.kind} ${model.manifest.family})`, model.dir, this.#proofOptions(model));
    // The VAD is proven now, so that a bad VAD fails the load, not a later call; it is built when
    // a call first needs it (a clip that fits one decode window never does: ~140 ms saved).
    const whisper = family === 'whisper';
    const maxSegmentSec = whisper ? Math.min(o.maxSegmentSec, WHISPER_LIMIT_SEC - WHISPER_MARGIN_SEC) : o.maxSegmentSec;
    const vadOk = vad ? await this.#proveVad(vad, maxSegmentSec).then(() => true, (e: unknown) => (isOffline ? Promise.reject(e) : false)) : false;
    if (speaker) {
      // Proven with the config the diarizer's extractor loads (CPU), so its synchronous load hits the verdict.
      const sc = sherpaConfigFor(speaker, { numThreads: o.threads, provider: 'cpu' });
      await proveSherpaConfig(sc, `"${speaker.manifest.name}" (speaker-embedding ${speaker.manifest.family})`, speaker.dir, this.#proofOptions(speaker));
    }
    const languages = model.manifest.languages && model.manifest.languages.length ? model.manifest.languages : 'any';
    const common: LoadedCommon = {
      model,
      vad: vadOk ? vad : undefined,
      speaker,
      maxSegmentSec,
      capabilities: {
        streaming: !isOffline,
        diarization: speaker !== undefined,
        offline: true,
        wordTimestamps: true,
        languages,
        hotwords,
        sampleRate: model.manifest.sampleRate,
        maxWindowSec: whisper ? WHISPER_LIMIT_SEC : maxSegmentSec,
      },
    };
    try {
      if (isOffline) {
        const vadModel = vad!;
        return {
          ...common,
          kind: 'offline',
          recognizer: new sherpa.OfflineRecognizer(cfg),
          vads: new VadPool(() => this.createVad(vadModel, maxSegmentSec)),
          scratch: new ScratchArrays(),
        };
      }
      return { ...common, kind: 'streaming', recognizer: new sherpa.OnlineRecognizer(cfg) };
    } catch (e) {
      throw new ModelError(`sherpa-onnx could not load model "${model.manifest.name}" (${model.dir}): ${(e as Error).message}`, { path: model.dir, cause: e });
    }
  }
}
