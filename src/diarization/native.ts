/**
 * The sherpa-onnx parts diarization uses: Silero VAD (speech regions) and the speaker embedding
 * extractor. Model files are checked, then proven in a child process (once per content digest),
 * before any sherpa object is built here, because sherpa-onnx-node aborts the process on a corrupt
 * .onnx and gives the VAD a silent null handle on a missing path.
 *
 * TODO(fold): replace the VAD part with `src/vad` once it lands.
 * @internal
 * @module
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { ModelError } from '../errors/index.js';
import { loadSherpa } from '../internal/sherpa.js';
import { proveSherpaConfigSync } from '../models/proof.js';
import type { SherpaModelConfig } from '../models/probe.js';

/**
 * Proves a config before this process loads it (a child process loads and runs it the first time
 * given bytes are seen; the verdict is cached by content digest), blocking because the
 * constructors here are synchronous. @internal
 */
function prove(spec: SherpaModelConfig, what: string, path: string): void {
  proveSherpaConfigSync(spec, `${what} model ${path}`, path);
}

/** A stretch of speech, in seconds. @internal */
export interface Span {
  start: number;
  end: number;
  /** The span's samples, when the detector was asked to keep them. */
  samples?: Float32Array | undefined;
}

/**
 * Checks that `path` looks like a real ONNX file (exists, non-trivial size, protobuf start, not a
 * Git LFS pointer), so that sherpa never sees one that would abort the process.
 * @internal
 */
export function checkOnnxFile(path: string, what: string): void {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new ModelError(`${what} model is not a file: ${path}`, { path });
    size = st.size;
  } catch (e) {
    if (ModelError.isInstance(e)) throw e;
    throw new ModelError(`${what} model not found: ${path}`, { path, cause: e });
  }
  const head = Buffer.alloc(Math.min(size, 256));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (head.toString('latin1').startsWith('version https://git-lfs')) {
    throw new ModelError(`${what} model is a Git LFS pointer, not the model itself: ${path} (run \`git lfs pull\`)`, { path });
  }
  // An ONNX ModelProto starts with field 1 (ir_version, varint: 0x08) in practice.
  if (size < 64 || head[0] !== 0x08) {
    throw new ModelError(`${what} model is not a valid ONNX file (corrupt or truncated): ${path}`, { path });
  }
  // Truncation check: the protobuf must at least parse its top-level fields to the end of file.
  checkProtobufFraming(path, size, what);
}

/** Walks the top-level protobuf fields of the file; a truncated file ends mid-field. */
function checkProtobufFraming(path: string, size: number, what: string): void {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(16);
  const fail = (): never => {
    throw new ModelError(`${what} model is not a valid ONNX file (corrupt or truncated): ${path}`, { path });
  };
  try {
    let pos = 0;
    const readVarint = (): number => {
      let result = 0;
      let mul = 1;
      for (let i = 0; i < 10; i++) {
        if (pos >= size) fail();
        readSync(fd, buf, 0, 1, pos++);
        const b = buf[0]!;
        result += (b & 0x7f) * mul;
        if ((b & 0x80) === 0) return result;
        mul *= 128;
      }
      return fail();
    };
    let fields = 0;
    while (pos < size) {
      const key = readVarint();
      const wire = key % 8;
      const field = Math.floor(key / 8);
      if (field < 1 || field > 100) fail();
      if (wire === 0) readVarint();
      else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else if (wire === 2) {
        const len = readVarint();
        pos += len;
      }
      else fail();
      if (pos > size) fail();
      fields++;
    }
    if (fields < 2) fail();
  } finally {
    closeSync(fd);
  }
}

/** Narrow view of sherpa's Vad. */
interface SherpaVad {
  acceptWaveform(samples: Float32Array): void;
  isEmpty(): boolean;
  front(enableExternalBuffer?: boolean): { start: number; samples: Float32Array };
  pop(): void;
  flush(): void;
  reset(): void;
}

/** Settings of the Silero VAD used for diarization. @internal */
export interface VadSettings {
  readonly model: string;
  readonly threshold: number;
  readonly minSilenceDuration: number;
  readonly minSpeechDuration: number;
  readonly maxSpeechDuration: number;
}

/**
 * Streaming Silero VAD: push 16 kHz samples, take finished speech spans (seconds on the stream's
 * timeline, counted from the first pushed sample).
 * @internal
 */
