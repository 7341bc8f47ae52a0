import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from '../../errors/index.js';
import type { ModelProofEvent, ResolvedModel } from '../../models/index.js';
import type { Complete } from '../../internal/options.js';

/** Endpoint (end-of-utterance) rules of streaming models, as sherpa-onnx defines them. */
export interface EndpointOptions {
  /**
   * Trailing silence that ends an utterance even when nothing was recognised, seconds.
   * @defaultValue 2.4
   */
  readonly rule1MinTrailingSilence?: number | undefined;
  /**
   * Trailing silence that ends an utterance after something was recognised, seconds.
   * @defaultValue 0.8
   */
  readonly rule2MinTrailingSilence?: number | undefined;
  /**
   * Longest utterance before a forced endpoint, seconds.
   * @defaultValue 20
   */
  readonly rule3MinUtteranceLength?: number | undefined;
}

/** Options of {@link NativeBackend}. Validated when the backend is constructed. */
export interface NativeBackendOptions {
  /**
   * The recognition model: a folder, a model name under `modelsDir` (HYBRID_ASR_MODELS), an
   * installed catalog id, or an already resolved model. Offline and streaming models both work.
   */
  readonly model: string | ResolvedModel;
  /**
   * The Silero VAD used to cut long audio (offline models) and for pseudo-streaming.
   * @defaultValue 'silero-vad'
   */
  readonly vadModel?: string | ResolvedModel | undefined;
  /** A speaker-embedding model; enables diarization (`capabilities.diarization`). */
  readonly speakerModel?: string | ResolvedModel | undefined;
  /**
   * onnxruntime threads per model.
   * @defaultValue half the cores, between 1 and 4
   */
  readonly threads?: number | undefined;
  /**
   * Execution provider. `auto` picks CoreML on Apple Silicon, else the CPU.
   * @defaultValue 'auto'
   */
  readonly provider?: 'auto' | 'cpu' | 'coreml' | 'cuda' | undefined;
  /**
   * Decoding method. Hotwords need `modified_beam_search` and a transducer model.
   * @defaultValue 'greedy_search'
   */
  readonly decodingMethod?: 'greedy_search' | 'modified_beam_search' | undefined;
  /**
   * Longest piece of audio the offline model decodes at once, seconds. Whisper models use at most
   * 27.5 (they decode 30 s and silently drop the rest; context and padding take the difference).
   * @defaultValue 20
   */
  readonly maxSegmentSec?: number | undefined;
  /**
   * Pseudo-streaming with an offline model: the open utterance is re-decoded for a partial at
   * most this often (milliseconds of audio).
   * @defaultValue 600
   */
  readonly partialIntervalMs?: number | undefined;
  /** Endpoint rules for streaming models. */
  readonly endpoint?: EndpointOptions | undefined;
  /**
   * Streaming models in `transcribeStream()`: finalise an utterance as soon as its speech ends
   * instead of waiting for the model's trailing-silence rule (about 1.3 s with the test model):
   * after 0.1 s of frames 35 dB under the utterance's loudest (clean audio: the final comes about
   * 0.11 s after the voice stops), or when the VAD (`vadModel`, if one is installed) hears the end
   * (noisy audio, about 0.3 s). The next utterance is decoded by a new recogniser stream that
   * starts where the last one was cut, exactly as a server session resumed there would decode it.
   * Set `false` for the model's own endpoint rule only (fewer, longer finals).
   * @defaultValue true
   */
  readonly fastEndpoint?: boolean | undefined;
  /**
   * Folder of model folders for names.
   * @defaultValue process.env.HYBRID_ASR_MODELS
   */
  readonly modelsDir?: string | undefined;
  /**
   * Cache folder of downloaded catalog models and of model proofs (`model-proofs.json`).
   * @defaultValue HYBRID_ASR_CACHE, else the OS cache folder
   */
  readonly cacheDir?: string | undefined;
  /**
   * Every model (recognizer, VAD, speaker) is proven before this process loads it: its first load
   * and a short decode run in a child process, so bytes that would abort sherpa-onnx become a
   * `ModelError` instead of a crashed process. `'cached'` proves given file bytes once (the
   * verdict is cached by content digest under `cacheDir`; later loads start no child: a first
   * load costs about 0.3–0.6 s more, a cached one milliseconds). `'always'` proves in a child on
   * every load. `true` and `false` are accepted for compatibility: `true` is `'always'`, `false`
   * is `'cached'` (a model is never loaded unproven).
   * @defaultValue 'cached'
   */
  readonly probe?: 'cached' | 'always' | boolean | undefined;
  /**
   * Called once per model proof, with where the verdict came from (`'child'`: a child process
   * loaded the model now; `'cache'` / `'memory'`: it was proven before). Useful to show
   * "checking model…" on a first run.
   */
  readonly onModelProof?: (event: ModelProofEvent) => void;
  /**
   * `id` of this backend in results and events.
   * @defaultValue 'native'
   */
  readonly id?: string | undefined;
}

