import { progressSink, type ProgressSink } from '../../internal/progress.js';
import { fileURLToPath } from 'node:url';
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
import {
  ASRError,
  BackendUnavailableError,
  InvalidArgumentError,
  ModelError,
  throwIfAborted,
  toAbortError,
} from '../../errors/index.js';
import { ChunkNormalizer, decodeAudio, openAudio, resample } from '../../audio/index.js';
import { readWavFileSync } from '../../audio/reader.js';
import { abortable } from '../../internal/abort.js';
import { loadSherpa } from '../../internal/sherpa.js';
import { type ResolvedModel, resolveModel, sherpaConfigFor, validateModel } from '../../models/index.js';
import { type ModelProofOptions, expectedSha256Of, proveSherpaConfig } from '../../models/proof.js';
import { VoiceActivityDetector } from '../../vad/index.js';
import { TrailingSilence } from './endpoint.js';
import { type NativeBackendOptions, type ResolvedNativeOptions, resolveNativeOptions } from './options.js';
import { type SherpaResult, segmentFromResult } from './words.js';
import type { Diarizer } from '../../diarization/index.js';

/** Narrow views of the sherpa-onnx-node objects used here. */
interface OfflineStream {
  acceptWaveform(w: { sampleRate: number; samples: Float32Array }): void;
}
interface OfflineRecognizer {
  createStream(hotwords?: string): OfflineStream;
  decodeAsync(s: OfflineStream): Promise<SherpaResult>;
}
interface OnlineStream {
  acceptWaveform(w: { sampleRate: number; samples: Float32Array }): void;
  inputFinished(): void;
}
interface OnlineRecognizer {
  createStream(): OnlineStream;
  isReady(s: OnlineStream): boolean;
  decode(s: OnlineStream): void;
  isEndpoint(s: OnlineStream): boolean;
  reset(s: OnlineStream): void;
  getResult(s: OnlineStream): SherpaResult;
}

interface Loaded {
  model: ResolvedModel;
  vad: ResolvedModel | undefined;
  speaker: ResolvedModel | undefined;
  offline: OfflineRecognizer | undefined;
  online: OnlineRecognizer | undefined;
  capabilities: BackendCapabilities;
  maxSegmentSec: number;
  /** Idle VAD instances (loading one costs a model load; calls may run concurrently). */
  vadPool: VoiceActivityDetector[];
  /** Idle sample arrays of `maxSegmentSec` for small files (see `transcribe`). */
  scratch: Float32Array[];
}

/** An idle scratch array of at least `n` samples, or a new one. */
function borrow(l: Loaded, n: number): Float32Array {
  const a = l.scratch.pop();
  return a && a.length >= n ? a : new Float32Array(n);
}

/** Returns a borrowed scratch array (at most two are kept idle). */
function giveBack(l: Loaded, a: Float32Array): void {
  if (l.scratch.length < 2) l.scratch.push(a);
}

/** The local file path an input names (a path string or a `file:` URL), if it names one. */
function localPath(audio: AudioInput): string | undefined {
  if (typeof audio === 'string') return audio;
  return audio instanceof URL && audio.protocol === 'file:' ? fileURLToPath(audio) : undefined;
}

/** Silence after speech that lets the VAD end an utterance early (fast endpointing), seconds. */
const FAST_ENDPOINT_SILENCE_SEC = 0.1;
/** Fast endpointing on frame energy: 0.1 s of frames 35 dB under the utterance's loudest. */
const ENERGY_ENDPOINT = { silenceSec: 0.1, dropDb: 35, minSpeechSec: 0.2 } as const;
/** Silence appended at the end of a stream so the last partial chunk is decoded. */
const TAIL_PAD_SEC = 0.6;
/** Audio fed to the online recognizer per step when transcribing a file, seconds. */
const FILE_STEP_SEC = 0.32;
/**
 * Frames per chunk read from a file (8.2 s at 16 kHz, 512 KiB of floats): short files arrive in
 * one piece and are decoded without a copy; long ones stay bounded.
 */
