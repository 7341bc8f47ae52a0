/**
 * Offline speaker diarization: Silero VAD → overlapping windows → speaker embeddings →
 * agglomerative clustering; or sherpa-onnx's pyannote pipeline when a segmentation model is given.
 * @module
 */
import { InvalidArgumentError, throwIfAborted, BackendUnavailableError } from '../errors/index.js';
import type { SherpaOfflineSpeakerDiarization } from '../internal/sherpa.js';
import { decodeAudio } from '../audio/index.js';
import type { AudioInput, SpeakerTurn } from '../spec/index.js';
import {
  absorbSmallClusters,
  agglomerativeCluster,
  centroids,
  cutDendrogram,
  dendrogram,
  dot,
  l2normalize,
  relabelByFirstAppearance,
} from './clustering.js';
import { EmbeddingExtractor, modelFile, openPyannote, SpeechDetector, type Span } from './native.js';
import {
  checkCallOptions,
  resolveDiarizerOptions,
  type ClusteringCallOptions,
  type DiarizerOptions,
  type ResolvedDiarizerOptions,
} from './options.js';
import { makeWindows, windowsToTurns, type Window } from './windows.js';

/** Sample rate every diarizer works at. */
export const DIARIZATION_SAMPLE_RATE = 16000;

/** Options of {@link Diarizer.diarize}. */
export type DiarizeOptions = ClusteringCallOptions;

/**
 * Audio {@link Diarizer.diarize} accepts: a `Float32Array` of 16 kHz mono samples in [-1, 1] (used
 * as is), or any other {@link AudioInput} (a WAV path, URL, bytes, stream, or raw PCM with its
 * format), which is decoded, downmixed and resampled to 16 kHz first.
 */
export type DiarizationAudio = AudioInput;

/** Shortest speech span that gets its own embedding window, seconds; shorter ones copy a neighbour. */
const MIN_WINDOW_SEC = 0.5;
/** Windows clustered exactly; beyond this, a sample is clustered and the rest join the nearest centroid. */
const MAX_EXACT_WINDOWS = 4000;

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** 16 kHz mono samples of `audio`. */
async function toSamples(audio: DiarizationAudio, signal?: AbortSignal): Promise<Float32Array> {
  if (audio instanceof Float32Array) return audio;
  const decoded = await decodeAudio(audio, {
    sampleRate: DIARIZATION_SAMPLE_RATE,
    ...(signal === undefined ? {} : { abortSignal: signal }),
  });
  return decoded.samples;
}

/** Speaker labels "S1", "S2", … for cluster indices numbered by first appearance. @internal */
export const speakerName = (i: number): string => `S${i + 1}`;

/**
 * Finds who spoke when in a whole recording.
 *
 * Constructing one opens nothing; models load on the first {@link Diarizer.diarize} (or
 * {@link Diarizer.load}), after their files are checked, so a missing or corrupt model is a
 * {@link ModelError} rather than a crash.
 *
 * @example
 * ```ts
 * const diarizer = new Diarizer({ vadModel: 'models/silero-vad', embeddingModel: 'models/tiny-speaker-embedding' });
 * const turns = await diarizer.diarize(samples16k); // [{ speaker: 'S1', start: 0.75, end: 2.3 }, …]
 * ```
 */
export class Diarizer {
  /** Settings with defaults applied. */
  readonly #options: ResolvedDiarizerOptions;
  #vadPath: string | undefined;
  #extractor: EmbeddingExtractor | undefined;
  #pyannote: SherpaOfflineSpeakerDiarization | undefined;
  #disposed = false;

  /**
   * @param options - models and settings; validated here (types and ranges), files on load.
   * @throws InvalidArgumentError naming the bad option.
   */
  constructor(options: DiarizerOptions) {
    this.#options = resolveDiarizerOptions(options);
  }

