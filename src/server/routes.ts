import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeAudio, openAudio } from '../audio/index.js';
import { ASRError } from '../errors/index.js';
import { STREAM_TOKEN_PATH, TOKEN_SUBPROTOCOL_PREFIX } from '../protocol/index.js';
import type { TranscriptionConfig, TranscriptionWarning } from '../spec/index.js';
import type { ServerContext } from './context.js';
import { HttpError, RESPONSE_FORMATS, badRequest, formatResponse, toHttpError, type ResponseFormat } from './openai.js';
import { originRefusal } from './origin.js';

const MODEL_CREATED = 1_700_000_000;

/**
 * The server's HTTP side: origin and key checks on every request, `GET /health`, `GET /v1/models`,
 * the streaming token endpoint and OpenAI's `POST /v1/audio/transcriptions`, with errors in
 * OpenAI's shape.
 * @internal
 */
export function registerRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const send = (reply: FastifyReply, e: unknown): FastifyReply => {
    const he = toHttpError(e);
    if (he.status >= 500) ctx.options.log?.('error', `request failed: ${(e as Error)?.message ?? String(e)}`);
    return reply.code(he.status).headers(he.headers).type('application/json').send(he.body());
  };
  app.setErrorHandler((e, _req, reply) => send(reply, e));
  app.setNotFoundHandler((req, reply) =>
    send(reply, new HttpError(404, `Unknown request URL: ${req.method} ${req.url.split('?')[0]}`, 'invalid_request_error', 'unknown_url')),
  );

  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    const refusal = originRefusal({ host: req.headers.host, origin }, ctx.originPolicy);
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
    if (!ctx.auth.checkHeader(req.headers.authorization)) {
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
      Object.entries(ctx.options.models).map(async ([id, b]) => ({
        id,
        loaded: await b.isAvailable({ abortSignal: AbortSignal.timeout(2000) }).catch(() => false),
        default: id === ctx.options.defaultModel,
      })),
    );
    return {
      status: ctx.closing() ? 'closing' : 'ok',
      ready: !ctx.closing() && (models.find((m) => m.default)?.loaded ?? false),
      models,
      active: ctx.active(),
      max_concurrency: ctx.options.maxConcurrency,
    };
  });

  const modelObject = (id: string): Record<string, unknown> => ({ id, object: 'model', created: MODEL_CREATED, owned_by: 'hybrid-asr' });
  app.get('/v1/models', async () => ({ object: 'list', data: Object.keys(ctx.options.models).map(modelObject) }));
  app.get<{ Params: { id: string } }>('/v1/models/:id', async (req) => {
    if (!Object.hasOwn(ctx.options.models, req.params.id)) {
      throw new HttpError(404, `The model '${req.params.id}' does not exist`, 'invalid_request_error', 'model_not_found', 'model');
    }
    return modelObject(req.params.id);
  });

  app.post(STREAM_TOKEN_PATH, async (req) => {
    const { token, expiresAt } = ctx.auth.issueToken(ctx.auth.principalOfHeader(req.headers.authorization)!);
    return { token, expires_at: expiresAt, subprotocol: `${TOKEN_SUBPROTOCOL_PREFIX}${token}` };
  });

  app.post('/v1/audio/transcriptions', async (req, reply) => transcribe(ctx, req, reply));
}

/** `POST /v1/audio/transcriptions`: one concurrency slot, the body within `requestTimeoutMs`. */
async function transcribe(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (!req.isMultipart()) throw badRequest('The request must be multipart/form-data with a `file` field', 'file');
  if (!ctx.tryAcquire()) throw busy(ctx);
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
      ctx.options.log?.('warn', `request body not received within ${ctx.options.requestTimeoutMs} ms; connection closed`);
      controller.abort();
      req.raw.destroy();
    }
  }, ctx.options.requestTimeoutMs);
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
    const model = ctx.pickModel(modelName);
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
    const limit = Math.min(ctx.options.maxAudioDurationSec, model.backend.capabilities.maxAudioDurationSec ?? Infinity);
    let durationSec: number | undefined;
    let input: Uint8Array | { format: 'f32'; samples: Float32Array; sampleRate: number } = file;
    try {
      const reader = await openAudio(file, { abortSignal: controller.signal });
      durationSec = reader.durationSec;
      const rate = reader.format.sampleRate;
      await reader.close();
      if (rate < ctx.options.minSampleRate) {
        throw badRequest(`The audio's sample rate is ${rate} Hz; this server accepts ${ctx.options.minSampleRate} Hz or more`, 'file');
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
    ctx.release();
  }
}

/** The 429 answer at the concurrency limit. */
function busy(ctx: ServerContext): HttpError {
  return new HttpError(
    429,
    `The server is at its concurrency limit (${ctx.options.maxConcurrency}); retry after ${ctx.options.retryAfterSec} s`,
    'rate_limit_error',
    'concurrency_limit',
    null,
    { 'retry-after': String(ctx.options.retryAfterSec), 'retry-after-ms': String(ctx.options.retryAfterSec * 1000) },
  );
}
