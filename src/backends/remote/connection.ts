import {
  APIStatusError,
  ASRError,
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  PayloadTooLargeError,
} from '../../errors/index.js';
import { sleep } from '../../internal/abort.js';
import {
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  STREAM_SUBPROTOCOL,
  bytesPerSample,
  encodePcm,
  parseServerMessage,
  type ServerMessage,
  type StartMessage,
} from '../../protocol/index.js';
import type { ResolvedRemoteOptions, WebSocketConstructor, WebSocketLike } from './options.js';
import type { ReplayAudio } from './replay.js';

/** What a connection needs from the stream it serves. @internal */
export interface ConnectionHost {
  /** The backend's resolved options. */
  readonly options: ResolvedRemoteOptions;
  /** The stream's audio: what is sent, from the cursor on. */
  readonly audio: ReplayAudio;
  /** The `start` message to open (or resume) the session with. */
  startMessage(): StartMessage;
  /** A valid server message; throwing fails the connection with that error. */
  onMessage(m: ServerMessage, connection: StreamConnection): void;
  /** A pong showed that the server has read everything sent before `sent`. */
  onConfirmed(sent: number, connection: StreamConnection): void;
  /** Whether the session has received `end` (a close after it is normal). */
  ended(): boolean;
  /** Whether the consumer is gone (nothing more is sent). */
  finished(): boolean;
  /** Whether the source has ended (`stop` follows the last sample). */
  inputDone(): boolean;
  /** Whether the source is held back by a full replay buffer (see `ReplayAudio.full`). */
  producerWaiting(): boolean;
  /** The error that ends the stream for good, carrying the unacknowledged audio. */
  interrupted(message: string): ASRError;
}

/**
 * One WebSocket connection of a remote stream: sends `start`, keeps the connection alive with
 * pings (each noting how much audio was sent before it, so its pong proves the server read that
 * much), validates what the server sends, sends the kept audio from the cursor on with
 * backpressure and then `stop`, and maps every way it can end to a typed error.
 * {@link StreamConnection.done} resolves when the session ended normally and rejects when the
 * connection was lost.
 * @internal
 */
export class StreamConnection {
  readonly #host: ConnectionHost;
  readonly #ws: WebSocketLike;
  /** Resolves when the session ended normally; rejects when the connection was lost. */
  readonly done: Promise<void>;
  #resolve!: () => void;
  #reject!: (e: ASRError) => void;
  #settled = false;
  /** Next sample to send; undefined until `ready` and after the connection settled. */
  #cursor: number | undefined;
  #stopSent = false;
  /** For each ping in flight, in order: the samples sent before it. */
  readonly #pings: number[] = [];
  #pongPending = false;
  #pinger: NodeJS.Timeout | undefined;
  readonly #readyTimer: NodeJS.Timeout;
  #wakeSender: (() => void) | undefined;

  /**
   * Opens the socket (the constructor is the caller's, or `ws`'s).
   * @throws ConnectionError when the WebSocket constructor throws; any later failure rejects `done`.
   */
  constructor(host: ConnectionHost, WebSocketCtor: WebSocketConstructor) {
    this.#host = host;
    const o = host.options;
    const headers: Record<string, string> = {};
    if (o.apiKey !== undefined) headers.authorization = `Bearer ${o.apiKey}`;
    try {
      this.#ws = new WebSocketCtor(o.streamUrl, [STREAM_SUBPROTOCOL], { headers, maxPayload: MAX_FRAME_BYTES, handshakeTimeout: o.connectTimeoutMs });
    } catch (e) {
      throw new ConnectionError(`Could not open ${o.streamUrl}: ${(e as Error).message}`, { cause: e });
    }
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#readyTimer = setTimeout(() => this.fail(new ConnectionError(`No \`ready\` from ${o.streamUrl} within ${o.connectTimeoutMs} ms`)), o.connectTimeoutMs);
    this.#listen(this.#ws);
  }

  /** Starts sending at `cursor` (the server's `ready`): the server has read everything before it. */
  startSending(cursor: number): void {
    this.#cursor = cursor;
    void this.#send().catch((e: unknown) => this.fail(ASRError.isInstance(e) ? e : new ConnectionError('Sending failed', { cause: e })));
  }

  /** Wakes the sender (new audio, the source ended, or the producer started waiting). */
  wake(): void {
    this.#wakeSender?.();
  }

