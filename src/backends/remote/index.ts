/**
 * The remote backend: batch transcription over OpenAI's `POST /v1/audio/transcriptions` (works
 * against `hybrid-asr serve` and any OpenAI-compatible server), live streaming over the hybrid-asr
 * WebSocket protocol v1 (docs/streaming-protocol.md) with resume after dropped connections.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { EventEmitter } from 'eventemitter3';
import { progressSink } from '../../internal/progress.js';
import { decodeAudio, encodeWav } from '../../audio/index.js';
import {
  BackendUnavailableError,
  ConnectionError,
  InvalidArgumentError,
  InvalidAudioError,
  throwIfAborted,
} from '../../errors/index.js';
import type { ASRError } from '../../errors/index.js';
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
  Word,
} from '../../spec/index.js';
import { httpCall } from './http.js';
import { resolveRemoteOptions, type RemoteBackendOptions, type ResolvedRemoteOptions } from './options.js';
import { StreamClient } from './stream.js';

export type { ReconnectOptions, RemoteBackendOptions, WebSocketConstructor, WebSocketLike } from './options.js';

/** Lifecycle events of a {@link RemoteBackend}. */
export interface RemoteBackendEvents {
  /** An HTTP request is retried after `error`, in `delayMs`. */
  retry: [attempt: number, delayMs: number, error: ASRError];
  /** A live stream lost its connection and reconnects in `delayMs`. */
  reconnect: [attempt: number, delayMs: number, error: ASRError];
  /** A live stream resumed its session at `offsetSec` on its timeline. */
  resume: [sessionId: string, offsetSec: number];
}

/** Per-call settings read from `backendOptions.remote`. */
export interface RemoteCallOptions {
  /** Timeout of each attempt of this call, in ms (overrides the backend's `timeoutMs`). */
  readonly timeoutMs?: number | undefined;
  /** Model name for this call (overrides the backend's `model`). */
  readonly model?: string | undefined;
  /** Free-text `prompt` sent to the server. */
  readonly prompt?: string | undefined;
}

const CODES_BY_NAME: Readonly<Record<string, string>> = {
  english: 'en', german: 'de', french: 'fr', spanish: 'es', italian: 'it', portuguese: 'pt', dutch: 'nl',
  russian: 'ru', chinese: 'zh', japanese: 'ja', korean: 'ko', arabic: 'ar', hindi: 'hi', polish: 'pl',
  turkish: 'tr', ukrainian: 'uk', swedish: 'sv', czech: 'cs', greek: 'el', hebrew: 'he',
};

interface VerboseBody {
  text?: unknown;
  language?: unknown;
  duration?: unknown;
  segments?: unknown;
  words?: unknown;
}

/**
 * An {@link ASRBackend} that talks to a server: `hybrid-asr serve`, OpenAI, or any
 * OpenAI-compatible transcription API (batch), and `hybrid-asr serve` (streaming).
 *
 * Constructing it opens nothing. Retries follow openai-node (2 retries on connection errors,
 * 408, 409, 429, 5xx; `retry-after-ms` / `retry-after` honoured when 0–60 s, else exponential
 * 0.5 s → 8 s with jitter). Live streams reconnect and resume from the last acknowledged sample;
 * when they can't, they fail with a `StreamInterruptedError` carrying the unacknowledged audio.
 *
 * @example
 * ```ts
 * const remote = new RemoteBackend({ baseUrl: 'http://10.0.0.5:8080/v1', apiKey: process.env.KEY });
 * const { text } = await remote.transcribe('meeting.wav');
 * ```
 */
export class RemoteBackend extends EventEmitter<RemoteBackendEvents> implements ASRBackend {
  /** `'remote'`. */
  readonly id = 'remote';
  /** `remote (<base URL>)`. */
  readonly name: string;
  /** What a server offers in general; the server's model decides the rest. */
  readonly capabilities: BackendCapabilities = {
    streaming: true,
    diarization: false,
    offline: false,
    wordTimestamps: true,
    languages: 'any',
    hotwords: false,
  };
  readonly #o: ResolvedRemoteOptions;
  #disposed = false;
  readonly #streams = new Set<AbortController>();

  /** @param options - see {@link RemoteBackendOptions}; validated here, nothing is opened. */
  constructor(options: RemoteBackendOptions) {
    super();
    this.#o = resolveRemoteOptions(options);
    this.name = `remote (${this.#o.baseUrl})`;
  }

