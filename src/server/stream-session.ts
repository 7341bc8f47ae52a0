import { randomUUID } from 'node:crypto';
import type { WebSocket, RawData } from 'ws';
import { ASRError } from '../errors/index.js';
import type { ASRBackend, AudioChunk, Segment, TranscriptionEvent } from '../spec/index.js';
import { AsyncChannel } from '../internal/channel.js';
import {
  CLOSE_CODES,
  STREAM_PROTOCOL_VERSION,
  bytesPerSample,
  decodePcm,
  parseClientMessage,
  startMessageProblem,
  type ServerMessage,
  type StartMessage,
  type StreamEncoding,
} from '../protocol/index.js';

/** What a session needs from the server. @internal */
export interface SessionHost {
  /** Finds the backend for a model name; undefined when strict and unknown. */
  pickModel(name: string | undefined): { name: string; backend: ASRBackend } | undefined;
  /**
   * Registers a session under its id and closes an older live session with the same id; false
   * (and nothing changes) when the id belongs to another credential.
   */
  register(session: StreamSession): boolean;
  /** Forgets a session. */
  unregister(session: StreamSession): void;
  /** Longest audio a session may send, in seconds. */
  readonly maxStreamDurationSec: number;
  /** A session that sends nothing for this long is closed. */
  readonly idleTimeoutMs: number;
  /** A socket must send `start` within this long. */
  readonly startTimeoutMs: number;
  /** Lowest `sample_rate` accepted (lower rates multiply the work per byte). */
  readonly minSampleRate: number;
  /** Interval of pings; a missed pong drops the connection. */
  readonly keepaliveIntervalMs: number;
  /** With no utterance open, audio older than this (behind what the recogniser read) is acknowledged. */
  readonly silenceAckLagSec: number;
  /** The server's logger. */
  readonly log: ((level: 'info' | 'warn' | 'error', message: string) => void) | undefined;
}

/** Chunks waiting for the recogniser; more than this pauses the socket. */
const HIGH_WATER_CHUNKS = 32;

/**
 * One streaming session on one WebSocket connection (protocol v1). The recogniser starts at the
 * resume offset; every time it reports is shifted onto the session timeline. The acknowledged
 * offset only moves to the end of the last final (or, with no utterance open, to audio older than
 * `silenceAckLagSec`), so a client that replays everything after it loses nothing and duplicates
 * nothing.
 * @internal
 */
export class StreamSession {
  #id = '';
  readonly #ws: WebSocket;
  readonly #host: SessionHost;
  readonly #abort = new AbortController();
  /** Audio waiting for the recogniser; undefined until `start`. */
  #queue: AsyncChannel<AudioChunk> | undefined;
  /**
   * Samples the recogniser has finished with: a chunk counts once it asks for the next one (it has
   * then fed it to the model, and any utterance in it is open).
   */
  #processed = 0;
  #sampleRate = 16000;
  #encoding: StreamEncoding = 'pcm_s16le';
  #base = 0;
  #received = 0;
  #ack = 0;
  #lastAckSent = 0;
  #utteranceOpen = false;
  #streaming = false;
  #stopped = false;
  #closed = false;
  #lastActivity = Date.now();
  #alive = true;
  #timer: NodeJS.Timeout | undefined;
  #pinger: NodeJS.Timeout | undefined;
  #startTimer: NodeJS.Timeout | undefined;
  /** The credential that opened the connection (`key:<n>`, or `anonymous` on a keyless server). */
  readonly principal: string;
  /** Resolves when the session is over. */
  readonly done: Promise<void>;
  #resolveDone!: () => void;

