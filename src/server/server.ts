import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'eventemitter3';
import type { FastifyInstance } from 'fastify';
import type { WebSocketServer } from 'ws';
import { InvalidArgumentError } from '../errors/index.js';
import { MAX_FRAME_BYTES, STREAM_SUBPROTOCOL } from '../protocol/index.js';
import type { ASRBackend } from '../spec/index.js';
import { Authenticator } from './auth.js';
import type { ServerContext } from './context.js';
import { isLoopback, resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './options.js';
import { registerRoutes } from './routes.js';
import { SessionRegistry } from './sessions.js';
import { handleUpgrade } from './upgrade.js';

/** Lifecycle events of an {@link ASRServer}. */
export interface ASRServerEvents {
  /** The server is listening at `url`. */
  listening: [url: string];
  /** A streaming session started or resumed. */
  'session-start': [sessionId: string];
  /** A streaming session's connection ended (normally, by error, or by hand-back). */
  'session-end': [sessionId: string];
  /** The server is closing. */
  closing: [];
}

/** Options of {@link ASRServer.close}. */
export interface ServerCloseOptions {
  /**
   * How long in-flight batch requests and stopping streams may take to finish; streams still
   * sending audio are handed back at once (error `server_shutdown`, close 1012) so that their
   * clients resume elsewhere.
   * @defaultValue 10000
   */
  readonly graceMs?: number | undefined;
}


/**
 * The hybrid-asr server: OpenAI's `POST /v1/audio/transcriptions`, `GET /v1/models`,
 * `GET /health`, and resumable WebSocket streaming at `/v1/audio/stream` (protocol v1,
 * docs/streaming-protocol.md), in front of any {@link ASRBackend}s.
 *
 * Create it with {@link createServer}; nothing is opened until {@link ASRServer.listen}. It is a
 * coordinator: the HTTP routes live in `routes.ts`, the WebSocket upgrade in `upgrade.ts`, the
 * sessions in `sessions.ts` and `stream-session.ts`; it owns the lifecycle and the concurrency slots.
 */
export class ASRServer extends EventEmitter<ASRServerEvents> {
  readonly #o: ResolvedServerOptions;
  readonly #auth: Authenticator;
  readonly #ctx: ServerContext;
  readonly #sessions: SessionRegistry;
  #app: FastifyInstance | undefined;
  #wss: WebSocketServer | undefined;
  #starting = false;
  #active = 0;
  #closing = false;
  #url: string | undefined;

  /** @param options - see {@link ServerOptions}. */
  constructor(options: ServerOptions) {
    super();
    this.#o = resolveServerOptions(options);
    this.#auth = new Authenticator(this.#o.apiKeys, this.#o.tokenTtlSec, this.#o.now);
    this.#ctx = {
      options: this.#o,
      auth: this.#auth,
      closing: () => this.#closing,
      active: () => this.#active,
      originPolicy: { keyless: !this.#auth.enabled, allowedOrigins: this.#o.allowedOrigins },
      pickModel: (name) => this.#pickModel(name),
      tryAcquire: () => this.#tryAcquire(),
      release: () => {
        this.#active--;
      },
    };
    this.#sessions = new SessionRegistry(this.#ctx, {
      start: (id) => this.emit('session-start', id),
      end: (id) => this.emit('session-end', id),
    });
  }

  /** Base URL once listening (`http://host:port`), else undefined. */
  get url(): string | undefined {
    return this.#url;
  }

  /** Batch requests and streaming sessions in progress. */
  get activeCount(): number {
    return this.#active;
  }

  /**
   * Binds and starts serving. Without API keys only loopback addresses are allowed: binding
   * elsewhere throws an {@link InvalidArgumentError}.
   */
  async listen(options?: { readonly abortSignal?: AbortSignal }): Promise<string> {
    options?.abortSignal?.throwIfAborted();
    if (this.#app !== undefined || this.#starting) throw new InvalidArgumentError('The server is already listening');
    if (!this.#auth.enabled && !isLoopback(this.#o.host)) {
      throw new InvalidArgumentError(
        `Refusing to bind ${this.#o.host} without an API key: pass \`apiKeys\` (or --api-key / HYBRID_ASR_API_KEYS), or bind 127.0.0.1`,
      );
    }
    this.#starting = true;
    // The HTTP stack loads when a server starts, not when the package is imported.
    const [{ default: Fastify }, { default: multipart }, { WebSocketServer }] = await Promise.all([
      import('fastify'),
      import('@fastify/multipart'),
      import('ws'),
    ]).catch((e: unknown) => {
      this.#starting = false;
      throw e;
    });
    this.#starting = false;
    const app = Fastify({
      logger: false,
      bodyLimit: this.#o.maxBodyBytes,
      keepAliveTimeout: this.#o.httpKeepAliveTimeoutMs,
      // A body trickled slowly holds a concurrency slot no longer than this.
      requestTimeout: this.#o.requestTimeoutMs,
      forceCloseConnections: 'idle',
      return503OnClosing: true,
    });
    this.#app = app;
    await app.register(multipart, {
      limits: { fileSize: this.#o.maxBodyBytes, files: 1, fields: 32, fieldSize: 64 * 1024, parts: 40 },
    });
    registerRoutes(app, this.#ctx);
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(STREAM_SUBPROTOCOL) ? STREAM_SUBPROTOCOL : false),
    });
    this.#wss = wss;
    app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => handleUpgrade(this.#ctx, wss, this.#sessions, req, socket, head));
    await app.listen({ host: this.#o.host, port: this.#o.port });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : this.#o.port;
    const host = this.#o.host.includes(':') ? `[${this.#o.host}]` : this.#o.host;
    this.#url = `http://${host}:${port}`;
    this.#o.log?.('info', `listening on ${this.#url}${this.#auth.enabled ? '' : ' (no API key: loopback only)'}`);
    this.emit('listening', this.#url);
    return this.#url;
  }

  /**
   * Stops accepting work, hands streaming sessions back (or lets those already stopping finish),
   * waits for batch requests up to `graceMs`, then closes. Idempotent.
   */
  async close(options?: ServerCloseOptions): Promise<void> {
    const graceMs = options?.graceMs ?? 10_000;
    if (this.#closing) return;
    this.#closing = true;
    this.emit('closing');
    const app = this.#app;
    if (app === undefined) return;
    this.#sessions.handBack(false);
    const deadline = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    const sessionsDone = this.#sessions.allDone();
    await Promise.race([Promise.all([sessionsDone, app.close()]), deadline]);
    this.#sessions.handBack(true);
    for (const c of this.#wss?.clients ?? []) c.terminate();
    this.#wss?.close();
    app.server.closeAllConnections?.();
    this.#o.log?.('info', 'closed');
  }

  #pickModel(name: string | undefined): { name: string; backend: ASRBackend } | undefined {
    const models = this.#o.models;
    if (name !== undefined && name !== '' && Object.hasOwn(models, name)) return { name, backend: models[name]! };
    if (this.#o.strictModels && name !== undefined && name !== '') return undefined;
    return { name: this.#o.defaultModel, backend: models[this.#o.defaultModel]! };
  }

  #tryAcquire(): boolean {
    if (this.#active >= this.#o.maxConcurrency) return false;
    this.#active++;
    return true;
  }
}

/**
 * Creates (but does not start) a hybrid-asr server.
 *
 * @example
 * ```ts
 * const server = createServer({ models: { 'tiny-ctc-en-offline': new NativeBackend({ model: 'tiny-ctc-en-offline' }) } });
 * const url = await server.listen();   // http://127.0.0.1:8080
 * ```
 */
export function createServer(options: ServerOptions): ASRServer {
  return new ASRServer(options);
}
