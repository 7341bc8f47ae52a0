import {
  APIStatusError,
  ASRError,
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  InvalidArgumentError,
  PayloadTooLargeError,
  StreamInterruptedError,
  toAbortError,
} from '../../errors/index.js';
import { registerError } from '../../internal/error-registry.js';
import {
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  STREAM_PROTOCOL_VERSION,
  STREAM_SUBPROTOCOL,
  type ServerMessage,
  type StartMessage,
} from '../../server/protocol.js';
import type { AudioChunk, Segment, StreamConfig, Transcription, TranscriptionEvent } from '../../spec/index.js';
import { sleep } from '../../internal/abort.js';
import { defaultWebSocket, type ResolvedRemoteOptions, type WebSocketLike } from './options.js';

/** Lifecycle hooks the stream reports to its backend. @internal */
export interface StreamHooks {
  reconnect(attempt: number, delayMs: number, error: ASRError): void;
  resume(sessionId: string, offsetSec: number): void;
}

/** An ASRError the server sent in an `error` message. */
class ServerStreamError extends ASRError {
  override readonly code: string;
  readonly #retryable: boolean;
  constructor(code: string, message: string, retryable: boolean) {
    super(message);
    this.code = code;
    this.#retryable = retryable;
  }
  override get isRetryable(): boolean {
    return this.#retryable;
  }
}
registerError(ServerStreamError, 'ServerStreamError');

/** Mono float audio kept for replay, from `start` (absolute sample). */
interface Piece {
  start: number;
  data: Float32Array;
}

/** Unbounded-free async channel of events for the consumer. */
class EventChannel {
  readonly #items: TranscriptionEvent[] = [];
  #error: unknown;
  #done = false;
  #wake: (() => void) | undefined;
  push(e: TranscriptionEvent): void {
    this.#items.push(e);
    this.#wake?.();
  }
  fail(e: unknown): void {
    if (this.#done) return;
    this.#error = e;
    this.#done = true;
    this.#wake?.();
  }
  close(): void {
    this.#done = true;
    this.#wake?.();
  }
  async next(): Promise<TranscriptionEvent | undefined> {
    for (;;) {
      const e = this.#items.shift();
      if (e !== undefined) return e;
      if (this.#done) {
        if (this.#error !== undefined) throw this.#error;
        return undefined;
      }
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = undefined;
    }
  }
}

/**
 * The client side of streaming protocol v1: sends audio with backpressure, keeps everything after
 * the server's acknowledged offset, reconnects with capped backoff and resumes from that offset,
 * replaying the kept audio. See docs/streaming-protocol.md.
 * @internal
 */
export class StreamClient {
  readonly #o: ResolvedRemoteOptions;
  readonly #config: StreamConfig;
  readonly #hooks: StreamHooks;
  readonly #source: AsyncIterator<AudioChunk>;
  readonly #out = new EventChannel();
  readonly #stop = new AbortController();
  #sampleRate = 0;
  #channels = 1;
  /** Kept audio: every piece ends after `#ack`. */
  #pieces: Piece[] = [];
  #kept = 0;
  /** Total samples taken from the source. */
  #total = 0;
  #ack = 0;
  #inputDone = false;
  #sessionId: string | undefined;
  #ws: WebSocketLike | undefined;
  /** Next sample to send on the current connection; undefined while not ready. */
  #cursor: number | undefined;
  #stopSent = false;
  #ended = false;
  #finished = false;
  #lastFinalEnd = -1;
  readonly #finals: Segment[] = [];
  #wakeSender: (() => void) | undefined;
  #wakeProducer: (() => void) | undefined;
  /** Whether the producer waits for room in the replay buffer. */
  #producerWaiting = false;
  /** Samples the server has provably read on this connection (a pong answered a ping sent after them). */
  #confirmed = 0;
  /** For each ping in flight on this connection, in order: the samples sent before it. */
  #pings: number[] = [];
  #pulling: Promise<IteratorResult<AudioChunk>> | undefined;

  constructor(o: ResolvedRemoteOptions, audio: AsyncIterable<AudioChunk>, config: StreamConfig, hooks: StreamHooks) {
    this.#o = o;
    this.#config = config;
    this.#hooks = hooks;
    this.#source = audio[Symbol.asyncIterator]();
  }

  /** Runs the stream and yields its events. */
  async *events(): AsyncGenerator<TranscriptionEvent> {
    const signal = this.#config.abortSignal;
    const onAbort = (): void => this.#out.fail(toAbortError(signal));
    signal?.addEventListener('abort', onAbort, { once: true });
    let completed = false;
    let interrupted = false;
    try {
      void this.#produce().catch((e) => this.#out.fail(e));
      void this.#connectLoop().catch((e) => {
        interrupted = StreamInterruptedError.isInstance(e);
        this.#out.fail(e);
      });
      for (;;) {
        const e = await this.#out.next();
        if (e === undefined) break;
        yield e;
      }
      completed = true;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#finished = true;
      this.#stop.abort();
      this.#wakeSender?.();
      this.#wakeProducer?.();
      const ws = this.#ws;
      if (ws !== undefined && ws.readyState <= 1) {
        if (completed) ws.close(CLOSE_CODES.normal);
        else ws.terminate();
      }
      // A consumer that stops early (or an abort) ends the source; an interruption leaves it to the caller.
      if (!completed && !interrupted) void this.#source.return?.().catch(() => undefined);
    }
  }

