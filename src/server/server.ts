import { originRefusal, type OriginPolicy } from './origin.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'eventemitter3';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket, WebSocketServer } from 'ws';
import { decodeAudio, openAudio } from '../audio/index.js';
import { ASRError, InvalidArgumentError } from '../errors/index.js';
import type { ASRBackend, TranscriptionConfig, TranscriptionWarning } from '../spec/index.js';
import { Authenticator } from './auth.js';
import {
  HttpError,
  RESPONSE_FORMATS,
  badRequest,
  formatResponse,
  toHttpError,
  type ResponseFormat,
} from './openai.js';
import { isLoopback, resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './options.js';
import {
  MAX_FRAME_BYTES,
  STREAM_PATH,
  STREAM_SUBPROTOCOL,
  STREAM_TOKEN_PATH,
  TOKEN_SUBPROTOCOL_PREFIX,
} from './protocol.js';
import { StreamSession, type SessionHost } from './stream-session.js';

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

const MODEL_CREATED = 1_700_000_000;

/**
 * The hybrid-asr server: OpenAI's `POST /v1/audio/transcriptions`, `GET /v1/models`,
 * `GET /health`, and resumable WebSocket streaming at `/v1/audio/stream` (protocol v1,
 * docs/streaming-protocol.md), in front of any {@link ASRBackend}s.
 *
 * Create it with {@link createServer}; nothing is opened until {@link ASRServer.listen}.
 */
export class ASRServer extends EventEmitter<ASRServerEvents> {
  readonly #o: ResolvedServerOptions;
  readonly #auth: Authenticator;
  #app: FastifyInstance | undefined;
  #wss: WebSocketServer | undefined;
  #starting = false;
  #active = 0;
  #closing = false;
  readonly #sessions = new Map<string, StreamSession>();
  readonly #owners = new Map<string, { principal: string; lastSeen: number }>();
  readonly #sessionHost: SessionHost;
  readonly #allSessions = new Set<StreamSession>();
  #url: string | undefined;

  /** @param options - see {@link ServerOptions}. */
  constructor(options: ServerOptions) {
    super();
    this.#o = resolveServerOptions(options);
    this.#auth = new Authenticator(this.#o.apiKeys, this.#o.tokenTtlSec, this.#o.now);
    this.#sessionHost = {
      pickModel: (name) => this.#pickModel(name),
      register: (s) => {
        // A session id belongs to the credential that opened it, while it runs and for a while
        // after (so that nobody else can take it over, nor claim it before its owner resumes).
        const now = Date.now();
        const owner = this.#owners.get(s.id);
        if (owner !== undefined && owner.principal !== s.principal && (this.#sessions.has(s.id) || now - owner.lastSeen < SESSION_OWNER_TTL_MS)) {
          this.#o.log?.('warn', `stream ${s.id}: resume with another credential refused`);
          return false;
        }
        const old = this.#sessions.get(s.id);
        if (old !== undefined && old !== s) old.supersede();
        this.#sessions.set(s.id, s);
        if (this.#owners.size > 1024) {
          for (const [id, o] of this.#owners) if (!this.#sessions.has(id) && now - o.lastSeen >= SESSION_OWNER_TTL_MS) this.#owners.delete(id);
        }
        this.#owners.set(s.id, { principal: s.principal, lastSeen: now });
        this.emit('session-start', s.id);
        return true;
      },
      unregister: (s) => {
        if (this.#sessions.get(s.id) === s) {
          this.#sessions.delete(s.id);
          this.#owners.set(s.id, { principal: s.principal, lastSeen: Date.now() });
        }
      },
      maxStreamDurationSec: this.#o.maxStreamDurationSec,
      idleTimeoutMs: this.#o.idleTimeoutMs,
      startTimeoutMs: this.#o.startTimeoutMs,
      minSampleRate: this.#o.minSampleRate,
      keepaliveIntervalMs: this.#o.keepaliveIntervalMs,
      silenceAckLagSec: this.#o.silenceAckLagSec,
      log: this.#o.log,
    };
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
    this.#routes(app);
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(STREAM_SUBPROTOCOL) ? STREAM_SUBPROTOCOL : false),
    });
    this.#wss = wss;
    app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
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
    for (const s of this.#allSessions) if (!s.finishing) s.handBack();
    const deadline = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    const sessionsDone = Promise.all([...this.#allSessions].map((s) => s.done));
    await Promise.race([Promise.all([sessionsDone, app.close()]), deadline]);
    for (const s of this.#allSessions) s.handBack();
    for (const c of this.#wss?.clients ?? []) c.terminate();
    this.#wss?.close();
    app.server.closeAllConnections?.();
    this.#o.log?.('info', 'closed');
  }

  #policy(): OriginPolicy {
    return { keyless: !this.#auth.enabled, allowedOrigins: this.#o.allowedOrigins };
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

  #release(): void {
    this.#active--;
  }

  #busy(): HttpError {
    return new HttpError(
      429,
      `The server is at its concurrency limit (${this.#o.maxConcurrency}); retry after ${this.#o.retryAfterSec} s`,
      'rate_limit_error',
      'concurrency_limit',
      null,
      { 'retry-after': String(this.#o.retryAfterSec), 'retry-after-ms': String(this.#o.retryAfterSec * 1000) },
    );
  }

  #routes(app: FastifyInstance): void {
    const send = (reply: FastifyReply, e: unknown): FastifyReply => {
      const he = toHttpError(e);
      if (he.status >= 500) this.#o.log?.('error', `request failed: ${(e as Error)?.message ?? String(e)}`);
      return reply.code(he.status).headers(he.headers).type('application/json').send(he.body());
    };
    app.setErrorHandler((e, _req, reply) => send(reply, e));
    app.setNotFoundHandler((req, reply) =>
      send(reply, new HttpError(404, `Unknown request URL: ${req.method} ${req.url.split('?')[0]}`, 'invalid_request_error', 'unknown_url')),
    );

    app.addHook('onRequest', async (req, reply) => {
      const origin = req.headers.origin;
      const refusal = originRefusal({ host: req.headers.host, origin }, this.#policy());
      if (refusal !== undefined) throw new HttpError(403, refusal, 'invalid_request_error', 'origin_not_allowed');
      if (origin !== undefined) {
        reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
        if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
          // CORS preflight of an allowed origin: no credentials are sent with it.
          return reply
            .code(204)
            .header('access-control-allow-methods', 'GET, POST, OPTIONS')
            .header('access-control-allow-headers', 'authorization, content-type')
            .header('access-control-max-age', '600')
            .send();
        }
      }
      if (req.url === '/health') return;
      if (!this.#auth.checkHeader(req.headers.authorization)) {
        throw new HttpError(
          401,
          'Incorrect or missing API key. Send it as "Authorization: Bearer <key>".',
          'invalid_request_error',
          'invalid_api_key',
          null,
          { 'www-authenticate': 'Bearer' },
        );
      }
    });

    app.get('/health', async () => {
      const models = await Promise.all(
        Object.entries(this.#o.models).map(async ([id, b]) => ({
          id,
          loaded: await b.isAvailable({ abortSignal: AbortSignal.timeout(2000) }).catch(() => false),
          default: id === this.#o.defaultModel,
        })),
      );
      return {
        status: this.#closing ? 'closing' : 'ok',
        ready: !this.#closing && (models.find((m) => m.default)?.loaded ?? false),
        models,
        active: this.#active,
        max_concurrency: this.#o.maxConcurrency,
      };
    });

    const modelObject = (id: string): Record<string, unknown> => ({ id, object: 'model', created: MODEL_CREATED, owned_by: 'hybrid-asr' });
    app.get('/v1/models', async () => ({ object: 'list', data: Object.keys(this.#o.models).map(modelObject) }));
    app.get<{ Params: { id: string } }>('/v1/models/:id', async (req) => {
      if (!Object.hasOwn(this.#o.models, req.params.id)) {
        throw new HttpError(404, `The model '${req.params.id}' does not exist`, 'invalid_request_error', 'model_not_found', 'model');
      }
      return modelObject(req.params.id);
    });

    app.post(STREAM_TOKEN_PATH, async (req) => {
      const { token, expiresAt } = this.#auth.issueToken(this.#auth.principalOfHeader(req.headers.authorization)!);
      return { token, expires_at: expiresAt, subprotocol: `${TOKEN_SUBPROTOCOL_PREFIX}${token}` };
    });

    app.post('/v1/audio/transcriptions', async (req, reply) => this.#transcribe(req, reply));
  }

  async #transcribe(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (!req.isMultipart()) throw badRequest('The request must be multipart/form-data with a `file` field', 'file');
    if (!this.#tryAcquire()) throw this.#busy();
    const controller = new AbortController();
    const onClose = (): void => {
      if (!reply.raw.writableFinished) controller.abort();
    };
    reply.raw.on('close', onClose);
    // The body must arrive within requestTimeoutMs: a body trickled slowly must not hold its
    // slot (Node's own requestTimeout is checked only every 30 s).
    let bodyDone = false;
    const bodyTimer = setTimeout(() => {
      if (!bodyDone) {
        this.#o.log?.('warn', `request body not received within ${this.#o.requestTimeoutMs} ms; connection closed`);
        controller.abort();
        req.raw.destroy();
      }
    }, this.#o.requestTimeoutMs);
    try {
      const fields = new Map<string, string[]>();
      let file: Buffer | undefined;
      try {
        for await (const part of req.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file') throw badRequest(`Unexpected file field "${part.fieldname}"`, part.fieldname);
            file = await part.toBuffer();
          } else {
            const list = fields.get(part.fieldname) ?? [];
            list.push(String(part.value));
            fields.set(part.fieldname, list);
          }
        }
      } catch (e) {
        // Whatever the multipart parser could not make sense of is the request's fault: 400 (or
        // the parser's own 4xx, such as 413), never a 500.
        if (e instanceof HttpError) throw e;
        const he = toHttpError(e);
        if (he.status < 500) throw he;
        if (controller.signal.aborted) throw new HttpError(499, 'The client closed the request', 'invalid_request_error', 'aborted');
        throw badRequest(`The multipart/form-data body is malformed: ${(e as Error)?.message ?? String(e)}`, 'file');
      }
      bodyDone = true;
      clearTimeout(bodyTimer);
      const field = (name: string): string | undefined => fields.get(name)?.[0];
      if (file === undefined || file.length === 0) throw badRequest('You must provide a non-empty `file`', 'file');

      const format = (field('response_format') ?? 'json') as ResponseFormat;
      if (!RESPONSE_FORMATS.includes(format)) {
        throw badRequest(`\`response_format\` must be one of ${RESPONSE_FORMATS.join(', ')}, got "${format}"`, 'response_format');
      }
      const granularities = new Set<'word' | 'segment'>();
      for (const g of [...(fields.get('timestamp_granularities[]') ?? []), ...(fields.get('timestamp_granularities') ?? [])]) {
        if (g !== 'word' && g !== 'segment') {
          throw badRequest(`\`timestamp_granularities[]\` values must be "word" or "segment", got "${g}"`, 'timestamp_granularities');
        }
        granularities.add(g);
      }
      const modelName = field('model');
      const model = this.#pickModel(modelName);
      if (model === undefined) {
        throw new HttpError(404, `The model '${modelName}' does not exist on this server`, 'invalid_request_error', 'model_not_found', 'model');
      }
      const warnings: TranscriptionWarning[] = [];
      const temperature = field('temperature');
      if (temperature !== undefined) {
        const t = Number(temperature);
        if (!Number.isFinite(t) || t < 0 || t > 1) throw badRequest(`\`temperature\` must be a number from 0 to 1, got "${temperature}"`, 'temperature');
        warnings.push({ type: 'unsupported', feature: 'temperature', details: 'temperature is accepted and ignored' });
      }
      const prompt = field('prompt');
      const config: { -readonly [K in keyof TranscriptionConfig]: TranscriptionConfig[K] } = { abortSignal: controller.signal };
      const language = field('language');
      if (language !== undefined && language !== '') {
        if (!/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]+)*$/.test(language)) throw badRequest(`\`language\` must be an ISO-639-1 code, got "${language}"`, 'language');
        config.language = language;
      }
      if (prompt !== undefined && prompt.trim() !== '') {
        if (model.backend.capabilities.hotwords) {
          config.hotwords = prompt.split(/[,\n]/).map((s) => s.trim()).filter((s) => s !== '');
        } else {
          warnings.push({ type: 'unsupported', feature: 'prompt', details: 'the model has no vocabulary biasing; prompt ignored' });
        }
      }

      // The duration comes from the header where it can (no decoding twice): the backend then
      // decodes the uploaded bytes itself, exactly as an in-process call would.
      // Work per request is bounded by the audio's duration (what the recogniser decodes after
      // resampling), not only by bytes: a low sample rate makes few bytes stand for hours.
      const limit = Math.min(this.#o.maxAudioDurationSec, model.backend.capabilities.maxAudioDurationSec ?? Infinity);
      let durationSec: number | undefined;
      let input: Uint8Array | { format: 'f32'; samples: Float32Array; sampleRate: number } = file;
      try {
        const reader = await openAudio(file, { abortSignal: controller.signal });
        durationSec = reader.durationSec;
        const rate = reader.format.sampleRate;
        await reader.close();
        if (rate < this.#o.minSampleRate) {
          throw badRequest(`The audio's sample rate is ${rate} Hz; this server accepts ${this.#o.minSampleRate} Hz or more`, 'file');
        }
        if (durationSec === undefined) {
          // A streamed WAV of unknown length: decoding stops as soon as it passes the limit.
          const audio = await decodeAudio(file, { abortSignal: controller.signal, maxDurationSec: limit });
          durationSec = audio.durationSec;
          input = { format: 'f32', samples: audio.samples, sampleRate: audio.sampleRate };
        }
      } catch (e) {
        if (ASRError.isInstance(e) && e.code === 'invalid_audio' && /longer than/i.test(e.message)) {
          throw new HttpError(413, `The audio is longer than this server accepts (${limit} s per request)`, 'invalid_request_error', 'audio_too_long', 'file');
        }
        throw toHttpError(e);
      }
      if (durationSec > limit) {
        throw new HttpError(
          413,
          `The audio is ${durationSec.toFixed(1)} s long; this server accepts at most ${limit} s per request`,
          'invalid_request_error',
          'audio_too_long',
          'file',
        );
      }
      let result;
      try {
        result = await model.backend.transcribe(input, config);
      } catch (e) {
        // A loaded model that can't serve the request (a language it lacks…) is the request's
        // problem (422), not the server's (503 would make clients retry in vain).
        if (ASRError.isInstance(e) && e.code === 'backend_unavailable' && (await model.backend.isAvailable().catch(() => false))) {
          throw new HttpError(422, e.message, 'invalid_request_error', 'backend_unavailable');
        }
        throw e;
      }
      const all = [...warnings, ...result.warnings];
      if (all.length > 0) {
        reply.header('x-hybrid-asr-warnings', encodeURIComponent(JSON.stringify(all)));
        reply.header(
          'warning',
          all.map((w) => `299 hybrid-asr "${(w.type === 'unsupported' ? `${w.feature}: ${w.details ?? 'unsupported'}` : w.type === 'other' ? w.message : w.reason).replace(/["\\\r\n]/g, ' ')}"`).join(', '),
        );
      }
      reply.header('x-hybrid-asr-model', model.name);
      // The language asked for stands when the backend does not report one.
      const withLang = result.language === undefined && config.language !== undefined ? { ...result, language: config.language } : result;
      const out = formatResponse(withLang, format, granularities);
      return reply.type(out.contentType).send(out.body);
    } finally {
      clearTimeout(bodyTimer);
      reply.raw.off('close', onClose);
      this.#release();
    }
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const reject = (status: number, message: string, headers: Record<string, string> = {}): void => {
      const body = JSON.stringify({ error: { message, type: status < 500 ? 'invalid_request_error' : 'server_error', param: null, code: null } });
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
      );
    };
    const path = (req.url ?? '').split('?')[0];
    if (path !== STREAM_PATH) return reject(404, `Unknown WebSocket endpoint ${path}`);
    if (this.#closing) return reject(503, 'The server is shutting down', { 'Retry-After': String(this.#o.retryAfterSec) });
    const refusal = originRefusal({ host: req.headers.host, origin: req.headers.origin }, this.#policy());
    if (refusal !== undefined) return reject(403, refusal);
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    const token = protocols.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX))?.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
    const principal = this.#auth.principalOfHeader(req.headers.authorization) ?? (token !== undefined ? this.#auth.principalOfToken(token) : undefined);
    if (principal === undefined) return reject(401, 'Incorrect or missing API key (send "Authorization: Bearer <key>" or a streaming token)');
    if (!this.#tryAcquire()) {
      return reject(429, `The server is at its concurrency limit (${this.#o.maxConcurrency})`, {
        'Retry-After': String(this.#o.retryAfterSec),
      });
    }
    this.#wss!.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const session = new StreamSession(ws, this.#sessionHost, principal);
      this.#allSessions.add(session);
      void session.done.then(() => {
        this.#allSessions.delete(session);
        this.#release();
        if (session.id !== '') this.emit('session-end', session.id);
      });
    });
  }

}

/** How long a session id stays its owner's after its connection ends (for the owner to resume it). */
const SESSION_OWNER_TTL_MS = 10 * 60_000;

const STATUS_TEXT: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

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