/** Options with defaults applied. @internal */
export interface ResolvedNativeOptions {
  model: string | ResolvedModel;
  vadModel: string | ResolvedModel;
  speakerModel: string | ResolvedModel | undefined;
  threads: number;
  provider: 'cpu' | 'coreml' | 'cuda';
  decodingMethod: 'greedy_search' | 'modified_beam_search';
  maxSegmentSec: number;
  partialIntervalMs: number;
  endpoint: Complete<EndpointOptions>;
  modelsDir: string | undefined;
  cacheDir: string | undefined;
  probe: 'cached' | 'always';
  onModelProof: ((event: ModelProofEvent) => void) | undefined;
  fastEndpoint: boolean;
  id: string;
}

function isModelSpec(v: unknown): v is string | ResolvedModel {
  return (typeof v === 'string' && v.trim() !== '') || (typeof v === 'object' && v !== null && 'manifest' in v && 'paths' in v);
}

function num(name: string, v: number | undefined, def: number, min: number, max: number): number {
  const x = v ?? def;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min || x > max) {
    throw new InvalidArgumentError(`\`${name}\` must be a number in ${min}..${max}, got ${String(v)}`);
  }
  return x;
}

/** Validates options eagerly and applies defaults. @internal */
export function resolveNativeOptions(o: NativeBackendOptions): ResolvedNativeOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('NativeBackend needs an options object with `model`');
  if (!isModelSpec(o.model)) throw new InvalidArgumentError(`\`model\` must be a model folder, name or catalog id, got ${JSON.stringify(o.model)}`);
  if (o.vadModel !== undefined && !isModelSpec(o.vadModel)) throw new InvalidArgumentError('`vadModel` must be a model folder, name or catalog id');
  if (o.speakerModel !== undefined && !isModelSpec(o.speakerModel)) throw new InvalidArgumentError('`speakerModel` must be a model folder, name or catalog id');
  const threads = o.threads ?? Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new InvalidArgumentError(`\`threads\` must be a whole number in 1..64, got ${o.threads}`);
  const p = o.provider ?? 'auto';
  if (!['auto', 'cpu', 'coreml', 'cuda'].includes(p)) throw new InvalidArgumentError(`\`provider\` must be 'auto', 'cpu', 'coreml' or 'cuda', got ${JSON.stringify(p)}`);
  const provider = p === 'auto' ? (process.platform === 'darwin' && process.arch === 'arm64' ? 'coreml' : 'cpu') : p;
  const dm = o.decodingMethod ?? 'greedy_search';
  if (dm !== 'greedy_search' && dm !== 'modified_beam_search') {
    throw new InvalidArgumentError(`\`decodingMethod\` must be 'greedy_search' or 'modified_beam_search', got ${JSON.stringify(dm)}`);
  }
  const e = o.endpoint ?? {};
  if (o.probe !== undefined && ![true, false, 'cached', 'always'].includes(o.probe)) {
    throw new InvalidArgumentError(`\`probe\` must be 'cached', 'always' or a boolean, got ${JSON.stringify(o.probe)}`);
  }
  if (o.onModelProof !== undefined && typeof o.onModelProof !== 'function') throw new InvalidArgumentError('`onModelProof` must be a function');
  if (o.id !== undefined && (typeof o.id !== 'string' || o.id === '')) throw new InvalidArgumentError('`id` must be a non-empty string');
  return {
    model: o.model,
    vadModel: o.vadModel ?? 'silero-vad',
    speakerModel: o.speakerModel,
    threads,
    provider,
    decodingMethod: dm,
    maxSegmentSec: num('maxSegmentSec', o.maxSegmentSec, 20, 1, 600),
    partialIntervalMs: num('partialIntervalMs', o.partialIntervalMs, 600, 50, 60_000),
    endpoint: {
      rule1MinTrailingSilence: num('endpoint.rule1MinTrailingSilence', e.rule1MinTrailingSilence, 2.4, 0.1, 60),
      rule2MinTrailingSilence: num('endpoint.rule2MinTrailingSilence', e.rule2MinTrailingSilence, 0.8, 0.1, 60),
      rule3MinUtteranceLength: num('endpoint.rule3MinUtteranceLength', e.rule3MinUtteranceLength, 20, 1, 600),
    },
    modelsDir: o.modelsDir ?? process.env.HYBRID_ASR_MODELS,
    cacheDir: o.cacheDir,
    probe: o.probe === true || o.probe === 'always' ? 'always' : 'cached',
    onModelProof: o.onModelProof,
    fastEndpoint: o.fastEndpoint ?? true,
    id: o.id ?? 'native',
  };
}
