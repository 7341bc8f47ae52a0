import { InvalidArgumentError } from '../errors/index.js';
import type { ASRBackend } from '../spec/index.js';
import { type Complete, definedOnly } from '../internal/options.js';

/** A line the server logs (keys and tokens never appear in it). */
export type ServerLogger = (level: 'info' | 'warn' | 'error', message: string) => void;

/** Options of {@link createServer}. */
export interface ServerOptions {
  /**
   * The models the server offers, by name (the names `GET /v1/models` lists and the `model` field
   * of a request selects). Each is an {@link ASRBackend}, normally a `NativeBackend`.
   */
  readonly models: Readonly<Record<string, ASRBackend>>;
  /**
   * Model used for `whisper-1`, unknown names and requests without `model`.
   * @defaultValue the first key of `models`
   */
  readonly defaultModel?: string | undefined;
  /**
   * Reject unknown model names (404) instead of routing them to the default model.
   * @defaultValue false
   */
  readonly strictModels?: boolean | undefined;
  /**
   * Accepted bearer keys. With none, the server only binds to loopback addresses.
   * @defaultValue []
   */
  readonly apiKeys?: readonly string[] | undefined;
  /**
   * Address to bind.
   * @defaultValue '127.0.0.1'
   */
  readonly host?: string | undefined;
  /**
   * Port to bind; 0 picks a free one.
   * @defaultValue 8080
   */
  readonly port?: number | undefined;
  /**
   * Largest upload accepted by `POST /v1/audio/transcriptions`, in bytes (OpenAI's limit).
   * @defaultValue 26214400 (25 MiB)
   */
  readonly maxBodyBytes?: number | undefined;
  /**
   * Longest audio accepted by one batch request, in seconds.
   * @defaultValue 3600
   */
  readonly maxAudioDurationSec?: number | undefined;
  /**
   * Longest audio one streaming session may send, in seconds (across reconnections).
   * @defaultValue 14400
   */
  readonly maxStreamDurationSec?: number | undefined;
  /**
   * Batch requests plus streaming sessions served at once; more are answered 429 with `retry-after`.
   * @defaultValue 16
   */
  readonly maxConcurrency?: number | undefined;
  /**
   * Seconds a client is told to wait (`retry-after`) when the server is full.
   * @defaultValue 1
   */
  readonly retryAfterSec?: number | undefined;
  /**
   * A streaming client that sends no message (audio, `start`, `stop`) for this long is disconnected; pings and pongs do not count.
   * @defaultValue 30000
   */
  readonly idleTimeoutMs?: number | undefined;
  /**
   * Interval of WebSocket pings; a client that misses one pong is dropped.
   * @defaultValue 15000
   */
  readonly keepaliveIntervalMs?: number | undefined;
  /**
   * HTTP keep-alive timeout of idle connections.
   * @defaultValue 5000
   */
  readonly httpKeepAliveTimeoutMs?: number | undefined;
  /**
   * Lifetime of short-lived streaming tokens (`POST /v1/audio/stream/tokens`), in seconds.
   * @defaultValue 60
   */
  readonly tokenTtlSec?: number | undefined;
  /**
   * With no utterance open, the server acknowledges audio older than this many seconds (silence
   * that the recogniser has passed without starting a word), so that clients can free their replay
   * buffers during long pauses. Only for backends whose model streams.
   * @defaultValue 2
   */
  readonly silenceAckLagSec?: number | undefined;
  /**
   * Log lines (requests, sessions, shutdown). Keys never appear in them.
   * @defaultValue no logging
   */
  readonly log?: ServerLogger | undefined;
  /**
   * Browser origins allowed besides loopback ones, exactly as browsers send them
   * (`https://app.example`, `app://my-electron-app`). Without an API key, only loopback origins
   * and these may call the server (a web page the user visits must not); with a key and a
   * non-empty list, only these. Allowed origins get CORS headers.
   * @defaultValue []
   */
  readonly allowedOrigins?: readonly string[] | undefined;
  /**
   * A WebSocket must send its `start` message within this many ms of connecting, or it is closed
   * and its concurrency slot freed.
   * @defaultValue 5000
   */
  readonly startTimeoutMs?: number | undefined;
  /**
   * Deadline for receiving a whole HTTP request, body included (a body trickled slowly holds a
   * slot no longer than this).
   * @defaultValue 120000
   */
  readonly requestTimeoutMs?: number | undefined;
  /**
   * Lowest sample rate accepted, in Hz, for uploads and streams: below it a few bytes would
   * stand for hours of audio to resample and decode.
   * @defaultValue 8000
   */
  readonly minSampleRate?: number | undefined;
  /** Clock in ms, for tests. @defaultValue Date.now */
  readonly now?: () => number;
}