  constructor(ws: WebSocket, host: SessionHost, principal: string) {
    this.#ws = ws;
    this.#host = host;
    this.principal = principal;
    this.done = new Promise((r) => (this.#resolveDone = r));
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('close', () => this.#onClose());
    ws.on('error', () => this.#onClose());
    // Pings and pongs prove the peer is there, not that it is using its slot: only messages
    // count as activity (a client's automatic pongs used to hold a slot forever).
    ws.on('pong', () => {
      this.#alive = true;
    });
    this.#startTimer = setTimeout(() => {
      if (this.#queue === undefined) {
        this.#fail('start_timeout', `No \`start\` message within ${host.startTimeoutMs} ms of connecting; the connection was closed`, false, CLOSE_CODES.idle);
      }
    }, host.startTimeoutMs);
    this.#timer = setInterval(() => {
      if (Date.now() - this.#lastActivity > host.idleTimeoutMs) {
        this.#fail('idle_timeout', 'Nothing received for too long; the session was closed', true, CLOSE_CODES.idle);
      }
    }, Math.min(1000, host.idleTimeoutMs));
    this.#pinger = setInterval(() => {
      if (!this.#alive) {
        this.#host.log?.('warn', `stream ${this.id || '(unstarted)'}: keepalive missed, dropping`);
        this.#ws.terminate();
        return;
      }
      this.#alive = false;
      this.#ws.ping();
    }, host.keepaliveIntervalMs);
  }

  /** The session id; '' until `start`. */
  get id(): string {
    return this.#id;
  }

  /** Whether the client already asked to stop (the session is finishing). */
  get finishing(): boolean {
    return this.#stopped;
  }

  /** Hands the session back to the client: an error saying where to resume, then close 1012. */
  handBack(): void {
    this.#fail('server_shutdown', 'The server is shutting down; resume the session elsewhere', true, CLOSE_CODES.serviceRestart);
  }

  /** Ends the connection without a message (a newer connection resumed this session). */
  supersede(): void {
    this.#abort.abort();
    this.#close(CLOSE_CODES.serviceRestart, 'superseded by a resumed connection');
  }

  #send(m: ServerMessage): void {
    if (this.#closed || this.#ws.readyState !== this.#ws.OPEN) return;
    this.#ws.send(JSON.stringify(m));
  }

  #seconds(samples: number): number {
    return samples / this.#sampleRate;
  }

  #samples(sec: number): number {
    return Math.round(sec * this.#sampleRate);
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    this.#lastActivity = Date.now();
    if (this.#closed) return;
    if (isBinary) {
      this.#onAudio(toBuffer(data));
      return;
    }
    const msg = parseClientMessage(toBuffer(data).toString('utf8'));
    if ('problem' in msg) this.#fail('invalid_message', msg.problem, false, CLOSE_CODES.protocolError);
    else if (msg.type === 'start') this.#onStart(msg.message);
    else this.#onStop();
  }

  #onStart(raw: unknown): void {
    if (this.#queue !== undefined) {
      this.#fail('invalid_message', '`start` was sent twice', false, CLOSE_CODES.protocolError);
      return;
    }
    clearTimeout(this.#startTimer);
    const bad = startMessageProblem(raw, this.#host.minSampleRate);
    if (bad !== undefined) {
      this.#fail('invalid_message', bad, false, CLOSE_CODES.protocolError);
      return;
    }
    const m = raw as StartMessage;
    const model = this.#host.pickModel(m.model);
    if (model === undefined) {
      this.#fail('model_not_found', `The model "${m.model}" does not exist on this server`, false, CLOSE_CODES.protocolError);
      return;
    }
    const resumed = m.session_id !== undefined;
    this.#id = m.session_id ?? randomUUID();
    this.#sampleRate = m.sample_rate;
    this.#encoding = m.encoding;
    this.#base = m.resume_offset ?? 0;
    this.#received = this.#base;
    this.#ack = this.#base;
    this.#lastAckSent = this.#base;
    this.#streaming = model.backend.capabilities.streaming;
    if (!this.#host.register(this)) {
      this.#fail('session_forbidden', `The session ${this.id} belongs to another credential; start a new session instead of resuming it`, false, CLOSE_CODES.forbidden);
      return;
    }
    this.#host.log?.('info', `stream ${this.id}: ${resumed ? `resumed at sample ${this.#base}` : 'started'} (model ${model.name})`);
    const queue = new AsyncChannel<AudioChunk>({
      onTake: (_chunk, remaining) => {
        if (remaining < HIGH_WATER_CHUNKS / 2 && this.#ws.isPaused) this.#ws.resume();
      },
    });
    this.#queue = queue;
    this.#send({
      type: 'ready',
      version: STREAM_PROTOCOL_VERSION,
      session_id: this.id,
      sample_rate: this.#sampleRate,
      resumed,
      ack: this.#ack,
      audio_start: this.#base,
      audio_end: this.#base,
    });
    void this.#run(model.backend, queue, m);
  }

  #onAudio(buf: Buffer): void {
    const queue = this.#queue;
    if (queue === undefined || this.#stopped) {
      this.#fail('invalid_message', 'Audio must come after `start` and before `stop`', false, CLOSE_CODES.protocolError);
      return;
    }
    const bps = bytesPerSample(this.#encoding);
    if (buf.length % bps !== 0) {
      this.#fail('invalid_audio', `A binary frame of ${buf.length} bytes is not a whole number of ${this.#encoding} samples`, false, CLOSE_CODES.protocolError);
      return;
    }
    const n = buf.length / bps;
    if (this.#seconds(this.#received + n) > this.#host.maxStreamDurationSec) {
      this.#fail('audio_too_long', `The stream is longer than this server accepts (${this.#host.maxStreamDurationSec} s)`, false, CLOSE_CODES.tooLong);
      return;
    }
    const frame = decodePcm(buf, this.#encoding);
    if ('problem' in frame) {
      this.#fail('invalid_audio', frame.problem, false, CLOSE_CODES.protocolError);
      return;
    }
    this.#received += n;
    queue.push({ samples: frame.samples, sampleRate: this.#sampleRate, channels: 1 });
    if (queue.size > HIGH_WATER_CHUNKS && !this.#ws.isPaused) this.#ws.pause();
    // With no utterance open, silence older than the lag can be acknowledged: older than the lag
    // behind what the recogniser has processed, not behind what arrived (under load the
    // recogniser runs behind, and speech it has not reached yet must stay unacknowledged).
    if (this.#streaming && !this.#utteranceOpen) {
      const candidate = this.#base + this.#processed - this.#samples(this.#host.silenceAckLagSec);
      if (candidate > this.#ack) this.#ack = candidate;
      if (this.#ack - this.#lastAckSent >= this.#sampleRate / 2) this.#sendAck();
    }
  }

  #sendAck(): void {
    this.#lastAckSent = this.#ack;
    this.#send({ type: 'ack', ack: this.#ack, audio_start: this.#base, audio_end: this.#received });
  }

  #onStop(): void {
    if (this.#queue === undefined) {
      this.#fail('invalid_message', '`stop` came before `start`', false, CLOSE_CODES.protocolError);
      return;
    }
    this.#stopped = true;
    this.#queue.close();
  }

  /** The queued audio as the recogniser reads it, counting each chunk once the next one is asked for. */
  async *#counted(queue: AsyncChannel<AudioChunk>): AsyncGenerator<AudioChunk> {
    for await (const c of queue) {
      yield c;
      this.#processed += c.samples.length;
    }
  }

  async #run(backend: ASRBackend, queue: AsyncChannel<AudioChunk>, m: StartMessage): Promise<void> {
    const baseSec = this.#seconds(this.#base);
    const shift = (s: Segment): Segment => ({
      ...s,
      start: s.start + baseSec,
      end: s.end + baseSec,
      words: s.words.map((w) => ({ ...w, start: w.start + baseSec, end: w.end + baseSec })),
    });
    try {
      const events: AsyncIterable<TranscriptionEvent> = backend.transcribeStream(this.#counted(queue), {
        ...(m.language !== undefined ? { language: m.language } : {}),
        partials: m.partials ?? true,
        abortSignal: this.#abort.signal,
      });
      for await (const e of events) {
        if (this.#closed) break;
        switch (e.type) {
          case 'partial':
            this.#utteranceOpen = e.text.trim() !== '';
            this.#send({
              type: 'partial',
              text: e.text,
              start: e.start + baseSec,
              end: e.end + baseSec,
              ack: this.#ack,
              audio_start: this.#samples(e.start + baseSec),
              audio_end: this.#samples(e.end + baseSec),
            });
            break;
          case 'final': {
            const seg = shift(e.segment);
            const end = Math.min(this.#received, Math.max(this.#ack, this.#samples(seg.end)));
            this.#ack = end;
            this.#lastAckSent = end;
            this.#utteranceOpen = false;
            this.#send({ type: 'final', segment: seg, ack: end, audio_start: this.#samples(seg.start), audio_end: end });
            break;
          }
          case 'warning':
            this.#send({ type: 'warning', warning: e.warning, ack: this.#ack, audio_start: this.#ack, audio_end: this.#received });
            break;
          case 'error':
            this.#send({
              type: 'error',
              code: e.error.code,
              message: e.error.message,
              retryable: e.error.isRetryable,
              fatal: !e.recoverable,
              ack: this.#ack,
              audio_start: this.#ack,
              audio_end: this.#received,
            });
            break;
          case 'end':
            if (!this.#stopped) break;
            this.#ack = this.#received;
            this.#send({
              type: 'end',
              duration_sec: this.#seconds(this.#received),
              ack: this.#received,
              audio_start: 0,
              audio_end: this.#received,
            });
            this.#close(CLOSE_CODES.normal, 'end');
            break;
          default:
            break;
        }
      }
      if (!this.#closed && this.#stopped) {
        // A backend that ended without an `end` event still ends the session properly.
        this.#send({ type: 'end', duration_sec: this.#seconds(this.#received), ack: this.#received, audio_start: 0, audio_end: this.#received });
        this.#close(CLOSE_CODES.normal, 'end');
      }
    } catch (e) {
      if (this.#closed) return;
      const err = ASRError.isInstance(e) ? e : undefined;
      this.#host.log?.('error', `stream ${this.id}: ${(e as Error)?.message ?? String(e)}`);
      // A backend's verdict on the client's audio or arguments is the client's error (4400, not
      // retryable); anything else is the server's (4500).
      const clientFault = err?.code === 'invalid_audio' || err?.code === 'invalid_argument';
      this.#fail(
        err?.code ?? 'server_error',
        err?.message ?? 'The recogniser failed',
        clientFault ? false : (err?.isRetryable ?? true),
        clientFault ? CLOSE_CODES.protocolError : CLOSE_CODES.serverError,
      );
    }
  }

  #fail(code: string, message: string, retryable: boolean, closeCode: number): void {
    if (this.#closed) return;
    this.#send({ type: 'error', code, message, retryable, fatal: true, ack: this.#ack, audio_start: this.#ack, audio_end: this.#received });
    this.#close(closeCode, code);
  }

  #close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#ws.close(code, reason.slice(0, 120));
    // A peer that never answers the close handshake is cut after a moment.
    setTimeout(() => this.#ws.terminate(), 2000).unref();
    this.#onClose();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    clearInterval(this.#pinger);
    clearTimeout(this.#startTimer);
    this.#abort.abort();
    this.#queue?.close();
    this.#host.unregister(this);
    this.#resolveDone();
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
