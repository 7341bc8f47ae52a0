/**
 * RemoteBackend.transcribe() against scripted HTTP servers on 127.0.0.1 (real sockets): the
 * openai-node retry policy (429 + retry-after, 500 then success, timeouts, malformed bodies),
 * typed errors, abort, and the health probe.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { RemoteBackend } from '../../src/backends/remote/index.js';
import {
  AbortedError,
  AuthenticationError,
  BackendUnavailableError,
  BadRequestError,
  ConnectionError,
  ConnectionTimeoutError,
  InvalidArgumentError,
  RateLimitError,
} from '../../src/errors/index.js';
import { AUDIO_DIR, describeWithAssets } from '../helpers/shared.js';

const WAV = join(AUDIO_DIR, 'espeak', 'espeak-003.wav');

const VERBOSE = {
  task: 'transcribe',
  language: 'english',
  duration: 2.5,
  text: 'organization of the view',
  segments: [
    { id: 0, start: 0.2, end: 1.0, text: ' organization of', tokens: [], temperature: 0, avg_logprob: 0, compression_ratio: 1, no_speech_prob: 0 },
    { id: 1, start: 1.4, end: 2.1, text: ' the view', tokens: [], temperature: 0, avg_logprob: 0, compression_ratio: 1, no_speech_prob: 0 },
  ],
  words: [
    { word: 'organization', start: 0.2, end: 0.7 },
    { word: 'of', start: 0.75, end: 1.0 },
    { word: 'the', start: 1.4, end: 1.6 },
    { word: 'view', start: 1.7, end: 2.1 },
  ],
};

type Handler = (req: IncomingMessage, res: ServerResponse, index: number, body: string) => void;

interface Scripted {
  url: string;
  requests: { headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

const open: Scripted[] = [];

async function scripted(handler: Handler): Promise<Scripted> {
  const requests: Scripted['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('latin1');
      requests.push({ headers: req.headers, body });
      handler(req, res, requests.length - 1, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const s: Scripted = {
    url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  open.push(s);
  return s;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const err = (message: string, code: string | null = null): unknown => ({ error: { message, type: 'invalid_request_error', param: null, code } });

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describeWithAssets([WAV])('RemoteBackend.transcribe over HTTP', () => {
  it('uploads multipart as OpenAI defines it and maps verbose_json to a Transcription', async () => {
    const s = await scripted((_q, res) => json(res, 200, VERBOSE));
    const r = new RemoteBackend({ baseUrl: s.url, apiKey: 'k1', model: 'whisper-1' });
    const t = await r.transcribe(WAV, { language: 'en', hotwords: ['view'] });
    expect(t).toMatchObject({ text: 'organization of the view', language: 'en', durationSec: 2.5, backend: 'remote' });
    expect(t.segments.map((x) => [x.text, x.words.map((w) => w.word)])).toEqual([
      ['organization of', ['organization', 'of']],
      ['the view', ['the', 'view']],
    ]);
    const req = s.requests[0]!;
    expect(req.headers.authorization).toBe('Bearer k1');
    expect(req.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    for (const f of ['name="file"; filename="espeak-003.wav"', 'name="model"', 'whisper-1', 'verbose_json', 'name="timestamp_granularities[]"', 'name="prompt"']) {
      expect(req.body).toContain(f);
    }
  });

  it('honours retry-after on 429 and then succeeds', async () => {
    const s = await scripted((_q, res, i) =>
      i === 0 ? json(res, 429, err('slow down', 'rate_limit_exceeded'), { 'retry-after-ms': '150', 'retry-after': '30' }) : json(res, 200, VERBOSE),
    );
    const r = new RemoteBackend({ baseUrl: s.url });
    const delays: number[] = [];
    r.on('retry', (_n, d, e) => {
      delays.push(d);
      expect(e instanceof RateLimitError).toBe(true);
    });
    expect((await r.transcribe(WAV)).text).toBe(VERBOSE.text);
    expect(delays).toEqual([150]);
    expect(s.requests).toHaveLength(2);
  });

  it('retries a 500 with exponential backoff and jitter, then succeeds', async () => {
    const s = await scripted((_q, res, i) => (i === 0 ? json(res, 500, { error: { message: 'boom', type: 'server_error' } }) : json(res, 200, VERBOSE)));
    const r = new RemoteBackend({ baseUrl: s.url });
    const delays: number[] = [];
    r.on('retry', (_n, d) => delays.push(d));
    expect((await r.transcribe(WAV)).text).toBe(VERBOSE.text);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(375);
    expect(delays[0]).toBeLessThanOrEqual(500);
  });

  it('ignores a retry-after beyond 60 s and uses its own backoff', async () => {
    const s = await scripted((_q, res, i) => (i === 0 ? json(res, 503, err('later'), { 'retry-after': '3600' }) : json(res, 200, VERBOSE)));
    const r = new RemoteBackend({ baseUrl: s.url });
    const delays: number[] = [];
    r.on('retry', (_n, d) => delays.push(d));
    await r.transcribe(WAV);
    expect(delays[0]).toBeLessThanOrEqual(500);
  });

  it('retries a malformed JSON body, and fails with ConnectionError when it stays malformed', async () => {
    const once = await scripted((_q, res, i) => {
      if (i === 0) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"text": "organization of');
      } else json(res, 200, VERBOSE);
    });
    expect((await new RemoteBackend({ baseUrl: once.url }).transcribe(WAV)).text).toBe(VERBOSE.text);

    const always = await scripted((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>proxy error</html>');
    });
    const e = await new RemoteBackend({ baseUrl: always.url, maxRetries: 1 }).transcribe(WAV).catch((x: unknown) => x);
    expect(ConnectionError.isInstance(e), String(e)).toBe(true);
    expect(String((e as Error).message)).toMatch(/malformed/);
    expect(always.requests).toHaveLength(2);
  });

  it('times out each attempt of a slow server and fails with ConnectionTimeoutError', async () => {
    const s = await scripted((_q, res) => setTimeout(() => json(res, 200, VERBOSE), 3000).unref());
    const r = new RemoteBackend({ baseUrl: s.url, timeoutMs: 200, maxRetries: 1 });
    const e = await r.transcribe(WAV).catch((x: unknown) => x);
    expect(ConnectionTimeoutError.isInstance(e), String(e)).toBe(true);
    expect(s.requests).toHaveLength(2);
    // A per-call timeout overrides the backend's.
    const fast = await scripted((_q, res) => setTimeout(() => json(res, 200, VERBOSE), 300).unref());
    const ok = await new RemoteBackend({ baseUrl: fast.url, timeoutMs: 50, maxRetries: 0 }).transcribe(WAV, { backendOptions: { remote: { timeoutMs: 5000 } } });
    expect(ok.text).toBe(VERBOSE.text);
  });

  it('does not retry 400 or 401, and types them', async () => {
    const s = await scripted((q, res) =>
      q.headers.authorization === 'Bearer good' ? json(res, 400, err('bad file', 'invalid_argument')) : json(res, 401, err('wrong key', 'invalid_api_key')),
    );
    const auth = await new RemoteBackend({ baseUrl: s.url, apiKey: 'bad' }).transcribe(WAV).catch((x: unknown) => x);
    expect(auth instanceof AuthenticationError).toBe(true);
    expect((auth as AuthenticationError).status).toBe(401);
    const bad = await new RemoteBackend({ baseUrl: s.url, apiKey: 'good' }).transcribe(WAV).catch((x: unknown) => x);
    expect(bad instanceof BadRequestError).toBe(true);
    expect(s.requests).toHaveLength(2);
  });

  it('turns a 422 backend_unavailable (a language the model lacks) into BackendUnavailableError without retrying', async () => {
    const s = await scripted((_q, res) => json(res, 422, err('Model recognises en; language "zz" was requested', 'backend_unavailable')));
    const e = await new RemoteBackend({ baseUrl: s.url }).transcribe(WAV, { language: 'zz' }).catch((x: unknown) => x);
    expect(BackendUnavailableError.isInstance(e), String(e)).toBe(true);
    expect((e as BackendUnavailableError).isRetryable).toBe(true);
    expect(s.requests).toHaveLength(1);
  });

  it('fails with ConnectionError after retrying a refused connection, and aborts during backoff', async () => {
    const s = await scripted(() => undefined);
    const url = s.url;
    await s.close();
    open.splice(0);
    const r = new RemoteBackend({ baseUrl: url, maxRetries: 1 });
    let retries = 0;
    r.on('retry', () => retries++);
    const e = await r.transcribe(WAV).catch((x: unknown) => x);
    expect(ConnectionError.isInstance(e), String(e)).toBe(true);
    expect(retries).toBe(1);

    const c = new AbortController();
    r.once('retry', () => c.abort());
    const a = await r.transcribe(WAV, { abortSignal: c.signal }).catch((x: unknown) => x);
    expect(AbortedError.isInstance(a), String(a)).toBe(true);
    expect(AbortedError.isInstance(await r.transcribe(WAV, { abortSignal: AbortSignal.abort() }).catch((x: unknown) => x))).toBe(true);
  });

  it('probes health with a short timeout and never throws', async () => {
    const up = await scripted((_q, res) => json(res, 200, { object: 'list', data: [] }));
    expect(await new RemoteBackend({ baseUrl: up.url }).isAvailable()).toBe(true);
    const slow = await scripted((_q, res) => setTimeout(() => json(res, 200, {}), 3000).unref());
    expect(await new RemoteBackend({ baseUrl: slow.url, healthTimeoutMs: 100 }).isAvailable()).toBe(false);
    expect(await new RemoteBackend({ baseUrl: 'http://127.0.0.1:1/v1' }).isAvailable()).toBe(false);
  });

  it('validates options eagerly, naming the option', () => {
    expect(() => new RemoteBackend({ baseUrl: 'ftp://x' })).toThrow(InvalidArgumentError);
    expect(() => new RemoteBackend({ baseUrl: 'http://u:p@x/v1' })).toThrow(/credentials/);
    expect(() => new RemoteBackend({ baseUrl: 'http://x/v1', maxRetries: -1 })).toThrow(/`maxRetries`/);
    expect(() => new RemoteBackend({ baseUrl: 'http://x/v1', reconnect: { maxDelayMs: Number.NaN } })).toThrow(/`reconnect.maxDelayMs`/);
  });
});
