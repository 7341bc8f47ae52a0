import type { IncomingMessage } from 'node:http';
import { InvalidArgumentError } from '../../errors/index.js';
import type { Complete } from '../../internal/options.js';

/**
 * The part of a WebSocket the remote backend uses. Instances of the `ws` package fit it; so does
 * any client with the same events and methods. Declared here so that the package's types don't
 * need `@types/ws`.
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes queued by `send()` and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Sends a text or binary frame. */
  send(data: string | Uint8Array): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Drops the connection at once. */
  terminate(): void;
  /** Sends a ping; the server's pong arrives as a `pong` event. */
  ping(): void;
  /** The connection is open. */
  on(event: 'open' | 'pong', listener: () => void): unknown;
  /** A frame arrived. */
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): unknown;
  /** The connection closed. */
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown;
  /** The connection failed. */
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** The server answered the upgrade request with an HTTP status instead of switching protocols. */
  on(event: 'unexpected-response', listener: (request: unknown, response: IncomingMessage) => void): unknown;
}

/**
 * The WebSocket constructor the remote backend uses: `ws`'s, or any with the same shape (it must
 * accept `headers` in its third argument, since keys travel in the `Authorization` header).
 */
export type WebSocketConstructor = new (
  url: string,
  protocols: string[],
  options: { headers: Record<string, string>; maxPayload?: number; handshakeTimeout?: number },
) => WebSocketLike;

/** The `ws` package's WebSocket, loaded when the first stream opens (not at import). @internal */
export async function defaultWebSocket(): Promise<WebSocketConstructor> {
  // Under CJS interop the class may sit on `default`.
  const ws = (await import('ws')) as unknown as { WebSocket?: WebSocketConstructor; default?: { WebSocket: WebSocketConstructor } };
  return ws.WebSocket ?? ws.default!.WebSocket;
}

/** Reconnection policy of live streams. */
export interface ReconnectOptions {
  /**
   * Reconnection attempts after a connection is lost (reset to zero by every successful resume).
   * @defaultValue 5
   */
  readonly maxAttempts?: number | undefined;
  /**
   * Delay before the first attempt, in ms; doubles each time, with up to 25 % jitter.
   * @defaultValue 250
   */
  readonly initialDelayMs?: number | undefined;
  /**
   * Longest delay between attempts, in ms.
   * @defaultValue 4000
   */
  readonly maxDelayMs?: number | undefined;
}

/** Options of {@link RemoteBackend}. */
export interface RemoteBackendOptions {
  /**
   * Base URL of the OpenAI-compatible API, including its version prefix, e.g.
   * `http://127.0.0.1:8080/v1` (hybrid-asr serve) or `https://api.openai.com/v1`.
   */
  readonly baseUrl: string;
  /** Bearer key sent as `Authorization: Bearer …` (never in URLs). */
  readonly apiKey?: string | undefined;
  /**
   * Model name sent with every request.
   * @defaultValue 'whisper-1'
   */
  readonly model?: string | undefined;
  /**
   * Model name sent with live streams (a streaming model, where the server has several).
   * @defaultValue `model`
   */
  readonly streamModel?: string | undefined;
  /**
   * Timeout of each HTTP attempt, in ms (a call can take `(maxRetries + 1)` times this, plus backoff).
   * @defaultValue 600000
   */
  readonly timeoutMs?: number | undefined;
  /**
   * Retries after connection errors, timeouts and 408 / 409 / 429 / 5xx answers (openai-node's policy).
   * @defaultValue 2
   */
  readonly maxRetries?: number | undefined;
  /**
   * Timeout of the `isAvailable()` probe, in ms.
   * @defaultValue 3000
   */
  readonly healthTimeoutMs?: number | undefined;
  /**
   * `response_format` asked of the server: `verbose_json` gives segments and word times; use
   * `json` for servers (or models) that don't support it.
   * @defaultValue 'verbose_json'
   */
  readonly responseFormat?: 'verbose_json' | 'json' | undefined;
  /**
   * WebSocket URL of the streaming endpoint.
   * @defaultValue `baseUrl` with `http` → `ws` and `/audio/stream` appended
   */
  readonly streamUrl?: string | undefined;
  /**
   * Audio encoding sent on live streams.
   * @defaultValue 'pcm_s16le'
   */
  readonly streamEncoding?: 'pcm_s16le' | 'pcm_f32le' | undefined;
  /** Reconnection policy of live streams. */
  readonly reconnect?: ReconnectOptions | undefined;
  /**
   * Most seconds of audio read ahead of the server's acknowledgement, kept for replay after a
   * reconnection. When this much is unacknowledged the stream stops pulling its input (backpressure)
   * until the server catches up: unacknowledged audio is never dropped, so an input that comes
   * faster than real time loses nothing on a reconnection or a failover. The server acknowledges
   * at the end of each final, so an utterance longer than this buffer needs more audio before any
   * ack can come: once a pong shows the server has read everything sent, the stream reads one more
   * second (the server's own input queue then bounds how far ahead it gets), so a short buffer
   * never stalls a stream.
   * @defaultValue 120
   */
  readonly replayBufferSec?: number | undefined;
  /**
   * Interval of WebSocket pings on live streams; a missed pong counts as a lost connection.
   * @defaultValue 15000
   */
  readonly keepaliveIntervalMs?: number | undefined;
  /**
   * Frames are sent only while the socket's `bufferedAmount` is below this many bytes.
   * @defaultValue 262144
   */
  readonly maxBufferedBytes?: number | undefined;
  /**
   * Timeout of the WebSocket opening handshake (until `ready`), in ms.
   * @defaultValue 10000
   */
  readonly connectTimeoutMs?: number | undefined;
  /** `fetch` implementation. @defaultValue globalThis.fetch */
  readonly fetch?: typeof fetch | undefined;
  /** WebSocket constructor. @defaultValue the `ws` package's (loaded when the first stream opens) */
  readonly WebSocket?: WebSocketConstructor | undefined;
}

