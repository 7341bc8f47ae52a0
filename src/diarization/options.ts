/**
 * Options shared by {@link Diarizer} and {@link OnlineDiarizer}, and their validation.
 * @module
 */
import { InvalidArgumentError } from '../errors/index.js';
import { type Complete, definedOnly } from '../internal/options.js';

/** Models and settings of the VAD → windows → embeddings → clustering pipeline. */
export interface DiarizerOptions {
  /**
   * Speaker embedding model: an `.onnx` file, or a model folder (with `model.json`, or a single
   * `.onnx`). Any model sherpa-onnx's `SpeakerEmbeddingExtractor` loads (3D-Speaker, WeSpeaker,
   * NeMo); embeddings need not be normalised.
   */
  readonly embeddingModel: string;
  /**
   * Silero VAD model (`.onnx` file or folder). Required unless {@link segmentationModel} is given.
   */
  readonly vadModel?: string | undefined;
  /**
   * A pyannote segmentation model (`.onnx` file or folder). When given, offline diarization runs
   * through sherpa-onnx's own `OfflineSpeakerDiarization` (pyannote segmentation + embeddings +
   * clustering) instead of the VAD pipeline. Live diarization always uses the VAD pipeline.
   */
  readonly segmentationModel?: string | undefined;
  /**
   * Length of the embedding windows, seconds (1.5–3 s works best).
   * @defaultValue 2
   */
  readonly windowSec?: number | undefined;
  /**
   * Length of the windows that decide the number of speakers and their centroids, seconds. When
   * longer than {@link windowSec} (the default), clustering runs on these steadier embeddings and
   * the shorter windows are labelled by nearest centroid (sharper turn boundaries); set it equal to
   * `windowSec` to cluster the short windows directly.
   * @defaultValue max(3, windowSec)
   */
  readonly clusterWindowSec?: number | undefined;
  /**
   * Step between windows, seconds; at most {@link windowSec}.
   * @defaultValue 1
   */
  readonly hopSec?: number | undefined;
  /**
   * Cosine similarity under which clusters stop merging (offline) or a window is not matched to a
   * known speaker (live). Higher finds more speakers.
   * @defaultValue 0.55
   */
  readonly threshold?: number | undefined;
  /**
   * Speech probability above which Silero VAD reports speech.
   * @defaultValue 0.5
   */
  readonly vadThreshold?: number | undefined;
  /**
   * Shortest silence that ends a speech span, seconds. Short values split speech at the pauses
   * between speakers.
   * @defaultValue 0.1
   */
  readonly minSilenceSec?: number | undefined;
  /**
   * Threads for each ONNX model.
   * @defaultValue 1
   */
  readonly numThreads?: number | undefined;
}

/** {@link DiarizerOptions} with defaults applied. @internal */
export type ResolvedDiarizerOptions = Complete<Omit<DiarizerOptions, 'vadModel' | 'segmentationModel'>> & {
  readonly vadModel: string | undefined;
  readonly segmentationModel: string | undefined;
};

const DEFAULTS = {
  windowSec: 2,
  hopSec: 1,
  threshold: 0.6,
  vadThreshold: 0.5,
  minSilenceSec: 0.1,
  numThreads: 1,
} as const;

/** @internal */
export function num(name: string, v: unknown, min: number, max: number, opts: { minExclusive?: boolean; integer?: boolean } = {}): number {
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (opts.minExclusive ? v > min : v >= min) &&
    v <= max &&
    (!opts.integer || Number.isInteger(v));
  if (!ok) {
    const kind = opts.integer ? 'an integer' : 'a finite number';
    const lo = `${opts.minExclusive ? '>' : '>='} ${min}`;
    const hi = Number.isFinite(max) ? ` and <= ${max}` : '';
    throw new InvalidArgumentError(`\`${name}\` must be ${kind} ${lo}${hi}, got ${String(v)}`);
  }
  return v;
}

function str(name: string, v: unknown, required: boolean): string | undefined {
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v === '') {
    throw new InvalidArgumentError(`\`${name}\` must be a non-empty path string, got ${String(v)}`);
  }
  return v;
}

/** Validates options eagerly (types and ranges only; files are checked on load). @internal */
export function resolveDiarizerOptions(options: DiarizerOptions): ResolvedDiarizerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`\`options\` must be an object with at least \`embeddingModel\`, got ${String(options)}`);
  }
  const o = { ...DEFAULTS, ...definedOnly(options) };
  const embeddingModel = str('embeddingModel', o.embeddingModel, true)!;
  const segmentationModel = str('segmentationModel', o.segmentationModel, false);
  const vadModel = str('vadModel', o.vadModel, segmentationModel === undefined);
  const windowSec = num('windowSec', o.windowSec, 0.5, 10);
  const hopSec = num('hopSec', o.hopSec, 0.1, windowSec);
  const clusterWindowSec = num('clusterWindowSec', options.clusterWindowSec ?? Math.max(3, windowSec), windowSec, 10);
  return {
    embeddingModel,
    clusterWindowSec,
    vadModel,
    segmentationModel,
    windowSec,
    hopSec,
    threshold: num('threshold', o.threshold, -1, 1),
    vadThreshold: num('vadThreshold', o.vadThreshold, 0, 1, { minExclusive: true }),
    minSilenceSec: num('minSilenceSec', o.minSilenceSec, 0.01, 10),
    numThreads: num('numThreads', o.numThreads, 1, 64, { integer: true }),
  };
}

/** Per-call clustering options. */
export interface ClusteringCallOptions {
  /** Exact number of speakers, when known. */
  readonly numSpeakers?: number | undefined;
  /** Fewest speakers to report. */
  readonly minSpeakers?: number | undefined;
  /** Most speakers to report. */
  readonly maxSpeakers?: number | undefined;
  /** Overrides {@link DiarizerOptions.threshold} for this call. */
  readonly threshold?: number | undefined;
  /** Cancels the call; it rejects with `AbortedError`. */
  readonly abortSignal?: AbortSignal | undefined;
}

/** @internal */
export function checkCallOptions(o: ClusteringCallOptions | undefined): ClusteringCallOptions {
  if (o === undefined) return {};
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError(`\`options\` must be an object, got ${String(o)}`);
  if (o.numSpeakers !== undefined) num('numSpeakers', o.numSpeakers, 1, 1000, { integer: true });
  if (o.minSpeakers !== undefined) num('minSpeakers', o.minSpeakers, 1, 1000, { integer: true });
  if (o.maxSpeakers !== undefined) num('maxSpeakers', o.maxSpeakers, 1, 1000, { integer: true });
  if (o.minSpeakers !== undefined && o.maxSpeakers !== undefined && o.minSpeakers > o.maxSpeakers) {
    throw new InvalidArgumentError(`\`minSpeakers\` (${o.minSpeakers}) must be <= \`maxSpeakers\` (${o.maxSpeakers})`);
  }
  if (o.threshold !== undefined) num('threshold', o.threshold, -1, 1);
  if (o.abortSignal !== undefined && !(o.abortSignal instanceof AbortSignal)) {
    throw new InvalidArgumentError('`abortSignal` must be an AbortSignal');
  }
  return o;
}
