/**
 * The sherpa-onnx parts diarization uses: the model files (a file or a model folder, checked with
 * the one ONNX check), speech spans from the one Silero VAD wrapper (`src/vad/silero.ts`), the
 * speaker embedding extractor and sherpa's pyannote pipeline. Every config is proven in a child
 * process (once per content digest) before any sherpa object is built here, because
 * sherpa-onnx-node aborts the process on a corrupt .onnx and gives the VAD a silent null handle on
 * a missing path.
 * @internal
 * @module
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModelError } from '../errors/index.js';
import { loadSherpa, type SherpaOfflineSpeakerDiarization, type SherpaSpeakerEmbeddingExtractor } from '../internal/sherpa.js';
import { MANIFEST_FILE, checkOnnxFileSync, proveSherpaConfigSync, readManifestSync, type ModelKind } from '../models/index.js';
import { SileroVad, type RawSpeech, type SileroSettings } from '../vad/index.js';

/** Sample rate of every diarization model. */
const RATE = 16000;

/** A stretch of speech, in seconds. @internal */
export interface Span {
  start: number;
  end: number;
  /** The span's samples, when the detector was asked to keep them. */
  samples?: Float32Array | undefined;
}

/**
 * The checked `.onnx` file (absolute path) of a model given as a file or a folder: the folder's
 * `model.json` `files.model` (read and checked by the one manifest reader, its `kind` matched
 * when `kind` is given), else the folder's only `.onnx`.
 * @param what - names the model in messages ("VAD", "Speaker embedding", "Segmentation").
 * @throws ModelError naming the path when the model is missing, its manifest is invalid, or the
 *   file is not a whole ONNX file.
 * @internal
 */
export function modelFile(path: string, what: string, kind?: ModelKind): string {
  let file = resolve(path);
  let isDir: boolean;
  try {
    isDir = statSync(file).isDirectory();
  } catch (e) {
    throw new ModelError(`${what} model not found: ${path}`, { path, cause: e });
  }
  if (isDir) {
    const dir = file;
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch (e) {
      throw new ModelError(`${what} model folder can't be read: ${path}`, { path, cause: e });
    }
    if (entries.includes(MANIFEST_FILE)) {
      const manifest = readManifestSync(dir);
      if (kind !== undefined && manifest.kind !== kind) {
        throw new ModelError(`${what} model ${join(dir, MANIFEST_FILE)} describes a ${manifest.kind} model, not a ${kind} model`, { path: join(dir, MANIFEST_FILE) });
      }
      const rel = manifest.files['model'];
      if (rel === undefined) throw new ModelError(`${what} model ${join(dir, MANIFEST_FILE)} has no \`files.model\``, { path: join(dir, MANIFEST_FILE) });
      file = join(dir, rel);
    } else {
      const onnx = entries.filter((f) => f.endsWith('.onnx'));
      if (onnx.length !== 1) {
        throw new ModelError(`${what} model folder must hold a model.json or exactly one .onnx file, found ${onnx.length}: ${path}`, { path });
      }
      file = join(dir, onnx[0]!);
    }
  }
  checkOnnxFileSync(file, what);
  return file;
}

/**
 * Speech spans of a 16 kHz stream, through the one Silero VAD wrapper: push samples, take
 * finished spans (seconds on the stream's timeline, counted from the first pushed sample).
 * @internal
 */
export class SpeechDetector {
  readonly #vad: SileroVad;
  readonly #keepSamples: boolean;

  /** Checks, proves (blocking, once per content digest) and loads the VAD model file. */
  constructor(settings: SileroSettings, keepSamples = false) {
    this.#keepSamples = keepSamples;
    this.#vad = SileroVad.openSync(settings, RATE, 60);
  }

  /** Feeds samples; returns the spans completed by them. */
  push(samples: Float32Array): Span[] {
    return this.#vad.push(samples).map((s) => this.#span(s));
  }

  /** Ends the stream (pads the last partial window) and returns the remaining spans. */
  finish(): Span[] {
    const total = this.#vad.pushed / RATE;
    return this.#vad
      .finish()
      .map((s) => {
        const span = this.#span(s);
        if (span.end <= total) return span;
        const end = total;
        return span.samples === undefined ? { start: span.start, end } : { start: span.start, end, samples: span.samples.subarray(0, Math.max(0, Math.round((end - span.start) * RATE))) };
      })
      .filter((s) => s.end > s.start);
  }

  #span(s: RawSpeech): Span {
    const span: Span = { start: s.start / RATE, end: (s.start + s.samples.length) / RATE };
    if (this.#keepSamples) span.samples = s.samples;
    return span;
  }
}

/** Speaker embeddings of 16 kHz audio (not normalised). @internal */
export class EmbeddingExtractor {
  readonly #ex: SherpaSpeakerEmbeddingExtractor;
  /** Embedding size. */
  readonly dim: number;

  /** Checks, proves (blocking, once per content digest) and loads the model file. */
  constructor(model: string, numThreads = 1) {
    checkOnnxFileSync(model, 'Speaker embedding');
    const config = { model, numThreads, debug: false, provider: 'cpu' };
    proveSherpaConfigSync({ className: 'SpeakerEmbeddingExtractor', config }, `Speaker embedding model ${model}`, model);
    const sherpa = loadSherpa();
    this.#ex = new sherpa.SpeakerEmbeddingExtractor(config);
    this.dim = this.#ex.dim;
    if (!(this.dim > 0)) throw new ModelError(`Speaker embedding model could not be loaded: ${model}`, { path: model });
  }

  /** Embedding of `samples` (16 kHz mono). */
  compute(samples: Float32Array): Float32Array {
    const s = this.#ex.createStream();
    s.acceptWaveform({ sampleRate: RATE, samples });
    s.inputFinished();
    return Float32Array.from(this.#ex.compute(s, false));
  }
}

/**
 * sherpa's pyannote pipeline (segmentation + embeddings + clustering) over checked model files,
 * proven in a child process first (blocking, once per content digest).
 * @param threshold - the diarizer's cosine-similarity threshold.
 * @throws ModelError naming the segmentation model when it can't load or run.
 * @internal
 */
export function openPyannote(seg: string, emb: string, numThreads: number, threshold: number): SherpaOfflineSpeakerDiarization {
  const config = {
    segmentation: { pyannote: { model: seg }, numThreads, debug: false, provider: 'cpu' },
    embedding: { model: emb, numThreads, debug: false, provider: 'cpu' },
    clustering: { numClusters: -1, threshold: 1 - threshold },
    minDurationOn: 0.2,
    minDurationOff: 0.5,
  };
  // Never let unproven bytes reach the addon in this process: load and run once in a child first.
  proveSherpaConfigSync({ className: 'OfflineSpeakerDiarization', config }, `Segmentation model ${seg} with embedding model ${emb}`, seg);
  const sherpa = loadSherpa();
  const sd = new sherpa.OfflineSpeakerDiarization(config);
  if (!(sd.sampleRate > 0)) throw new ModelError(`Segmentation model could not be loaded: ${seg}`, { path: seg });
  return sd;
}