/** Resolved options. @internal */
export interface ResolvedRemoteOptions {
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  readonly model: string;
  readonly streamModel: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly healthTimeoutMs: number;
  readonly responseFormat: 'verbose_json' | 'json';
  readonly streamUrl: string;
  readonly streamEncoding: 'pcm_s16le' | 'pcm_f32le';
  readonly reconnect: Complete<ReconnectOptions>;
  readonly replayBufferSec: number;
  readonly keepaliveIntervalMs: number;
  readonly maxBufferedBytes: number;
  readonly connectTimeoutMs: number;
  readonly fetch: typeof fetch;
  /** `undefined`: `ws`, loaded when the first stream opens. */
  readonly WebSocket: WebSocketConstructor | undefined;
}

function num(name: string, v: unknown, min: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new InvalidArgumentError(
      `\`${name}\` must be a finite ${integer ? 'whole ' : ''}number >= ${min}, got ${typeof v === 'number' ? v : typeof v}`,
    );
  }
  return v;
}

/** Validates and fills defaults. @internal */
export function resolveRemoteOptions(options: RemoteBackendOptions): ResolvedRemoteOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('`options` must be an object with `baseUrl`');
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch {
    throw new InvalidArgumentError(`\`baseUrl\` must be an absolute http(s) URL, got ${JSON.stringify(options.baseUrl)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new InvalidArgumentError(`\`baseUrl\` must be an http(s) URL, got ${JSON.stringify(options.baseUrl)}`);
  }
  if (base.username !== '' || base.password !== '' || base.search !== '') {
    throw new InvalidArgumentError('`baseUrl` must not carry credentials or a query; pass `apiKey`');
  }
  const baseUrl = base.href.replace(/\/+$/, '');
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || options.apiKey === '')) {
    throw new InvalidArgumentError('`apiKey` must be a non-empty string');
  }
  const model = options.model ?? 'whisper-1';
  if (typeof model !== 'string' || model === '') throw new InvalidArgumentError('`model` must be a non-empty string');
  const streamModel = options.streamModel ?? model;
  if (typeof streamModel !== 'string' || streamModel === '') throw new InvalidArgumentError('`streamModel` must be a non-empty string');
  const rf = options.responseFormat ?? 'verbose_json';
  if (rf !== 'verbose_json' && rf !== 'json') throw new InvalidArgumentError(`\`responseFormat\` must be "verbose_json" or "json", got ${JSON.stringify(rf)}`);
  const enc = options.streamEncoding ?? 'pcm_s16le';
  if (enc !== 'pcm_s16le' && enc !== 'pcm_f32le') {
    throw new InvalidArgumentError(`\`streamEncoding\` must be "pcm_s16le" or "pcm_f32le", got ${JSON.stringify(enc)}`);
  }
  let streamUrl = options.streamUrl ?? `${baseUrl.replace(/^http/, 'ws')}/audio/stream`;
  try {
    const u = new URL(streamUrl);
    if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error('protocol');
    streamUrl = u.href;
  } catch {
    throw new InvalidArgumentError(`\`streamUrl\` must be a ws(s) URL, got ${JSON.stringify(streamUrl)}`);
  }
  const r = { maxAttempts: 5, initialDelayMs: 250, maxDelayMs: 4000, ...options.reconnect };
  const f = options.fetch ?? globalThis.fetch;
  if (typeof f !== 'function') throw new InvalidArgumentError('`fetch` must be a function');
  const ws = options.WebSocket;
  if (ws !== undefined && typeof ws !== 'function') throw new InvalidArgumentError('`WebSocket` must be a constructor');
  return {
    baseUrl,
    apiKey: options.apiKey,
    model,
    streamModel,
    timeoutMs: num('timeoutMs', options.timeoutMs ?? 600_000, 1),
    maxRetries: num('maxRetries', options.maxRetries ?? 2, 0, true),
    healthTimeoutMs: num('healthTimeoutMs', options.healthTimeoutMs ?? 3000, 1),
    responseFormat: rf,
    streamUrl,
    streamEncoding: enc,
    reconnect: {
      maxAttempts: num('reconnect.maxAttempts', r.maxAttempts, 0, true),
      initialDelayMs: num('reconnect.initialDelayMs', r.initialDelayMs, 0),
      maxDelayMs: num('reconnect.maxDelayMs', r.maxDelayMs, 0),
    },
    replayBufferSec: num('replayBufferSec', options.replayBufferSec ?? 120, 1),
    keepaliveIntervalMs: num('keepaliveIntervalMs', options.keepaliveIntervalMs ?? 15_000, 1),
    maxBufferedBytes: num('maxBufferedBytes', options.maxBufferedBytes ?? 256 * 1024, 1),
    connectTimeoutMs: num('connectTimeoutMs', options.connectTimeoutMs ?? 10_000, 1),
    fetch: f,
    WebSocket: ws,
  };
}