  #headers(): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    if (this.#o.apiKey !== undefined) h.authorization = `Bearer ${this.#o.apiKey}`;
    return h;
  }

  #checkOpen(): void {
    if (this.#disposed) throw new BackendUnavailableError('The remote backend was disposed');
  }

  /** Probes `GET {baseUrl}/models` with a short timeout; never throws. */
  async isAvailable(options?: { readonly abortSignal?: AbortSignal }): Promise<boolean> {
    if (this.#disposed || options?.abortSignal?.aborted) return false;
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(this.#o.healthTimeoutMs), ...(options?.abortSignal ? [options.abortSignal] : [])]);
      const res = await this.#o.fetch(`${this.#o.baseUrl}/models`, { headers: this.#headers(), signal });
      await res.arrayBuffer().catch(() => undefined);
      return res.ok;
    } catch {
      return false;
    }
  }

  /** Uploads the audio to `POST {baseUrl}/audio/transcriptions` and maps the answer. */
  async transcribe(audio: AudioInput, options: TranscriptionConfig = {}): Promise<Transcription> {
    this.#checkOpen();
    throwIfAborted(options.abortSignal);
    const started = performance.now();
    const remote = readCallOptions(options);
    const warnings: TranscriptionWarning[] = [];
    if (options.diarization !== undefined && options.diarization !== false) {
      warnings.push({ type: 'unsupported', feature: 'diarization', details: 'the OpenAI transcription API has no diarization' });
    }
    const { bytes, filename } = await toUpload(audio, options.abortSignal);
    const format = this.#o.responseFormat;
    const prompt = [remote.prompt, options.hotwords?.join(', ')].filter((s) => s !== undefined && s !== '').join('. ');
    const body = (): FormData => {
      const fd = new FormData();
      fd.append('file', new Blob([bytes], { type: 'audio/wav' }), filename);
      fd.append('model', remote.model ?? this.#o.model);
      fd.append('response_format', format);
      if (format === 'verbose_json') {
        fd.append('timestamp_granularities[]', 'segment');
        fd.append('timestamp_granularities[]', 'word');
      }
      if (options.language !== undefined) fd.append('language', options.language);
      if (prompt !== '') fd.append('prompt', prompt);
      return fd;
    };
    let parsed: VerboseBody | undefined;
    const res = await httpCall({
      url: `${this.#o.baseUrl}/audio/transcriptions`,
      method: 'POST',
      headers: this.#headers(),
      body,
      timeoutMs: remote.timeoutMs ?? this.#o.timeoutMs,
      maxRetries: this.#o.maxRetries,
      signal: options.abortSignal,
      fetch: this.#o.fetch,
      onRetry: (n, d, e) => this.emit('retry', n, d, e),
      validate: (r) => {
        try {
          const v = JSON.parse(r.text) as VerboseBody;
          if (typeof v !== 'object' || v === null || typeof v.text !== 'string') throw new Error('no `text`');
          parsed = v;
        } catch (e) {
          throw new ConnectionError(`The server sent a malformed transcription body (${(e as Error).message})`, { cause: e });
        }
      },
    });
    void res;
    const v = parsed!;
    const headerWarnings = res.headers.get('x-hybrid-asr-warnings');
    if (headerWarnings) {
      try {
        warnings.push(...(JSON.parse(decodeURIComponent(headerWarnings)) as TranscriptionWarning[]));
      } catch {
        /* not ours */
      }
    }
    const t = toTranscription(v, options.language, warnings, (performance.now() - started) / 1000);
    // The server reports no progress of its own: one report when its answer arrives.
    progressSink(options.onProgress, t.durationSec).finish(t.durationSec);
    return t;
  }

  /**
   * Streams live audio to `{streamUrl}` (protocol v1) and yields partials, finals and `end` on the
   * stream's timeline, across reconnections. Breaking out of the loop closes the connection.
   */
  async *transcribeStream(audio: AsyncIterable<AudioChunk>, options: StreamConfig = {}): AsyncGenerator<TranscriptionEvent> {
    this.#checkOpen();
    throwIfAborted(options.abortSignal);
    const local = new AbortController();
    this.#streams.add(local);
    const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, local.signal]) : local.signal;
    try {
      const client = new StreamClient(this.#o, audio, { ...options, abortSignal: signal }, {
        reconnect: (n, d, e) => this.emit('reconnect', n, d, e),
        resume: (id, off) => this.emit('resume', id, off),
      });
      yield* client.events();
    } finally {
      this.#streams.delete(local);
    }
  }

  /** Closes open streams; later calls reject with `BackendUnavailableError`. Idempotent. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    for (const s of this.#streams) s.abort(new BackendUnavailableError('The remote backend was disposed'));
    this.#streams.clear();
  }
}

function readCallOptions(options: TranscriptionConfig): RemoteCallOptions {
  const r = (options.backendOptions?.remote ?? {}) as Record<string, unknown>;
  if (r.timeoutMs !== undefined && (typeof r.timeoutMs !== 'number' || !Number.isFinite(r.timeoutMs) || r.timeoutMs <= 0)) {
    throw new InvalidArgumentError(`\`backendOptions.remote.timeoutMs\` must be a finite number > 0, got ${typeof r.timeoutMs === 'number' ? r.timeoutMs : JSON.stringify(r.timeoutMs)}`);
  }
  if (r.model !== undefined && (typeof r.model !== 'string' || r.model === '')) {
    throw new InvalidArgumentError('`backendOptions.remote.model` must be a non-empty string');
  }
  if (r.prompt !== undefined && typeof r.prompt !== 'string') throw new InvalidArgumentError('`backendOptions.remote.prompt` must be a string');
  return r;
}

/** The bytes to upload: WAV files as they are, everything else decoded and written as WAV. */
async function toUpload(audio: AudioInput, signal: AbortSignal | undefined): Promise<{ bytes: Uint8Array; filename: string }> {
  if (typeof audio === 'string' || audio instanceof URL) {
    const path = audio instanceof URL ? fileURLToPath(audio) : audio;
    try {
      const bytes = await readFile(path, signal ? { signal } : {});
      return { bytes, filename: path.split(/[\\/]/).pop() || 'audio.wav' };
    } catch (e) {
      throwIfAborted(signal);
      throw new InvalidAudioError(`Cannot read the audio file ${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (audio instanceof Uint8Array) {
    if (audio.length === 0) throw new InvalidAudioError('The audio is empty');
    return { bytes: audio, filename: 'audio.wav' };
  }
  const decoded = await decodeAudio(audio, signal ? { abortSignal: signal } : {});
  return { bytes: encodeWav(decoded.samples, decoded.sampleRate), filename: 'audio.wav' };
}

/** A segment's `text`: strings as they are, other values (a number…) as JSON, none as ''. */
function textOf(v: unknown): string {
  return (v == null ? '' : typeof v === 'string' ? v : (JSON.stringify(v) ?? '')).trim();
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** Maps an OpenAI `json` / `verbose_json` body to a {@link Transcription}. */
function toTranscription(v: VerboseBody, language: string | undefined, warnings: TranscriptionWarning[], processingTimeSec: number): Transcription {
  const text = String(v.text).trim();
  const words: Word[] = Array.isArray(v.words)
    ? (v.words as Record<string, unknown>[])
        .filter((w) => typeof w?.word === 'string')
        .map((w) => ({ word: String(w.word).trim(), start: num(w.start, 0), end: num(w.end, 0) }))
    : [];
  let segments: Segment[];
  if (Array.isArray(v.segments) && v.segments.length > 0) {
    const raw = (v.segments as Record<string, unknown>[]).map((s) => ({ start: num(s.start, 0), end: num(s.end, 0), text: textOf(s.text) }));
    segments = raw.map((s, i) => {
      const next = raw[i + 1];
      const mine = words.filter((w) => {
        const mid = (w.start + w.end) / 2;
        return mid >= (i === 0 ? -Infinity : s.start) && (next === undefined || mid < next.start);
      });
      return { ...s, words: mine };
    });
  } else if (text !== '') {
    const end = num(v.duration, words.at(-1)?.end ?? 0);
    segments = [{ start: words[0]?.start ?? 0, end: words.at(-1)?.end ?? end, text, words }];
  } else segments = [];
  const lang = typeof v.language === 'string' ? (CODES_BY_NAME[v.language.toLowerCase()] ?? v.language) : language;
  return {
    text,
    segments,
    ...(lang !== undefined ? { language: lang } : {}),
    durationSec: num(v.duration, segments.at(-1)?.end ?? 0),
    processingTimeSec,
    backend: 'remote',
    warnings,
  };
}