export class SpeechDetector {
  readonly #vad: SherpaVad;
  #pending = new Float32Array(0);
  #pushed = 0;
  readonly #keepSamples: boolean;
  static readonly WINDOW = 512;

  constructor(settings: VadSettings, keepSamples = false) {
    this.#keepSamples = keepSamples;
    checkOnnxFile(settings.model, 'VAD');
    const config = {
      sileroVad: {
        model: settings.model,
        threshold: settings.threshold,
        minSilenceDuration: settings.minSilenceDuration,
        minSpeechDuration: settings.minSpeechDuration,
        maxSpeechDuration: settings.maxSpeechDuration,
        windowSize: SpeechDetector.WINDOW,
      },
      sampleRate: 16000,
      numThreads: 1,
      provider: 'cpu',
      debug: false,
    };
    prove({ className: 'Vad', config }, 'VAD', settings.model);
    const sherpa = loadSherpa();
    this.#vad = new sherpa.Vad(config, 60) as SherpaVad;
  }

  /** Feeds samples; returns the spans completed by them. */
  push(samples: Float32Array): Span[] {
    const W = SpeechDetector.WINDOW;
    let buf = samples;
    if (this.#pending.length > 0) {
      buf = new Float32Array(this.#pending.length + samples.length);
      buf.set(this.#pending);
      buf.set(samples, this.#pending.length);
    }
    const whole = buf.length - (buf.length % W);
    for (let i = 0; i < whole; i += W) this.#vad.acceptWaveform(buf.subarray(i, i + W));
    this.#pending = buf.slice(whole);
    this.#pushed += samples.length;
    return this.#drain();
  }

  /** Ends the stream (pads the last partial window) and returns the remaining spans. */
  finish(): Span[] {
    const W = SpeechDetector.WINDOW;
    if (this.#pending.length > 0) {
      const last = new Float32Array(W);
      last.set(this.#pending);
      this.#vad.acceptWaveform(last);
      this.#pending = new Float32Array(0);
    }
    this.#vad.flush();
    const spans = this.#drain();
    const total = this.#pushed / 16000;
    return spans
      .map((s) => {
        if (s.end <= total) return s;
        const end = total;
        return s.samples === undefined ? { start: s.start, end } : { start: s.start, end, samples: s.samples.subarray(0, Math.max(0, Math.round((end - s.start) * 16000))) };
      })
      .filter((s) => s.end > s.start);
  }

  #drain(): Span[] {
    const out: Span[] = [];
    while (!this.#vad.isEmpty()) {
      const seg = this.#vad.front(false);
      const span: Span = { start: seg.start / 16000, end: (seg.start + seg.samples.length) / 16000 };
      if (this.#keepSamples) span.samples = seg.samples;
      out.push(span);
      this.#vad.pop();
    }
    return out;
  }
}

/** Narrow view of sherpa's SpeakerEmbeddingExtractor. */
interface SherpaExtractor {
  readonly dim: number;
  createStream(): {
    acceptWaveform(o: { sampleRate: number; samples: Float32Array }): void;
    inputFinished(): void;
  };
  compute(stream: unknown, enableExternalBuffer?: boolean): Float32Array;
}

/** Speaker embeddings of 16 kHz audio (not normalised). @internal */
export class EmbeddingExtractor {
  readonly #ex: SherpaExtractor;
  /** Embedding size. */
  readonly dim: number;

  constructor(model: string, numThreads = 1) {
    checkOnnxFile(model, 'Speaker embedding');
    const config = { model, numThreads, debug: false, provider: 'cpu' };
    prove({ className: 'SpeakerEmbeddingExtractor', config }, 'Speaker embedding', model);
    const sherpa = loadSherpa();
    this.#ex = new sherpa.SpeakerEmbeddingExtractor(config) as SherpaExtractor;
    this.dim = this.#ex.dim;
    if (!(this.dim > 0)) throw new ModelError(`Speaker embedding model could not be loaded: ${model}`, { path: model });
  }

  /** Embedding of `samples` (16 kHz mono). */
  compute(samples: Float32Array): Float32Array {
    const s = this.#ex.createStream();
    s.acceptWaveform({ sampleRate: 16000, samples });
    s.inputFinished();
    return Float32Array.from(this.#ex.compute(s, false));
  }
}