  /** Ends the connection as lost, with `error`. */
  fail(error: ASRError): void {
    if (this.#settled) return;
    this.#settle();
    this.#ws.terminate();
    this.#reject(error);
  }

  /** The session ended (`end`): closes normally. */
  finish(): void {
    if (this.#settled) return;
    this.#settle();
    this.#ws.close(CLOSE_CODES.normal);
    this.#resolve();
  }

  /** Closes the socket when the consumer leaves: normally after a complete stream, else at once. */
  release(completed: boolean): void {
    if (this.#ws.readyState > 1) return;
    if (completed) this.#ws.close(CLOSE_CODES.normal);
    else this.#ws.terminate();
  }

  #settle(): void {
    this.#settled = true;
    clearTimeout(this.#readyTimer);
    clearInterval(this.#pinger);
    this.#cursor = undefined;
    this.#wakeSender?.();
  }

  /** Pings the server, noting the audio sent before the ping. */
  #ping(): void {
    this.#pings.push(this.#cursor ?? this.#host.audio.confirmed);
    this.#ws.ping();
  }

  #listen(ws: WebSocketLike): void {
    const o = this.#host.options;
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
        this.fail(APIStatusError.fromResponse(status, `${status} ${msg}`, { headers: h, body: parsed }));
      });
      res.on('error', () => this.fail(APIStatusError.fromResponse(status, `HTTP ${status}`, { headers: h })));
    });
    ws.on('open', () => {
      ws.send(JSON.stringify(this.#host.startMessage()));
      this.#pinger = setInterval(() => {
        if (this.#pongPending) {
          this.fail(new ConnectionError('The server stopped answering keepalive pings'));
          return;
        }
        this.#pongPending = true;
        this.#ping();
      }, o.keepaliveIntervalMs);
    });
    ws.on('pong', () => {
      this.#pongPending = false;
      // Pongs answer pings in order, and the server reads frames in order: everything sent
      // before the ping has been read.
      const sent = this.#pings.shift();
      if (sent !== undefined) this.#host.onConfirmed(sent, this);
    });
    ws.on('message', (data, isBinary) => {
      if (this.#settled) return;
      if (isBinary) return this.fail(new ConnectionError('The server sent a binary frame; the protocol has none'));
      const m = parseServerMessage(rawToString(data));
      if ('problem' in m) return this.fail(new ConnectionError(`The server sent a malformed message: ${m.problem}`));
      try {
        this.#host.onMessage(m, this);
      } catch (e) {
        this.fail(ASRError.isInstance(e) ? e : new ConnectionError('Could not handle a server message', { cause: e }));
      }
    });
    ws.on('close', (code, reason) => {
      if (this.#settled) return;
      if (this.#host.ended()) {
        this.#settle();
        this.#resolve();
        return;
      }
      const why = reason.toString('utf8');
      if (code === CLOSE_CODES.unauthorized) this.fail(new AuthenticationError(401, `The server refused the key${why ? `: ${why}` : ''}`));
      else if (code === CLOSE_CODES.protocolError) this.fail(new BadRequestError(400, `The server rejected the stream${why ? `: ${why}` : ''}`));
      else if (code === CLOSE_CODES.tooLong) this.fail(new PayloadTooLargeError(413, `The stream is longer than the server accepts${why ? `: ${why}` : ''}`));
      else if (code === CLOSE_CODES.normal) this.fail(new ConnectionError('The server closed the stream before `end`'));
      else this.fail(new ConnectionError(`The stream connection closed (${code}${why ? ` ${why}` : ''})`));
    });
    ws.on('error', (e) => this.fail(new ConnectionError(`Stream connection error: ${e.message}`, { cause: e })));
  }

  /** Sends kept audio from the cursor on, then `stop` once the source is done. */
  async #send(): Promise<void> {
    const { streamEncoding, maxBufferedBytes } = this.#host.options;
    const audio = this.#host.audio;
    const ws = this.#ws;
    const maxSamples = Math.floor(Math.min(MAX_FRAME_BYTES, 64 * 1024) / bytesPerSample(streamEncoding));
    while (!this.#host.finished() && ws.readyState === 1 && this.#cursor !== undefined) {
      if (ws.bufferedAmount > maxBufferedBytes) {
        await sleep(5);
        continue;
      }
      const cursor = this.#cursor;
      if (cursor < audio.total) {
        const piece = audio.pieceAt(cursor);
        if (piece === undefined) throw this.#host.interrupted('Kept audio has a gap');
        const part = piece.subarray(0, maxSamples);
        ws.send(encodePcm(part, streamEncoding));
        this.#cursor = cursor + part.length;
        continue;
      }
      if (this.#host.inputDone()) {
        if (!this.#stopSent) {
          this.#stopSent = true;
          ws.send(JSON.stringify({ type: 'stop' }));
        }
        return;
      }
      // Everything is sent and the producer waits for room: ask whether the server has read it all
      // (see ReplayAudio.full), once per position.
      if (this.#host.producerWaiting() && audio.confirmed < cursor && this.#pings.at(-1) !== cursor) this.#ping();
      await new Promise<void>((r) => (this.#wakeSender = r));
      this.#wakeSender = undefined;
    }
  }
}

/** A `message` event's payload. */
type RawData = Buffer | ArrayBuffer | Buffer[];

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
