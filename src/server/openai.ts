import { ASRError, type APIStatusError } from '../errors/index.js';
import { toSrt, toText, toVtt } from '../format/index.js';
import type { Transcription } from '../spec/index.js';

/** `response_format` values of OpenAI's transcription endpoint. @internal */
export const RESPONSE_FORMATS = ['json', 'text', 'srt', 'vtt', 'verbose_json'] as const;
/** One `response_format`. @internal */
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

/** OpenAI's error body: `{ error: { message, type, param, code } }`. @internal */
interface OpenAIErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly param: string | null;
    readonly code: string | null;
  };
}

/** An error the server answers with a given status, in OpenAI's shape. @internal */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null,
    readonly param: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  /** The body to send. */
  body(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Shorthand for a 400 `invalid_request_error`. @internal */
export function badRequest(message: string, param: string | null = null, code: string | null = null): HttpError {
  return new HttpError(400, message, 'invalid_request_error', code, param);
}

/** Maps any error thrown while serving a request to an {@link HttpError}. @internal */
export function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (ASRError.isInstance(e) && e instanceof Object && typeof (e as APIStatusError).status === 'number') {
    const se = e as APIStatusError;
    return new HttpError(se.status, se.message, se.status >= 500 ? 'server_error' : 'invalid_request_error', se.code);
  }
  if (ASRError.isInstance(e)) {
    switch (e.code) {
      case 'invalid_audio':
        return new HttpError(400, e.message, 'invalid_request_error', 'invalid_audio', 'file');
      case 'invalid_argument':
        return new HttpError(400, e.message, 'invalid_request_error', 'invalid_argument');
      case 'aborted':
        return new HttpError(499, e.message, 'invalid_request_error', 'aborted');
      case 'backend_unavailable':
      case 'model_error':
        return new HttpError(503, e.message, 'server_error', e.code, null, { 'retry-after': '5' });
      default:
        return new HttpError(e.isRetryable ? 503 : 500, e.message, 'server_error', e.code);
    }
  }
  const fe = e as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = typeof fe.code === 'string' ? fe.code : null;
    if (fe.statusCode === 413 || code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return new HttpError(413, 'The uploaded file is larger than this server accepts', 'invalid_request_error', 'payload_too_large', 'file');
    }
    return new HttpError(fe.statusCode, typeof fe.message === 'string' ? fe.message : fe.message == null ? 'Bad request' : (JSON.stringify(fe.message) ?? 'Bad request'), 'invalid_request_error', code);
  }
  return new HttpError(500, 'The server had an error while processing your request', 'server_error', null);
}

const LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  en: 'english', de: 'german', fr: 'french', es: 'spanish', it: 'italian', pt: 'portuguese', nl: 'dutch',
  ru: 'russian', zh: 'chinese', ja: 'japanese', ko: 'korean', ar: 'arabic', hi: 'hindi', pl: 'polish',
  tr: 'turkish', uk: 'ukrainian', sv: 'swedish', cs: 'czech', el: 'greek', he: 'hebrew',
};

/** OpenAI's language name for an ISO code (whisper answers `"english"`). @internal */
function languageName(code: string | undefined): string {
  if (code === undefined || code === '') return 'unknown';
  return LANGUAGE_NAMES[code.toLowerCase()] ?? code;
}

/** What a formatted response is: body and content type. @internal */
interface FormattedResponse {
  readonly contentType: string;
  readonly body: string | Record<string, unknown>;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Renders a transcription in one of OpenAI's response formats, field for field.
 * @internal
 */
export function formatResponse(
  t: Transcription,
  format: ResponseFormat,
  granularities: ReadonlySet<'word' | 'segment'>,
): FormattedResponse {
  switch (format) {
    case 'json':
      return { contentType: 'application/json', body: { text: t.text } };
    case 'text':
      // Exactly one trailing newline, as OpenAI's text format has.
      return { contentType: 'text/plain; charset=utf-8', body: `${toText(t, { speakerLabels: false }).replace(/\n+$/, '')}\n` };
    case 'srt':
      return { contentType: 'text/plain; charset=utf-8', body: toSrt(t, { speakerLabels: false }) };
    case 'vtt':
      return { contentType: 'text/plain; charset=utf-8', body: toVtt(t, { speakerLabels: false }) };
    case 'verbose_json': {
      const body: Record<string, unknown> = {
        task: 'transcribe',
        language: languageName(t.language),
        duration: round(t.durationSec),
        text: t.text,
      };
      // OpenAI returns segments unless only word granularity was asked for.
      if (granularities.has('segment') || !granularities.has('word')) {
        body.segments = t.segments.map((s, id) => ({
          id,
          seek: 0,
          start: round(s.start),
          end: round(s.end),
          text: s.text.startsWith(' ') ? s.text : ` ${s.text}`,
          tokens: [],
          temperature: 0,
          avg_logprob: s.confidence !== undefined && s.confidence > 0 ? Math.log(s.confidence) : 0,
          compression_ratio: 1,
          no_speech_prob: 0,
        }));
      }
      if (granularities.has('word')) {
        body.words = t.segments.flatMap((s) => s.words.map((w) => ({ word: w.word, start: round(w.start), end: round(w.end) })));
      }
      return { contentType: 'application/json', body };
    }
  }
}
