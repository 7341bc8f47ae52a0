import {
  InvalidAudioError,
  BackendUnavailableError,
  APIStatusError,
  ASRError,
  ConnectionError,
  ConnectionTimeoutError,
  toAbortError,
} from '../../errors/index.js';
import { rootCause } from '../../internal/causes.js';
import { sleep } from '../../internal/abort.js';

/** What one attempt needs. @internal */
interface HttpCall {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  /** Builds the body afresh for every attempt (bodies are replayable bytes). */
  readonly body?: () => FormData | string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly signal: AbortSignal | undefined;
  readonly fetch: typeof fetch;
  /** Called before each retry. */
  readonly onRetry?: (attempt: number, delayMs: number, error: ASRError) => void;
  /** Checks a 2xx answer; a retryable `ASRError` thrown here (a malformed body) is retried. */
  readonly validate?: (r: HttpResult) => void;
}

/** A successful answer. @internal */
interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/**
 * Delay before a retry, openai-node's way: `retry-after-ms` or `retry-after` (seconds or a date)
 * when it is between 0 and 60 s, else 0.5 s × 2^n capped at 8 s, minus up to 25 % jitter.
 * @internal
 */
function retryDelayMs(headers: Headers | undefined, retriesDone: number, now = Date.now()): number {
  let ms: number | undefined;
  const msHeader = headers?.get('retry-after-ms');
  if (msHeader) {
    const v = parseFloat(msHeader);
    if (!Number.isNaN(v)) ms = v;
  }
  const raHeader = headers?.get('retry-after');
  if (raHeader && ms === undefined) {
    const s = parseFloat(raHeader);
    ms = Number.isNaN(s) ? Date.parse(raHeader) - now : s * 1000;
  }
  if (ms !== undefined && Number.isFinite(ms) && ms >= 0 && ms <= 60_000) return ms;
  const sec = Math.min(0.5 * 2 ** retriesDone, 8);
  return sec * (1 - Math.random() * 0.25) * 1000;
}


function headersToRecord(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => (out[k] = v));
  return out;
}

function shouldRetryStatus(res: Response): boolean {
  const hint = res.headers.get('x-should-retry');
  if (hint === 'true') return true;
  if (hint === 'false') return false;
  return res.status === 408 || res.status === 409 || res.status === 429 || res.status >= 500;
}

/**
 * One HTTP call with openai-node's retry policy and a per-attempt timeout. Non-2xx answers become
 * the status's {@link APIStatusError} subclass; transport failures {@link ConnectionError} /
 * {@link ConnectionTimeoutError}; the caller's abort {@link AbortedError}.
 * @internal
 */
export async function httpCall(c: HttpCall): Promise<HttpResult> {
  for (let attempt = 0; ; attempt++) {
    if (c.signal?.aborted) throw toAbortError(c.signal);
    const timeout = AbortSignal.timeout(c.timeoutMs);
    const signal = c.signal ? AbortSignal.any([c.signal, timeout]) : timeout;
    let error: ASRError;
    let retryHeaders: Headers | undefined;
    let terminal: ASRError | undefined;
    try {
      const res = await c.fetch(c.url, {
        method: c.method,
        headers: c.headers,
        ...(c.body ? { body: c.body() } : {}),
        signal,
      });
      const text = await res.text();
      if (res.ok) {
        const result = { status: res.status, headers: res.headers, text };
        c.validate?.(result);
        return result;
      }
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* keep text */
      }
      const message =
        (body as { error?: { message?: unknown } } | null)?.error?.message ?? (typeof body === 'string' && body !== '' ? body.slice(0, 300) : `HTTP ${res.status}`);
      error = APIStatusError.fromResponse(res.status, `${res.status} ${asText(message)}`, { headers: headersToRecord(res.headers), body });
      // A hybrid-asr server names the audio problem: surface it as the same typed error a local
      // backend throws, with the HTTP error as its cause.
      if (res.status === 400 && (body as { error?: { code?: unknown } } | null)?.error?.code === 'invalid_audio') {
        throw new InvalidAudioError(asText(message), { cause: error });
      }
      // The server's model can't serve this request (e.g. a language it lacks): retrying the same
      // server is pointless, but another backend may serve it (BackendUnavailableError is retryable).
      if (res.status === 422 && (body as { error?: { code?: unknown } } | null)?.error?.code === 'backend_unavailable') {
        terminal = new BackendUnavailableError(asText(message), { cause: error });
        throw terminal;
      }
      if (!shouldRetryStatus(res)) throw error;
      retryHeaders = res.headers;
    } catch (e) {
      if (c.signal?.aborted) throw toAbortError(c.signal, e);
      if (terminal !== undefined) throw terminal;
      if (ASRError.isInstance(e)) {
        if (!e.isRetryable) throw e;
        error = e;
      } else if (timeout.aborted) {
        error = new ConnectionTimeoutError(`No answer from ${new URL(c.url).origin} within ${c.timeoutMs} ms`, { cause: e });
      } else {
        error = new ConnectionError(`Could not reach ${new URL(c.url).origin}: ${rootCause(e)}`, { cause: e });
      }
    }
    if (attempt >= c.maxRetries) throw error;
    const delay = retryDelayMs(retryHeaders, attempt);
    c.onRetry?.(attempt + 1, delay, error);
    await sleep(delay, c.signal);
  }
}

/** A server's error `message` as text: strings as they are, anything else as JSON. */
function asText(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
}