const FILE_CHUNK_FRAMES = 1 << 17;
/** Whisper decodes at most 30 s and silently drops the rest. */
const WHISPER_LIMIT_SEC = 30;
/** What is decoded beyond a piece: context + padding on both sides, or the partial buffer's slack. */
const WHISPER_MARGIN_SEC = 2.5;

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

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
  #loading: Promise<Loaded> | undefined;
  #loaded: Loaded | undefined;
  #disposed = false;
  #diarizer: Promise<Diarizer> | undefined;

  /** @param options - the model and settings; validated now, loaded on first use. */
  constructor(options: NativeBackendOptions) {
    this.#o = resolveNativeOptions(options);
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
    this.#loading ??= this.#load().catch((e: unknown) => {
      this.#loading = undefined;
      throw e;
    });
    const l = await this.#loading;
    if (this.#disposed) throw new BackendUnavailableError(`Backend "${this.id}" has been disposed`);
    return l;
  }

  async #resolve(spec: string | ResolvedModel, kind: 'offline' | 'streaming' | 'vad' | 'speaker-embedding' | ('offline' | 'streaming')[]): Promise<ResolvedModel> {
    const m =
      typeof spec === 'string'
        ? await resolveModel(spec, {
            kind,
            ...(this.#o.modelsDir !== undefined ? { modelsDir: this.#o.modelsDir } : {}),
            ...(this.#o.cacheDir !== undefined ? { cacheDir: this.#o.cacheDir } : {}),
          })
        : spec;
    const kinds = Array.isArray(kind) ? kind : [kind];
    if (!kinds.includes(m.manifest.kind as never)) {
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
  #createVad(model: ResolvedModel, maxSpeechSec: number, extra: { minSilenceSec?: number } = {}): Promise<VoiceActivityDetector> {
    return VoiceActivityDetector.create({ model, maxSpeechSec, ...extra, proof: this.#proofOptions(model) });
  }

  /** Proves the VAD on `model` without building one here (a short clip never needs it). */
  #proveVad(model: ResolvedModel, maxSpeechSec: number): Promise<void> {
    return VoiceActivityDetector.prove({ model, maxSpeechSec, proof: this.#proofOptions(model) });
  }

  async #load(): Promise<Loaded> {
    const sherpa = loadSherpa();
    const model = await this.#resolve(this.#o.model, ['offline', 'streaming']);
    const isOffline = model.manifest.kind === 'offline';
    // Offline models need the VAD for long audio and pseudo-streaming.
    // Streaming models use it, when one is installed, for fast endpointing.
    const vad = isOffline
      ? await this.#resolve(this.#o.vadModel, 'vad')
      : this.#o.fastEndpoint
        ? await this.#resolve(this.#o.vadModel, 'vad').catch(() => undefined)
        : undefined;
    const speaker = this.#o.speakerModel !== undefined ? await this.#resolve(this.#o.speakerModel, 'speaker-embedding') : undefined;
    const family = model.manifest.family.replace('-', '_');
    const { className, config } = sherpaConfigFor(model, { numThreads: this.#o.threads, provider: this.#o.provider });
    const hotwords = family === 'transducer' && this.#o.decodingMethod === 'modified_beam_search' && isOffline;
    const cfg: Record<string, unknown> = isOffline
      ? { ...config, decodingMethod: this.#o.decodingMethod }
      : { ...config, decodingMethod: this.#o.decodingMethod, enableEndpoint: true, ...this.#o.endpoint };
    // Prove, then load: the exact config runs first in a child process (or its verdict is cached),
    // so bytes that abort sherpa-onnx never reach it in this process.
    await proveSherpaConfig({ className, config: cfg }, `"${model.manifest.name}" (${model.manifest.kind} ${model.manifest.family})`, model.dir, this.#proofOptions(model));
    // The VAD is proven now, so that a bad VAD fails the load, not a later call; it is built when
    // a call first needs it (a clip that fits one decode window never does: ~140 ms saved).
    const whisper = family === 'whisper';
    const maxSegmentSec = whisper ? Math.min(this.#o.maxSegmentSec, WHISPER_LIMIT_SEC - WHISPER_MARGIN_SEC) : this.#o.maxSegmentSec;
    const vadOk = vad ? await this.#proveVad(vad, maxSegmentSec).then(() => true, (e: unknown) => (isOffline ? Promise.reject(e) : false)) : false;
    if (speaker) {
      // Proven with the config the diarizer's extractor loads (CPU), so its synchronous load hits the verdict.
      const sc = sherpaConfigFor(speaker, { numThreads: this.#o.threads, provider: 'cpu' });
      await proveSherpaConfig(sc, `"${speaker.manifest.name}" (speaker-embedding ${speaker.manifest.family})`, speaker.dir, this.#proofOptions(speaker));
    }
    let offline: OfflineRecognizer | undefined;
    let online: OnlineRecognizer | undefined;
    try {
      if (isOffline) offline = new sherpa.OfflineRecognizer(cfg) as OfflineRecognizer;
      else online = new sherpa.OnlineRecognizer(cfg) as OnlineRecognizer;
    } catch (e) {
      throw new ModelError(`sherpa-onnx could not load model "${model.manifest.name}" (${model.dir}): ${(e as Error).message}`, { path: model.dir, cause: e });
    }
    const languages = model.manifest.languages && model.manifest.languages.length ? model.manifest.languages : 'any';
    const capabilities: BackendCapabilities = {
      streaming: !isOffline,
      diarization: speaker !== undefined,
      offline: true,
      wordTimestamps: true,
      languages: languages as readonly string[] | 'any',
      hotwords,
      sampleRate: model.manifest.sampleRate,
      maxWindowSec: whisper ? WHISPER_LIMIT_SEC : maxSegmentSec,
    };
    this.#loaded = { model, vad: vadOk ? vad : undefined, speaker, offline, online, capabilities, maxSegmentSec, vadPool: [], scratch: [] };
    return this.#loaded;
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
      let progress = progressSink(options.onProgress, undefined);
      let segments: Segment[] = [];
      let durationSec: number;
      let whole: Float32Array | undefined;
      if (wantDiarization) {
        // Diarization needs the whole signal twice (ASR and embeddings): decode it once.
        const d = await decodeAudio(audio, { sampleRate: rate, ...(signal ? { abortSignal: signal } : {}) });
        whole = d.samples;
      }
      const hot = l.capabilities.hotwords && options.hotwords?.length ? options.hotwords.join('/') : undefined;
      // A small WAV file for an offline model: read synchronously; if it fits one decode window
      // its samples go into a reused array (copied into the sherpa stream at once): no per-call
      // allocation for V8 to collect.
      throwIfAborted(signal);
      const path = whole || !l.offline ? undefined : localPath(audio);
      const limit = Math.round(l.maxSegmentSec * rate);
      let lent: Float32Array | undefined;
      const small = path === undefined ? undefined : readWavFileSync(path, (n) => (n <= limit ? (lent = borrow(l, limit)).subarray(0, n) : new Float32Array(n)));
      // At another rate: resampled here (the same filter openAudio() runs), not read again.
      const samples = small && (small.format.sampleRate === rate ? small.samples : resample(small.samples, small.format.sampleRate, rate));
      if (samples && samples.length <= limit) {
        const decoding = decodeSamples(l, samples, 0, false, hot);
        if (lent) giveBack(l, lent);
        const seg = await decoding;
        segments = seg ? [seg] : [];
        durationSec = samples.length / rate;
      } else {
        if (lent) giveBack(l, lent);
        const ready = samples ?? whole;
        const reader = ready ? undefined : await openAudio(audio, { sampleRate: rate, chunkFrames: FILE_CHUNK_FRAMES, ...(signal ? { abortSignal: signal } : {}) });
        progress = progressSink(options.onProgress, ready ? ready.length / rate : reader!.durationSec);
        const source = counted(ready ? oneChunk(ready, ready === whole ? 8192 : FILE_CHUNK_FRAMES) : reader!, rate, progress);
        try {
          const r = l.offline ? await this.#offlineFile(l, source, rate, hot, signal) : await this.#onlineFile(l, source, rate, signal);
          segments = r.segments;
          durationSec = r.samples / rate;
        } finally {
          await reader?.close();
        }
      }
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
    const lang = language ?? (Array.isArray(langs) && langs.length === 1 ? langs[0] : undefined);
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
      const vad = l.vad ?? (await this.#resolve(this.#o.vadModel, 'vad'));
      return new D({ vadModel: vad.paths.model!, embeddingModel: l.speaker!.paths.model!, numThreads: this.#o.threads });
    })().catch((e: unknown) => {
      this.#diarizer = undefined;
      throw e;
    });
    return this.#diarizer;
  }

  /**
   * Offline model over a file: the VAD finds pieces ≤ maxSegmentSec; each is decoded (off the
   * event loop) with real surrounding audio, because VAD boundaries clip word edges:
   * {@link CONTEXT_SEC} after a pause, {@link CUT_CONTEXT_SEC} across a forced cut in continuous
   * speech (where both neighbours then keep only the words on their side of the cut). A piece is
   * decoded once its right-hand context has arrived. Memory is bounded by a rolling window of
   * recent audio.
   */
  async #offlineFile(l: Loaded, source: AsyncIterable<Float32Array>, rate: number, hotwords: string | undefined, signal?: AbortSignal): Promise<{ segments: Segment[]; samples: number }> {
    const recent = new RecentAudio(Math.round((l.maxSegmentSec + 2 * CUT_CONTEXT_SEC + 4) * rate));
    const segments: Segment[] = [];
    /**
     * Decodes `samples` (starting at `offset` seconds); VAD-cut pieces get silence padding
     * (`pad`), a whole file does not. Words whose middle lies before `cut` (seconds) belong to
     * the previous piece. Runs strictly in piece order (see `schedule`).
     */
    const decodePiece = async (samples: Float32Array, offset: number, pad: boolean, cut: number): Promise<void> => {
      throwIfAborted(signal);
      const end = offset + samples.length / rate;
      const found = await decodeSamples(l, samples, offset, pad, hotwords);
      let floor = -Infinity;
      if (Number.isFinite(cut)) {
        // The previous piece ends right here (a forced cut in continuous speech): both decodes
        // saw the audio around the cut, so each keeps only the words on its side of it.
        const prev = segments.pop();
        const kept = prev && keepWords(prev, -Infinity, cut);
        if (kept) segments.push(kept);
        // Two decodes time the words at the cut independently: keep the timeline monotonic.
        floor = kept?.words.at(-1)?.end ?? -Infinity;
      }
      const mine = found && keepWords(found, cut, Infinity);
      const seg = mine && floor > mine.start ? clampSegment(mine, floor, end) : mine;
      if (seg) segments.push(seg);
    };
    // Decoding runs on the addon's thread while this loop reads and runs the VAD on the next
    // audio (the VAD costs about twice what decoding its pieces does): pieces are decoded one at
    // a time, in order, at most MAX_PIECES_AHEAD of them waiting (their audio is copied out of
    // the rolling window when they are scheduled, so the window's bound holds).
    let chain: Promise<void> = Promise.resolve();
    const waiting: Promise<void>[] = [];
    let failure: { error: unknown } | undefined;
    const schedule = (from: number, to: number, pad: boolean, cut = -Infinity): void => {
      const { samples, start } = recent.slice(from, to);
      chain = chain.then(() => (failure ? undefined : decodePiece(samples, start / rate, pad, cut)));
      // Recorded here and rethrown by the reading loop: a rejection is never left unhandled.
      const settled = chain.catch((error: unknown) => {
        failure ??= { error };
      });
      waiting.push(settled);
    };
    const rethrow = (): void => {
      if (failure) throw failure.error;
    };
    /** VAD pieces waiting for their right-hand context. */
    const queue: { start: number; end: number; left: number; right: number; cut: number }[] = [];
    /** End of the previous piece, seconds. */
    let lastEnd: number | undefined;
    const enqueue = (pieces: { start: number; end: number; continues?: boolean | undefined }[]): void => {
      for (const [i, piece] of pieces.entries()) {
        const next = pieces[i + 1];
        const contiguous = lastEnd !== undefined && piece.start - lastEnd < JOIN_GAP_SEC;
        // Speech that goes on after a piece (the next piece starts at once, or the VAD cut it at
        // the length limit) means a forced cut: decode well across it. A piece the VAD ended at
        // a pause has at least its minimum silence after it.
        const cutAfter = next ? next.start - piece.end < JOIN_GAP_SEC : piece.continues === true;
        queue.push({
          start: piece.start,
          end: piece.end,
          left: contiguous ? CUT_CONTEXT_SEC : CONTEXT_SEC,
          right: cutAfter ? CUT_CONTEXT_SEC : CONTEXT_SEC,
          cut: contiguous ? (lastEnd! + piece.start) / 2 : -Infinity,
        });
        lastEnd = piece.end;
      }
    };
    const drain = async (all: boolean): Promise<void> => {
      while (queue.length && (all || recent.total >= Math.round((queue[0]!.end + queue[0]!.right) * rate))) {
        const q = queue.shift()!;
        schedule(Math.max(0, Math.round((q.start - q.left) * rate)), Math.round((q.end + q.right) * rate), true, q.cut);
      }
      while (waiting.length > (all ? 0 : MAX_PIECES_AHEAD)) await waiting.shift();
      rethrow();
    };
    // Audio that fits in one decode window is decoded whole, without the VAD; the VAD starts
    // only once the input proves longer than maxSegmentSec (it then catches up on what is kept).
    const whole = Math.round(l.maxSegmentSec * rate);
    let vad: VoiceActivityDetector | undefined;
    try {
      for await (const chunk of source) {
        throwIfAborted(signal);
        rethrow();
        recent.push(chunk);
        if (vad) enqueue(vad.push(chunk));
        else if (recent.total > whole) {
          vad = await this.#acquireVad(l);
          enqueue(vad.push(recent.slice(0, recent.total).samples));
        } else continue;
        await drain(false);
      }
      if (vad) {
        enqueue(vad.finish());
        await drain(true);
      } else if (recent.total > 0) await decodePiece(recent.slice(0, recent.total).samples, 0, false, -Infinity);
    } finally {
      // Nothing decodes on after the call returns or throws (an abort is seen between pieces).
      failure ??= { error: undefined };
      await Promise.all(waiting);
      if (vad) this.#releaseVad(l, vad);
    }
    return { segments, samples: recent.total };
  }

  async #acquireVad(l: Loaded): Promise<VoiceActivityDetector> {
    return l.vadPool.pop() ?? this.#createVad(l.vad!, l.maxSegmentSec);
  }

  #releaseVad(l: Loaded, vad: VoiceActivityDetector): void {
    vad.reset();
    if (l.vadPool.length < 4) l.vadPool.push(vad);
  }

  /** Streaming model over a file: chunk by chunk with endpointing; yields to the event loop between steps. */
  async #onlineFile(l: Loaded, source: AsyncIterable<Float32Array>, rate: number, signal?: AbortSignal): Promise<{ segments: Segment[]; samples: number }> {
    const segments: Segment[] = [];
    const run = new OnlineRun(l.online!, rate, l.model);
    const step = Math.round(FILE_STEP_SEC * rate);
    for await (const chunk of source) {
      for (let i = 0; i < chunk.length; i += step) {
        throwIfAborted(signal);
        const seg = run.feed(chunk.subarray(i, i + step));
        if (seg.final) segments.push(seg.final);
        await yieldToLoop();
      }
    }
    const last = run.finish();
    if (last) segments.push(last);
    return { segments, samples: run.samples };
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
    const rate = l.model.manifest.sampleRate;
    const norm = new ChunkNormalizer(rate);
    const partials = options.partials ?? true;
    audio = abortable(audio, signal);
    let vadInUse: VoiceActivityDetector | undefined;
    try {
      if (l.online) {
        const run = new OnlineRun(l.online, rate, l.model);
        // Fast endpointing: when a VAD is available, an utterance is finalised as soon as the VAD
        // hears its speech end, instead of after the model's trailing-silence rule.
        // On clean audio, frame energy hears the end sooner still (TrailingSilence).
        const endVad = l.vad && this.#o.fastEndpoint ? await this.#createVad(l.vad, l.maxSegmentSec, { minSilenceSec: FAST_ENDPOINT_SILENCE_SEC }) : undefined;
        const endEnergy = this.#o.fastEndpoint ? new TrailingSilence(rate, ENERGY_ENDPOINT) : undefined;
        let lastPartial = '';
        /** Where the last utterance was cut, seconds: later VAD news about earlier speech is stale. */
        let cutSec = 0;
        for await (const chunk of audio) {
          throwIfAborted(signal);
          let rest = norm.push(chunk);
          // A chunk is fed up to where its utterance's speech ended (the next one may start in
          // the same chunk), the utterance is finalised there, then the rest is fed.
          while (rest.length > 0) {
            const n = endEnergy ? endEnergy.push(rest) : rest.length;
            const samples = rest.subarray(0, n);
            rest = rest.subarray(n);
            const r = run.feed(samples);
            const vadEnded = endVad !== undefined && endVad.push(samples).some((seg) => seg.end > cutSec);
            const energyEnded = endEnergy?.ended === true;
            if (r.final) {
              lastPartial = '';
              cutSec = run.samples / rate;
              endEnergy?.reset();
              yield { type: 'final', segment: r.final };
            } else if (energyEnded || (vadEnded && lastPartial !== '')) {
              lastPartial = '';
              cutSec = run.samples / rate;
              endEnergy?.reset();
              const seg = run.flushUtterance();
              if (seg) yield { type: 'final', segment: seg };
            } else if (partials && r.text !== lastPartial && r.text !== '') {
              lastPartial = r.text;
              yield { type: 'partial', text: r.text, start: run.segmentStartSec, end: run.samples / rate };
            }
          }
          await yieldToLoop();
        }
        const tail = norm.flush();
        if (tail.length) {
          const r = run.feed(tail);
          if (r.final) yield { type: 'final', segment: r.final };
        }
        const last = run.finish();
        if (last) yield { type: 'final', segment: last };
        yield { type: 'end', durationSec: run.samples / rate };
        return;
      }
      // Offline model: VAD-driven pseudo-streaming.
      const vad = await this.#acquireVad(l);
      vadInUse = vad;
      const intervalSamples = Math.round((this.#o.partialIntervalMs / 1000) * rate);
      let total = 0;
      // Audio since the last closed segment, for partials of the open utterance (bounded by maxSegmentSec).
      let open: Float32Array[] = [];
      let openLen = 0;
      let openStart = 0;
      let sinceDecode = 0;
      let lastPartial = '';
      const cap = Math.round((l.maxSegmentSec + 2) * rate);
      const decode = async (samples: Float32Array, offset: number, end: number): Promise<Segment | undefined> => {
        const s = l.offline!.createStream();
        s.acceptWaveform({ sampleRate: rate, samples: atLeast(padded(samples, rate), rate) });
        const r = await l.offline!.decodeAsync(s).catch((e: unknown) => Promise.reject(decodeError(l.model, e)));
        const seg = segmentFromResult(r, offset - PAD_SEC, end + PAD_SEC);
        return seg ? clampSegment(seg, offset, end) : undefined;
      };
      const closeSegments = async function* (pieces: { start: number; end: number; samples: Float32Array }[]): AsyncGenerator<TranscriptionEvent> {
        for (const p of pieces) {
          throwIfAborted(signal);
          const seg = await decode(p.samples, p.start, p.end);
          if (seg) yield { type: 'final', segment: seg };
          lastPartial = '';
          open = [];
          openLen = 0;
          openStart = p.end;
          sinceDecode = 0;
        }
      };
      for await (const chunk of audio) {
        throwIfAborted(signal);
        const samples = norm.push(chunk);
        total += samples.length;
        open.push(samples);
        openLen += samples.length;
        sinceDecode += samples.length;
        while (openLen > cap && open.length > 1) {
          const dropped = open.shift()!;
          openLen -= dropped.length;
          openStart += dropped.length / rate;
        }
        yield* closeSegments(vad.push(samples));
        if (partials && vad.inSpeech && sinceDecode >= intervalSamples) {
          sinceDecode = 0;
          const buf = concat(open, openLen);
          const seg = await decode(buf, openStart, openStart + buf.length / rate);
          if (seg && seg.text !== lastPartial) {
            lastPartial = seg.text;
            yield { type: 'partial', text: seg.text, start: seg.start, end: total / rate };
          }
        }
      }
      const tail = norm.flush();
      if (tail.length) {
        total += tail.length;
        yield* closeSegments(vad.push(tail));
      }
      yield* closeSegments(vad.finish());
      yield { type: 'end', durationSec: total / rate };
    } catch (e) {
      const err = toAbortError(signal, e);
      if (ASRError.isInstance(err) && err.code !== 'aborted') yield { type: 'error', error: err, recoverable: false };
      throw err;
    } finally {
      if (vadInUse) this.#releaseVad(l, vadInUse);
    }
  }

  /** Releases the models. Idempotent; later calls reject with `BackendUnavailableError`. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#loaded = undefined;
    this.#loading = undefined;
    this.#diarizer = undefined;
  }
}

/** Silence padded after (and, without real context, before) each decoded piece: clean edges. */
const PAD_SEC = 0.2;
/** Real audio kept on each side of a VAD piece when decoding it (VAD boundaries clip words). */
const CONTEXT_SEC = 0.15;
/**
 * Pieces closer than this are decoded across the gap like a forced cut (the VAD often starts a
 * piece late, so a short gap's far side is heard in the neighbour's context), seconds.
 */
const JOIN_GAP_SEC = 0.6;
/** Real audio decoded across a forced cut in continuous speech (no pause to cut at). */
const CUT_CONTEXT_SEC = 1;
/** VAD pieces of a file that may wait for the decoder while the VAD reads on (each ≤ maxSegmentSec + 2 s). */
const MAX_PIECES_AHEAD = 2;

/** The last `capacity` samples of a stream, addressable by absolute sample index. */
class RecentAudio {
  #chunks: Float32Array[] = [];
  /** Absolute index of the first kept sample. */
  #start = 0;
  #kept = 0;
  /** Samples pushed in all. */
  total = 0;
  constructor(private readonly capacity: number) {}

  push(c: Float32Array): void {
    this.#chunks.push(c);
    this.#kept += c.length;
    this.total += c.length;
    while (this.#kept - this.#chunks[0]!.length >= this.capacity) {
      const d = this.#chunks.shift()!;
      this.#kept -= d.length;
      this.#start += d.length;
    }
  }

  /** Samples [from, to) that are still kept (clamped), and where they start. */
  slice(from: number, to: number): { samples: Float32Array; start: number } {
    const a = Math.max(from, this.#start);
    const b = Math.min(to, this.total);
    // Inside one chunk (a short file read in one piece): a view, no copy.
    let cs = this.#start;
    for (const c of this.#chunks) {
      if (a >= cs && b <= cs + c.length) return { samples: c.subarray(a - cs, Math.max(a, b) - cs), start: a };
      if (cs + c.length > a) break;
      cs += c.length;
    }
    const out = new Float32Array(Math.max(0, b - a));
    let pos = this.#start;
    for (const c of this.#chunks) {
      const cs = pos;
      const ce = pos + c.length;
      pos = ce;
      if (ce <= a || cs >= b) continue;
      const s = Math.max(a, cs);
      const e = Math.min(b, ce);
      out.set(c.subarray(s - cs, e - cs), s - a);
    }
    return { samples: out, start: a };
  }
}

function padded(samples: Float32Array, rate: number, left = true): Float32Array {
  const pad = Math.round(PAD_SEC * rate);
  const out = new Float32Array(samples.length + (left ? 2 : 1) * pad);
  out.set(samples, left ? pad : 0);
  return out;
}

/**
 * Shortest audio handed to an offline model, seconds. Less than a few feature frames makes
 * onnxruntime fail inside the encoder (a Reshape of an empty tensor: an error from decodeAsync, an
 * abort of the process from decode); shorter audio is padded with trailing silence, so a clip of
 * 20 ms gives an empty (or short) transcript like any other near-silent clip.
 */
const MIN_DECODE_SEC = 0.5;

/** `samples`, or a copy padded with trailing silence to {@link MIN_DECODE_SEC}. */
function atLeast(samples: Float32Array, rate: number): Float32Array {
  const min = Math.round(MIN_DECODE_SEC * rate);
  if (samples.length >= min) return samples;
  const out = new Float32Array(min);
  out.set(samples);
  return out;
}

/**
 * A native error thrown while decoding, as a typed error. sherpa-onnx looks each emitted token id
 * up in tokens.txt with `unordered_map::at`, so a tokens.txt with too few symbols surfaces as
 * `_Map_base::at`; anything else the addon throws is an onnxruntime failure on a proven model.
 */
function decodeError(model: ResolvedModel, e: unknown): unknown {
  if (ASRError.isInstance(e)) return e;
  const msg = (e instanceof Error ? e.message : String(e)).replace(/\u001b\[[0-9;]*m/g, '').replace(/\s+/g, ' ').trim();
  const tokens = model.paths.tokens;
  if (/_Map_base::at|out_of_range/.test(msg)) {
    return new ModelError(
      `Model "${model.manifest.name}" produced a token id that ${tokens ?? 'its tokens file'} has no symbol for (${msg}): tokens.txt has too few tokens for this model; is it the model's own tokens.txt?`,
      { path: tokens ?? model.dir, cause: e },
    );
  }
  return new ModelError(`sherpa-onnx failed while decoding with model "${model.manifest.name}" (${model.dir}): ${msg.length > 400 ? `${msg.slice(0, 400)}…` : msg}`, { path: model.dir, cause: e });
}

/**
 * Decodes `samples` (starting at `offset` seconds on the file's timeline) in one offline stream;
 * the segment found, kept inside the samples' span. `pad` appends silence (VAD-cut pieces: CTC
 * needs a few frames past the last word to emit it; before a piece there is real context already,
 * and a left pad measured no better). The samples are copied into the stream before this returns
 * its promise, so a caller may reuse their array at once.
 */
async function decodeSamples(l: Loaded, samples: Float32Array, offset: number, pad: boolean, hotwords: string | undefined): Promise<Segment | undefined> {
  const rate = l.model.manifest.sampleRate;
  const end = offset + samples.length / rate;
  const s = hotwords !== undefined ? l.offline!.createStream(hotwords) : l.offline!.createStream();
  const input = atLeast(pad ? padded(samples, rate, false) : samples, rate);
  s.acceptWaveform({ sampleRate: rate, samples: input });
  const r = await l.offline!.decodeAsync(s).catch((e: unknown) => Promise.reject(decodeError(l.model, e)));
  const found = segmentFromResult(r, offset, offset + input.length / rate);
  return found && clampSegment(found, offset, end);
}

/** Keeps a segment (and its words) inside the piece it came from. */
function clampSegment(seg: Segment, start: number, end: number): Segment {
  const c = (t: number): number => Math.min(end, Math.max(start, t));
  const words = seg.words.map((w) => ({ ...w, start: c(w.start), end: c(w.end) }));
  return { ...seg, start: c(seg.start), end: Math.max(c(seg.start), c(seg.end)), words };
}

/** Passes `source` through, reporting the seconds read so far (the decode follows closely behind). */
async function* counted(source: AsyncIterable<Float32Array>, rate: number, progress: ProgressSink): AsyncGenerator<Float32Array> {
  let n = 0;
  for await (const chunk of source) {
    n += chunk.length;
    progress.update(n / rate);
    yield chunk;
  }
}

/**
 * The segment with only the words whose middle lies in [from, to); its text, times and confidence
 * follow the kept words. Undefined when none is left.
 */
function keepWords(seg: Segment, from: number, to: number): Segment | undefined {
  const words = seg.words.filter((w) => {
    const mid = (w.start + w.end) / 2;
    return mid >= from && mid < to;
  });
  if (words.length === seg.words.length) return seg;
  if (words.length === 0) return undefined;
  const confs = words.map((w) => w.confidence).filter((c): c is number => c !== undefined);
  const { confidence: _drop, ...rest } = seg;
  const out: Segment = {
    ...rest,
    start: Math.max(seg.start, words[0]!.start),
    end: Math.min(seg.end, Math.max(words[words.length - 1]!.end, words[0]!.start)),
    text: words.map((w) => w.word).join(' '),
    words,
  };
  return confs.length ? { ...out, confidence: confs.reduce((a, b) => a + b, 0) / confs.length } : out;
}

function concat(parts: Float32Array[], n: number): Float32Array {
  const out = new Float32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function* oneChunk(samples: Float32Array, size: number): AsyncGenerator<Float32Array> {
  for (let i = 0; i < samples.length; i += size) yield samples.subarray(i, i + size);
}

/** One utterance-by-utterance pass of the online recognizer over a stream of samples. */
class OnlineRun {
  readonly #r: OnlineRecognizer;
  readonly #rate: number;
  #stream: OnlineStream;
  /** Real samples fed so far. */
  samples = 0;
  /** Start of the open utterance on the stream's timeline, seconds. */
  segmentStartSec = 0;
  /** Real time at which the current sherpa stream began, seconds. */
  #streamStartSec = 0;
  /** Synthetic (padding) seconds fed to the current stream so far, and as of the open utterance's start. */
  #synthSec = 0;
  #segSynthSec = 0;

  readonly #model: ResolvedModel;

  constructor(r: OnlineRecognizer, rate: number, model: ResolvedModel) {
    this.#r = r;
    this.#rate = rate;
    this.#model = model;
    this.#stream = r.createStream();
  }

  /** Decodes what is ready and returns the current result; native errors become typed ones. */
  #decodeReady(): SherpaResult {
    try {
      while (this.#r.isReady(this.#stream)) this.#r.decode(this.#stream);
      return this.#r.getResult(this.#stream);
    } catch (e) {
      throw decodeError(this.#model, e);
    }
  }

  /** Offset of the open utterance on the real timeline (sherpa's start_time counts padding too). */
  #offset(res: SherpaResult): number {
    return res.start_time !== undefined ? this.#streamStartSec + res.start_time - this.#segSynthSec : this.segmentStartSec;
  }

  /**
   * Starts a new sherpa stream at the current sample: what follows decodes exactly as it would
   * for a stream that starts here (which is what a resumed server session does).
   */
  #fresh(): void {
    this.#stream = this.#r.createStream();
    this.segmentStartSec = this.samples / this.#rate;
    this.#streamStartSec = this.segmentStartSec;
    this.#synthSec = 0;
    this.#segSynthSec = 0;
  }

  #reset(): void {
    this.#r.reset(this.#stream);
    this.segmentStartSec = this.samples / this.#rate;
    this.#segSynthSec = this.#synthSec;
  }

  /** Feeds samples; returns the open utterance's text and, at an endpoint, the finished segment. */
  feed(samples: Float32Array): { text: string; final?: Segment } {
    this.#stream.acceptWaveform({ sampleRate: this.#rate, samples });
    this.samples += samples.length;
    const res = this.#decodeReady();
    if (this.#r.isEndpoint(this.#stream)) {
      const seg = this.#cut(res);
      this.#reset();
      return seg ? { text: '', final: seg } : { text: '' };
    }
    return { text: res.text.trim() };
  }

  /**
   * Ends the open utterance now (the VAD heard its speech end): synthetic tail padding makes the
   * model emit its last letters at once instead of after real trailing silence.
   */
  flushUtterance(): Segment | undefined {
    const pad = Math.round(TAIL_PAD_SEC * this.#rate);
    this.#stream.acceptWaveform({ sampleRate: this.#rate, samples: new Float32Array(pad) });
    this.#synthSec += pad / this.#rate;
    const res = this.#decodeReady();
    const seg = this.#cut(res);
    this.#fresh();
    return seg;
  }

  /** The finished utterance, on the real timeline. */
  #cut(res: SherpaResult): Segment | undefined {
    return segmentFromResult(res, this.#offset(res), this.samples / this.#rate);
  }

  /** Pads the tail so it is decoded, ends the input, and returns the last segment. */
  finish(): Segment | undefined {
    this.#stream.acceptWaveform({ sampleRate: this.#rate, samples: new Float32Array(Math.round(TAIL_PAD_SEC * this.#rate)) });
    this.#stream.inputFinished();
    const res = this.#decodeReady();
    return segmentFromResult(res, this.#offset(res), this.samples / this.#rate);
  }
}