  /**
   * Checks the model files and loads them. Idempotent; called by {@link Diarizer.diarize}.
   * @throws ModelError for a missing, corrupt or unloadable model.
   * @throws BackendUnavailableError when the sherpa-onnx-node addon can't load, or after dispose.
   */
  load(): void {
    if (this.#disposed) throw new BackendUnavailableError('This Diarizer has been disposed');
    if (this.#extractor !== undefined || this.#pyannote !== undefined) return;
    const o = this.#options;
    const emb = modelFile(o.embeddingModel, 'Speaker embedding', 'speaker-embedding');
    if (o.segmentationModel !== undefined) {
      this.#pyannote = openPyannote(modelFile(o.segmentationModel, 'Segmentation'), emb, o.numThreads, o.threshold);
      return;
    }
    this.#vadPath = modelFile(o.vadModel!, 'VAD', 'vad');
    this.#extractor = new EmbeddingExtractor(emb, o.numThreads);
  }

  /** Speech spans of `samples` (Silero VAD). */
  async #speechSpans(samples: Float32Array, signal?: AbortSignal): Promise<Span[]> {
    this.load();
    const o = this.#options;
    const vad = new SpeechDetector({
      model: this.#vadPath!,
      threshold: o.vadThreshold,
      minSilenceDuration: o.minSilenceSec,
      minSpeechDuration: 0.1,
      maxSpeechDuration: 20,
    });
    const spans: Span[] = [];
    const step = DIARIZATION_SAMPLE_RATE * 30;
    for (let i = 0; i < samples.length; i += step) {
      spans.push(...vad.push(samples.subarray(i, Math.min(samples.length, i + step))));
      await yieldToLoop();
      throwIfAborted(signal);
    }
    spans.push(...vad.finish());
    return spans.map((s) => trimSpan(samples, s)).filter((s) => s.end > s.start);
  }

  /** Unit-length embeddings of `windows` of `samples`. */
  async #embed(samples: Float32Array, windows: readonly Window[], signal?: AbortSignal): Promise<Float32Array[]> {
    this.load();
    const ex = this.#extractor!;
    const out: Float32Array[] = [];
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i]!;
      const a = Math.max(0, Math.round(w.start * DIARIZATION_SAMPLE_RATE));
      const b = Math.min(samples.length, Math.round(w.end * DIARIZATION_SAMPLE_RATE));
      out.push(l2normalize(ex.compute(samples.subarray(a, b))));
      if (i % 64 === 63) {
        await yieldToLoop();
        throwIfAborted(signal);
      }
    }
    return out;
  }

  /**
   * Speaker turns of a whole recording, labelled "S1", "S2", … in order of first appearance,
   * sorted by start. Silence gets no turn.
   *
   * @param audio - 16 kHz mono samples, or any audio input (decoded and resampled first).
   * @param options - known speaker count or bounds, threshold, abort signal.
   * @throws InvalidArgumentError for bad options or non-finite samples; InvalidAudioError for
   *   undecodable audio; ModelError for bad models;
   *   AbortedError when aborted.
   */
  async diarize(audio: DiarizationAudio, options?: DiarizeOptions): Promise<SpeakerTurn[]> {
    const call = checkCallOptions(options);
    const signal = call.abortSignal;
    throwIfAborted(signal);
    const samples = await toSamples(audio, signal);
    for (let i = 0; i < samples.length; i++) {
      if (!Number.isFinite(samples[i]!)) {
        throw new InvalidArgumentError(`\`audio\` holds a non-finite sample (${samples[i]}) at index ${i}`);
      }
    }
    this.load();
    if (this.#pyannote !== undefined) return this.#diarizePyannote(samples, call);
    const spans = await this.#speechSpans(samples, signal);
    const windows = makeWindows(spans, this.#options.windowSec, this.#options.hopSec, MIN_WINDOW_SEC);
    const embeddings = await this.#embed(samples, windows, signal);
    throwIfAborted(signal);
    const threshold = call.threshold ?? this.#options.threshold;
    let labels: Int32Array;
    const { clusterWindowSec, windowSec, hopSec } = this.#options;
    if (clusterWindowSec > windowSec) {
      // Two scales: longer windows (steadier embeddings) decide how many speakers there are and
      // where their centroids lie; the shorter windows are then labelled by nearest centroid,
      // which places the turn boundaries more precisely.
      const longWindows = makeWindows(spans, clusterWindowSec, hopSec, MIN_WINDOW_SEC);
      const longEmbeddings = await this.#embed(samples, longWindows, signal);
      const longLabels = clusterEmbeddings(longEmbeddings, { ...call, threshold });
      const k = longLabels.reduce((a, l) => Math.max(a, l + 1), 0);
      const cents = centroids(longEmbeddings, longLabels, k);
      labels = relabelByFirstAppearance(
        Int32Array.from(embeddings, (v) => {
          let best = 0;
          let bestSim = -Infinity;
          for (let c = 0; c < k; c++) {
            const sim = dot(v, cents[c]!);
            if (sim > bestSim) {
              bestSim = sim;
              best = c;
            }
          }
          return best;
        }),
      );
    } else {
      labels = clusterEmbeddings(embeddings, { ...call, threshold });
    }
    return windowsToTurns(spans, windows, labels, speakerName);
  }

  #diarizePyannote(samples: Float32Array, call: ClusteringCallOptions): SpeakerTurn[] {
    const sd = this.#pyannote!;
    sd.setConfig({
      clustering: {
        numClusters: call.numSpeakers ?? -1,
        threshold: 1 - (call.threshold ?? this.#options.threshold),
      },
    });
    const segs = sd.process(samples);
    const names = new Map<number, string>();
    return [...segs]
      .sort((a, b) => a.start - b.start)
      .map((s) => {
        let n = names.get(s.speaker);
        if (n === undefined) {
          n = speakerName(names.size);
          names.set(s.speaker, n);
        }
        return { speaker: n, start: s.start, end: s.end };
      });
  }

  /** Releases the models. Idempotent; later calls throw {@link BackendUnavailableError}. */
  dispose(): void {
    this.#disposed = true;
    this.#extractor = undefined;
    this.#pyannote = undefined;
  }
}

/**
 * Clusters unit embeddings: average linkage, stopping at `threshold` (or at `numSpeakers`),
 * clusters smaller than max(5, 1 % of windows) absorbed into their nearest neighbour. Long
 * recordings (more than a few thousand windows) cluster an even sample and assign the rest to the
 * nearest centroid.
 * @internal
 */
export function clusterEmbeddings(
  embeddings: readonly Float32Array[],
  o: {
    threshold: number;
    numSpeakers?: number | undefined;
    minSpeakers?: number | undefined;
    maxSpeakers?: number | undefined;
  },
): Int32Array {
  const n = embeddings.length;
  if (n === 0) return new Int32Array(0);
  let sample = embeddings;
  let picked: number[] | undefined;
  if (n > MAX_EXACT_WINDOWS) {
    // A deterministic random sample (an even stride could alias with periodic turn-taking).
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    let r = 0x2545f491;
    for (let i = 0; i < MAX_EXACT_WINDOWS; i++) {
      r ^= r << 13;
      r ^= r >>> 17;
      r ^= r << 5;
      const j = i + ((r >>> 0) % (n - i));
      const tmp = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = tmp;
    }
    picked = [...idx.subarray(0, MAX_EXACT_WINDOWS)].sort((a, b) => a - b);
    sample = picked.map((i) => embeddings[i]!);
  }
  let labels: Int32Array;
  const minSize = Math.max(5, Math.ceil(sample.length * 0.01));
  const absorb = (l: Int32Array): Int32Array =>
    sample.length >= 2 * minSize ? absorbSmallClusters(sample, l, minSize, o.minSpeakers ?? 1) : l;
  if (o.numSpeakers !== undefined) {
    labels = cutToSpeakerCount(sample, Math.min(n, o.numSpeakers), minSize);
  } else {
    labels = absorb(agglomerativeCluster(sample, { threshold: o.threshold, minClusters: o.minSpeakers, maxClusters: o.maxSpeakers }));
  }
  if (picked === undefined) return labels;
  const k = labels.reduce((a, l) => Math.max(a, l + 1), 0);
  const sums = Array.from({ length: k }, () => new Float32Array(sample[0]!.length));
  sample.forEach((v, i) => {
    const s = sums[labels[i]!]!;
    for (let j = 0; j < v.length; j++) s[j]! += v[j]!;
  });
  const cents = sums.map(l2normalize);
  const out = new Int32Array(n);
  embeddings.forEach((v, i) => {
    let best = 0;
    let bestSim = -Infinity;
    cents.forEach((c, j) => {
      let s = 0;
      for (let d = 0; d < v.length; d++) s += v[d]! * c[d]!;
      if (s > bestSim) {
        bestSim = s;
        best = j;
      }
    });
    out[i] = best;
  });
  return relabelByFirstAppearance(out);
}

/** dB under a span's loudest 10 ms frame below which its leading and trailing frames are trimmed. */
const TRIM_DB = 40;

/**
 * Trims the quiet padding Silero VAD leaves around speech: leading and trailing 10 ms frames more
 * than {@link TRIM_DB} dB under the span's loudest frame (on the synthetic meetings this halves the
 * no-collar DER; on noisy audio the floor is within 40 dB of the speech and nothing is trimmed).
 * Never extends a span. `samples[0]` lies at `originSec` on the span's timeline.
 * @internal
 */
export function trimSpan(samples: Float32Array, span: Span, originSec = 0): Span {
  const frame = DIARIZATION_SAMPLE_RATE / 100;
  const a = Math.max(0, Math.round((span.start - originSec) * DIARIZATION_SAMPLE_RATE));
  const b = Math.min(samples.length, Math.round((span.end - originSec) * DIARIZATION_SAMPLE_RATE));
  const n = Math.floor((b - a) / frame);
  if (n < 3) return span;
  const energy = new Float64Array(n);
  let peak = 0;
  for (let f = 0; f < n; f++) {
    let e = 0;
    for (let i = a + f * frame, end = i + frame; i < end; i++) e += samples[i]! * samples[i]!;
    energy[f] = e;
    if (e > peak) peak = e;
  }
  if (peak === 0) return span;
  const floor = peak * 10 ** (-TRIM_DB / 10);
  let first = 0;
  while (first < n && energy[first]! < floor) first++;
  let last = n - 1;
  while (last > first && energy[last]! < floor) last--;
  const start = originSec + (a + first * frame) / DIARIZATION_SAMPLE_RATE;
  const end = last === n - 1 ? span.end : originSec + (a + (last + 1) * frame) / DIARIZATION_SAMPLE_RATE;
  return { start, end };
}

/**
 * Labels for exactly `k` speakers. A few outlier windows (a cough, a window straddling two voices)
 * merge last in the dendrogram, so a plain cut at `k` can spend clusters on them and merge two real
 * speakers instead. Cut lower, until `k` clusters of at least `minSize` windows exist, and fold the
 * small ones into their nearest big cluster; fall back to the plain cut when no such level exists.
 */
function cutToSpeakerCount(sample: readonly Float32Array[], k: number, minSize: number): Int32Array {
  const d = dendrogram(sample);
  const plain = cutDendrogram(d, k);
  if (sample.length < 2 * minSize) return plain;
  for (let kk = k; kk <= sample.length; kk++) {
    const labels = cutDendrogram(d, kk);
    const counts = new Int32Array(kk);
    for (const l of labels) counts[l]!++;
    const big = counts.reduce((a, c) => a + (c >= minSize ? 1 : 0), 0);
    if (big === k) return absorbSmallClusters(sample, labels, minSize, k);
    if (big > k) break;
  }
  return plain;
}