  // ---------------------------------------------------------------- audio in

  /**
   * Whether the replay buffer is full: `replayBufferSec` of unacknowledged audio is kept, and the
   * server has not provably read all but the last second of it. The server acknowledges only audio
   * it will never need again (the end of a final), so an utterance longer than the buffer could
   * never be acknowledged without more audio: once a pong shows the server has read everything
   * sent, one more second may be read (the server's own queue then bounds how far this goes).
   */
  #full(): boolean {
    const rate = this.#sampleRate || 16000;
    return this.#kept >= this.#o.replayBufferSec * rate && this.#total >= this.#confirmed + rate;
  }

  async #produce(): Promise<void> {
    for (;;) {
      if (this.#finished) return;
      // Backpressure: with the replay buffer full, stop pulling from the source until the server
      // acknowledges (or reads) some (connected or not). Unacknowledged audio is never dropped, so a
      // resume or a failover always has all of it, however fast the input comes.
      while (!this.#finished && this.#full()) {
        this.#producerWaiting = true;
        this.#wakeSender?.();
        await new Promise<void>((r) => (this.#wakeProducer = r));
        this.#wakeProducer = undefined;
        this.#producerWaiting = false;
      }
      if (this.#finished) return;
      this.#pulling = this.#source.next();
      const r = await this.#pulling;
      this.#pulling = undefined;
      if (this.#finished) return;
      if (r.done) {
        this.#inputDone = true;
        this.#wakeSender?.();
        return;
      }
      this.#append(r.value);
      this.#wakeSender?.();
    }
  }

  #append(chunk: AudioChunk): void {
    const channels = chunk.channels ?? 1;
    if (typeof chunk.sampleRate !== 'number' || !Number.isInteger(chunk.sampleRate) || chunk.sampleRate < 1000 || chunk.sampleRate > 384000) {
      throw new InvalidArgumentError(`\`chunk.sampleRate\` must be a whole number from 1000 to 384000, got ${String(chunk.sampleRate)}`);
    }
    if (!Number.isInteger(channels) || channels < 1) throw new InvalidArgumentError(`\`chunk.channels\` must be a whole number >= 1, got ${channels}`);
    if (!(chunk.samples instanceof Float32Array) && !(chunk.samples instanceof Int16Array)) {
      throw new InvalidArgumentError('`chunk.samples` must be a Float32Array or an Int16Array');
    }
    if (chunk.samples.length % channels !== 0) {
      throw new InvalidArgumentError(`\`chunk.samples\` length ${chunk.samples.length} is not a multiple of ${channels} channels`);
    }
    if (this.#sampleRate === 0) {
      this.#sampleRate = chunk.sampleRate;
      this.#channels = channels;
    } else if (chunk.sampleRate !== this.#sampleRate || channels !== this.#channels) {
      throw new InvalidArgumentError(
        `All chunks of a stream must share one format: got ${chunk.sampleRate} Hz × ${channels} after ${this.#sampleRate} Hz × ${this.#channels}`,
      );
    }
    const n = chunk.samples.length / channels;
    if (n === 0) return;
    const mono = new Float32Array(n);
    const scale = chunk.samples instanceof Int16Array ? 1 / 32768 : 1;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < channels; c++) s += chunk.samples[i * channels + c]!;
      const v = (s / channels) * scale;
      if (!Number.isFinite(v)) throw new InvalidArgumentError('`chunk.samples` contains NaN or Infinity');
      mono[i] = v;
    }
    this.#pieces.push({ start: this.#total, data: mono });
    this.#total += n;
    this.#kept += n;
  }

  #trim(ack: number): void {
    if (ack <= this.#ack) return;
    this.#ack = ack;
    while (this.#pieces.length > 0) {
      const p = this.#pieces[0]!;
      const end = p.start + p.data.length;
      if (end <= ack) {
        this.#pieces.shift();
        this.#kept -= p.data.length;
      } else {
        if (p.start < ack) {
          const cut = ack - p.start;
          this.#pieces[0] = { start: ack, data: p.data.subarray(cut) };
          this.#kept -= cut;
        }
        break;
      }
    }
    this.#wakeProducer?.();
  }

  /** Kept audio from `from` on, as one array. */
  #audioFrom(from: number): Float32Array {
    const out = new Float32Array(Math.max(0, this.#total - from));
    for (const p of this.#pieces) {
      const s = Math.max(from, p.start);
      const e = p.start + p.data.length;
      if (e <= s) continue;
      out.set(p.data.subarray(s - p.start), s - from);
    }
    return out;
  }

  // ---------------------------------------------------------------- connection

  async #connectLoop(): Promise<void> {
    // Wait for the first audio: the start message needs the sample rate.
    while (this.#sampleRate === 0 && !this.#inputDone && !this.#finished) {
      await new Promise<void>((r) => (this.#wakeSender = r));
      this.#wakeSender = undefined;
    }
    if (this.#finished) return;
    if (this.#sampleRate === 0) {
      // No audio at all: an empty stream.
      this.#out.push({ type: 'end', durationSec: 0, transcription: this.#transcription(0) });
      this.#out.close();
      return;
    }
    let attempt = 0;
    for (;;) {
      let lost: ASRError;
      try {
        await this.#session();
        return; // ended normally
      } catch (e) {
        if (this.#finished) return;
        if (!ASRError.isInstance(e) || !e.isRetryable || StreamInterruptedError.isInstance(e)) throw e;
        lost = e;
      }
      if (this.#ended) return;
      if (attempt >= this.#o.reconnect.maxAttempts) throw this.#interrupted(`Lost the stream and could not resume after ${attempt} attempts: ${lost.message}`, lost);
      const retryAfter = APIStatusError.isInstance(lost) ? Number(lost.headers['retry-after']) * 1000 : NaN;
      const backoff = Math.min(this.#o.reconnect.initialDelayMs * 2 ** attempt, this.#o.reconnect.maxDelayMs) * (1 - Math.random() * 0.25);
      const delay = Number.isFinite(retryAfter) && retryAfter >= 0 && retryAfter <= 60_000 ? retryAfter : backoff;
      attempt++;
      this.#hooks.reconnect(attempt, delay, lost);
      await sleep(delay, this.#stop.signal).catch(() => undefined);
      if (this.#finished) return;
      // A successful resume resets the attempt counter (see #session's ready handling).
      this.#onReady = () => (attempt = 0);
    }
  }

  #onReady: (() => void) | undefined;

  /** The stream cannot go on: the error names, and carries, every sample the server has not acknowledged. */
  #interrupted(message: string, cause: unknown): StreamInterruptedError {
    const from = this.#ack;
    const sec = (n: number): string => (n / this.#sampleRate).toFixed(2);
    return new StreamInterruptedError(
      `${message}; the server has not acknowledged ${sec(this.#total - from)} s of audio from ${sec(from)} s on (StreamInterruptedError.unacknowledgedAudio)`,
      { unacknowledgedAudio: this.#audioFrom(from), sampleRate: this.#sampleRate, audioOffsetSec: from / this.#sampleRate },
      { cause },
    );
  }

  /** One connection: resolves when the session ended normally, rejects when the connection was lost. */
  async #session(): Promise<void> {
    const WebSocketCtor = this.#o.WebSocket ?? (await defaultWebSocket());
    return new Promise<void>((resolve, reject) => {
      const headers: Record<string, string> = {};
      if (this.#o.apiKey !== undefined) headers.authorization = `Bearer ${this.#o.apiKey}`;
      let ws: WebSocketLike;
      try {
        ws = new WebSocketCtor(this.#o.streamUrl, [STREAM_SUBPROTOCOL], {
          headers,
          maxPayload: MAX_FRAME_BYTES,
          handshakeTimeout: this.#o.connectTimeoutMs,
        });
      } catch (e) {
        reject(new ConnectionError(`Could not open ${this.#o.streamUrl}: ${(e as Error).message}`, { cause: e }));
        return;
      }
      this.#ws = ws;
      this.#cursor = undefined;
      this.#stopSent = false;
      this.#pings = [];
      let settled = false;
      let pongPending = false;
      let pinger: NodeJS.Timeout | undefined;
      const readyTimer = setTimeout(() => fail(new ConnectionError(`No \`ready\` from ${this.#o.streamUrl} within ${this.#o.connectTimeoutMs} ms`)), this.#o.connectTimeoutMs);
      const settle = (): void => {
        settled = true;
        clearTimeout(readyTimer);
        clearInterval(pinger);
        this.#cursor = undefined;
        this.#wakeSender?.();
      };
      const fail = (e: ASRError): void => {
        if (settled) return;
        settle();
        ws.terminate();
        reject(e);
      };

      ws.on('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h[k] = v;
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString('utf8')));
        res.on('end', () => {
          let parsed: unknown = body;
          try {
            parsed = JSON.parse(body);
          } catch {
            /* keep text */
          }
          const msg = (parsed as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${status}`;
          fail(APIStatusError.fromResponse(status, `${status} ${msg}`, { headers: h, body: parsed }));
        });
        res.on('error', () => fail(APIStatusError.fromResponse(status, `HTTP ${status}`, { headers: h })));
      });
      ws.on('open', () => {
        const start: StartMessage = {
          type: 'start',
          version: STREAM_PROTOCOL_VERSION,
          sample_rate: this.#sampleRate,
          encoding: this.#o.streamEncoding,
          model: this.#o.streamModel,
          partials: this.#config.partials ?? true,
          ...(this.#config.language !== undefined ? { language: this.#config.language } : {}),
          ...(this.#sessionId !== undefined ? { session_id: this.#sessionId, resume_offset: this.#ack } : {}),
        };
        ws.send(JSON.stringify(start));
        pinger = setInterval(() => {
          if (pongPending) {
            fail(new ConnectionError('The server stopped answering keepalive pings'));
            return;
          }
          pongPending = true;
          this.#ping(ws);
        }, this.#o.keepaliveIntervalMs);
      });
      ws.on('pong', () => {
        pongPending = false;
        // Pongs answer pings in order, and the server reads frames in order: everything sent
        // before the ping has been read.
        const sent = this.#pings.shift();
        if (sent !== undefined && this.#ws === ws && sent > this.#confirmed) {
          this.#confirmed = sent;
          this.#wakeProducer?.();
        }
      });
      ws.on('message', (data: RawData, isBinary: boolean) => {
        if (settled) return;
        if (isBinary) return fail(new ConnectionError('The server sent a binary frame; the protocol has none'));
        let m: ServerMessage;
        try {
          m = JSON.parse(rawToString(data)) as ServerMessage;
          if (typeof m !== 'object' || m === null || typeof m.type !== 'string') throw new Error('not a message');
        } catch (e) {
          return fail(new ConnectionError('The server sent a malformed message', { cause: e }));
        }
        try {
          this.#handle(m, ws, (e) => fail(e));
        } catch (e) {
          fail(ASRError.isInstance(e) ? e : new ConnectionError('Could not handle a server message', { cause: e }));
        }
      });
      ws.on('close', (code: number, reason: Buffer) => {
        if (settled) return;
        if (this.#ended) {
          settle();
          resolve();
          return;
        }
        const why = reason.toString('utf8');
        if (code === CLOSE_CODES.unauthorized) fail(new AuthenticationError(401, `The server refused the key${why ? `: ${why}` : ''}`));
        else if (code === CLOSE_CODES.protocolError) fail(new BadRequestError(400, `The server rejected the stream${why ? `: ${why}` : ''}`));
        else if (code === CLOSE_CODES.tooLong) fail(new PayloadTooLargeError(413, `The stream is longer than the server accepts${why ? `: ${why}` : ''}`));
        else if (code === CLOSE_CODES.normal) fail(new ConnectionError('The server closed the stream before `end`'));
        else fail(new ConnectionError(`The stream connection closed (${code}${why ? ` ${why}` : ''})`));
      });
      ws.on('error', (e: Error) => fail(new ConnectionError(`Stream connection error: ${e.message}`, { cause: e })));
      this.#resolveSession = () => {
        if (settled) return;
        settle();
        ws.close(CLOSE_CODES.normal);
        resolve();
      };
    });
  }

  #resolveSession: (() => void) | undefined;

  /** Pings the server, noting the audio sent before the ping. */
  #ping(ws: WebSocketLike): void {
    this.#pings.push(this.#cursor ?? this.#confirmed);
    ws.ping();
  }

  #handle(m: ServerMessage, ws: WebSocketLike, fail: (e: ASRError) => void): void {
    if (typeof m.ack === 'number' && Number.isFinite(m.ack) && m.ack <= this.#total) this.#trim(m.ack);
    switch (m.type) {
      case 'ready': {
        const resumed = this.#sessionId !== undefined;
        this.#sessionId = m.session_id;
        if (m.audio_end < this.#ack || m.audio_end > this.#total) {
          throw this.#interrupted(`The server resumed at sample ${m.audio_end}, outside the kept audio`, undefined);
        }
        if (resumed) this.#hooks.resume(m.session_id, m.audio_end / this.#sampleRate);
        this.#onReady?.();
        this.#cursor = m.audio_end;
        this.#confirmed = m.audio_end;
        void this.#send(ws).catch((e) => fail(ASRError.isInstance(e) ? e : new ConnectionError('Sending failed', { cause: e })));
        return;
      }
      case 'partial':
        if (this.#config.partials ?? true) this.#out.push({ type: 'partial', text: m.text, start: m.start, end: m.end });
        return;
      case 'final':
        // The ack travels with the final, so a final at or before one already seen is a duplicate.
        if (m.audio_end <= this.#lastFinalEnd) return;
        this.#lastFinalEnd = m.audio_end;
        this.#finals.push(m.segment);
        this.#out.push({ type: 'final', segment: m.segment });
        return;
      case 'warning':
        this.#out.push({ type: 'warning', warning: m.warning });
        return;
      case 'error': {
        const err = new ServerStreamError(m.code, m.message, m.retryable);
        if (!m.fatal) {
          this.#out.push({ type: 'error', error: err, recoverable: true });
          return;
        }
        if (!m.retryable) this.#out.push({ type: 'error', error: err, recoverable: false });
        fail(err);
        return;
      }
      case 'end':
        this.#ended = true;
        this.#out.push({ type: 'end', durationSec: m.duration_sec, transcription: this.#transcription(m.duration_sec) });
        this.#out.close();
        this.#resolveSession?.();
        return;
      default:
        return; // ack, and message types of later minor versions
    }
  }

  /** Sends kept audio from the cursor on, then `stop` once the source is done. */
  async #send(ws: WebSocketLike): Promise<void> {
    const bps = this.#o.streamEncoding === 'pcm_s16le' ? 2 : 4;
    const maxSamples = Math.floor(Math.min(MAX_FRAME_BYTES, 64 * 1024) / bps);
    while (!this.#finished && this.#ws === ws && ws.readyState === 1 && this.#cursor !== undefined) {
      if (ws.bufferedAmount > this.#o.maxBufferedBytes) {
        await sleep(5);
        continue;
      }
      const cursor = this.#cursor;
      if (cursor < this.#total) {
        const piece = this.#pieces.find((p) => p.start + p.data.length > cursor);
        if (piece === undefined || piece.start > cursor) throw this.#interrupted('Kept audio has a gap', undefined);
        const from = cursor - piece.start;
        const part = piece.data.subarray(from, Math.min(piece.data.length, from + maxSamples));
        ws.send(encode(part, this.#o.streamEncoding));
        this.#cursor = cursor + part.length;
        continue;
      }
      if (this.#inputDone) {
        if (!this.#stopSent) {
          this.#stopSent = true;
          ws.send(JSON.stringify({ type: 'stop' }));
        }
        return;
      }
      // Everything is sent and the producer waits for room: ask whether the server has read it all
      // (see #full), once per position.
      if (this.#producerWaiting && this.#confirmed < cursor && this.#pings.at(-1) !== cursor) this.#ping(ws);
      await new Promise<void>((r) => (this.#wakeSender = r));
      this.#wakeSender = undefined;
    }
  }

  #transcription(durationSec: number): Transcription {
    const segments = [...this.#finals];
    return {
      text: segments.map((s) => s.text.trim()).filter((t) => t !== '').join(' '),
      segments,
      ...(this.#config.language !== undefined ? { language: this.#config.language } : {}),
      durationSec,
      processingTimeSec: 0,
      backend: 'remote',
      warnings: [],
    };
  }
}

/** A `message` event's payload. */
type RawData = Buffer | ArrayBuffer | Buffer[];

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function encode(samples: Float32Array, encoding: 'pcm_s16le' | 'pcm_f32le'): Buffer {
  if (encoding === 'pcm_f32le') return Buffer.from(samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength));
  const out = Buffer.allocUnsafe(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]!));
    out.writeInt16LE(Math.round(v < 0 ? v * 32768 : v * 32767), i * 2);
  }
  return out;
}