/** {@link ServerOptions} with defaults filled in. @internal */
export type ResolvedServerOptions = Complete<Omit<ServerOptions, 'log'>> & { readonly log: ServerLogger | undefined };

const DEFAULTS = {
  strictModels: false,
  apiKeys: [] as readonly string[],
  host: '127.0.0.1',
  port: 8080,
  maxBodyBytes: 25 * 1024 * 1024,
  maxAudioDurationSec: 3600,
  maxStreamDurationSec: 4 * 3600,
  maxConcurrency: 16,
  retryAfterSec: 1,
  idleTimeoutMs: 30_000,
  keepaliveIntervalMs: 15_000,
  httpKeepAliveTimeoutMs: 5_000,
  tokenTtlSec: 60,
  silenceAckLagSec: 2,
  allowedOrigins: [] as readonly string[],
  startTimeoutMs: 5_000,
  requestTimeoutMs: 120_000,
  minSampleRate: 8_000,
  now: Date.now,
};

function num(name: string, v: unknown, min: number, integer = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new InvalidArgumentError(
      `\`${name}\` must be a finite ${integer ? 'whole ' : ''}number >= ${min}, got ${typeof v === 'number' ? v : typeof v}`,
    );
  }
}

/** Validates options eagerly, naming the offending option. @internal */
export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('`options` must be an object');
  const o = { ...DEFAULTS, ...definedOnly(options) };
  const names = Object.keys(o.models ?? {});
  if (typeof o.models !== 'object' || o.models === null || names.length === 0) {
    throw new InvalidArgumentError('`models` must name at least one backend');
  }
  for (const n of names) {
    const b = o.models[n] as Partial<ASRBackend> | undefined;
    if (typeof b?.transcribe !== 'function') throw new InvalidArgumentError(`\`models.${n}\` must be an ASRBackend`);
  }
  const defaultModel = options.defaultModel ?? names[0]!;
  if (!names.includes(defaultModel)) {
    throw new InvalidArgumentError(`\`defaultModel\` must be one of ${names.join(', ')}, got "${defaultModel}"`);
  }
  if (!Array.isArray(o.apiKeys) || o.apiKeys.some((k) => typeof k !== 'string' || k.trim() === '')) {
    throw new InvalidArgumentError('`apiKeys` must be an array of non-empty strings');
  }
  if (typeof o.host !== 'string' || o.host === '') throw new InvalidArgumentError('`host` must be a non-empty string');
  num('port', o.port, 0, true);
  if (o.port > 65535) throw new InvalidArgumentError(`\`port\` must be <= 65535, got ${o.port}`);
  num('maxBodyBytes', o.maxBodyBytes, 1, true);
  num('maxAudioDurationSec', o.maxAudioDurationSec, Number.MIN_VALUE);
  num('maxStreamDurationSec', o.maxStreamDurationSec, Number.MIN_VALUE);
  num('maxConcurrency', o.maxConcurrency, 1, true);
  num('retryAfterSec', o.retryAfterSec, 0, true);
  num('idleTimeoutMs', o.idleTimeoutMs, 1);
  num('keepaliveIntervalMs', o.keepaliveIntervalMs, 1);
  num('httpKeepAliveTimeoutMs', o.httpKeepAliveTimeoutMs, 1);
  num('tokenTtlSec', o.tokenTtlSec, 1);
  num('silenceAckLagSec', o.silenceAckLagSec, 0);
  num('startTimeoutMs', o.startTimeoutMs, 1);
  num('requestTimeoutMs', o.requestTimeoutMs, 1);
  num('minSampleRate', o.minSampleRate, 1000, true);
  if (!Array.isArray(o.allowedOrigins) || o.allowedOrigins.some((x) => typeof x !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+$/i.test(x))) {
    throw new InvalidArgumentError('`allowedOrigins` must be an array of origins such as "https://app.example" (scheme://host[:port], no path)');
  }
  if (typeof o.now !== 'function') throw new InvalidArgumentError('`now` must be a function');
  return { ...o, defaultModel, log: options.log };
}

/** Whether an address is loopback-only. @internal */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
