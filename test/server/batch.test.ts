/**
 * The batch HTTP API of the server, through real sockets on 127.0.0.1: OpenAI's transcription
 * endpoint as the official `openai` npm client sees it, error shapes and status codes, auth,
 * limits and the model table. The backend here is the scriptable TestBackend (what it "hears" is
 * fixed), so the response shapes can be checked exactly; test/remote/ runs the real models.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors/index.js';
import { createServer, type ASRServer } from '../../src/server/index.js';
import { TestBackend } from '../../src/testing/index.js';
import { AUDIO_DIR, describeWithAssets } from '../helpers/shared.js';

const WAV = join(AUDIO_DIR, 'espeak', 'espeak-001.wav');
const KEY = 'sk-test-0123456789';
const SCRIPT = [
  { word: 'hello', start: 0.3, end: 0.7 },
  { word: 'world', start: 0.8, end: 1.2 },
  { word: 'again', start: 2.5, end: 2.9 },
];

/** Posts a form; `key: null` sends no Authorization header at all. */
async function post(url: string, form: FormData, key: string | null = KEY): Promise<Response> {
  return fetch(`${url}/v1/audio/transcriptions`, {
    method: 'POST',
    body: form,
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
}

async function wavForm(fields: Record<string, string> = {}): Promise<FormData> {
  const fd = new FormData();
  fd.append('file', new Blob([await readFile(WAV)], { type: 'audio/wav' }), 'a.wav');
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  return fd;
}

describeWithAssets([WAV])('server batch API', () => {
  let server: ASRServer;
  let url: string;
  let client: OpenAI;
  const logs: string[] = [];
  const main = new TestBackend({ id: 'main', script: SCRIPT });
  const other = new TestBackend({ id: 'other', script: [{ word: 'other', start: 0.2, end: 0.5 }] });

  beforeAll(async () => {
    server = createServer({
      models: { main, other },
      port: 0,
      apiKeys: [KEY, 'second-key'],
      maxAudioDurationSec: 60,
      log: (_l, m) => logs.push(m),
    });
    url = await server.listen();
    client = new OpenAI({ apiKey: KEY, baseURL: `${url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers the openai client with json', async () => {
    const r = await client.audio.transcriptions.create({ file: createReadStream(WAV), model: 'whisper-1' });
    expect(r).toEqual({ text: 'hello world again' });
  });

  it('answers text, srt and vtt as plain strings', async () => {
    const text = await client.audio.transcriptions.create({ file: createReadStream(WAV), model: 'whisper-1', response_format: 'text' });
    expect(text).toBe('hello world again\n');
    const srt = await client.audio.transcriptions.create({ file: createReadStream(WAV), model: 'whisper-1', response_format: 'srt' });
    expect(srt).toMatch(/^1\r?\n00:00:00,300 --> 00:00:01,200\r?\nhello world/);
    const vtt = await client.audio.transcriptions.create({ file: createReadStream(WAV), model: 'whisper-1', response_format: 'vtt' });
    expect(vtt).toMatch(/^WEBVTT/);
    expect(vtt).toContain('00:00:00.300 --> 00:00:01.200');
  });

  it('answers verbose_json in OpenAI’s shape with segments and words', async () => {
    const r = await client.audio.transcriptions.create({
      file: createReadStream(WAV),
      model: 'whisper-1',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
      language: 'en',
    });
    expect((r as unknown as { task: string }).task).toBe('transcribe');
    expect(r.language).toBe('english');
    expect(r.duration).toBeGreaterThan(2);
    expect(r.text).toBe('hello world again');
    expect(r.segments?.map((s) => [s.id, s.start, s.end, s.text.trim()])).toEqual([
      [0, 0.3, 1.2, 'hello world'],
      [1, 2.5, 2.9, 'again'],
    ]);
    for (const s of r.segments ?? []) {
      for (const k of ['seek', 'tokens', 'temperature', 'avg_logprob', 'compression_ratio', 'no_speech_prob']) expect(s).toHaveProperty(k);
    }
    expect(r.words).toEqual([
      { word: 'hello', start: 0.3, end: 0.7 },
      { word: 'world', start: 0.8, end: 1.2 },
      { word: 'again', start: 2.5, end: 2.9 },
    ]);
    // Word granularity alone: no segments, as OpenAI does.
    const w = await client.audio.transcriptions.create({
      file: createReadStream(WAV),
      model: 'whisper-1',
      response_format: 'verbose_json',
      timestamp_granularities: ['word'],
    });
    expect(w.segments).toBeUndefined();
    expect(w.words).toHaveLength(3);
  });

  it('selects models by name; whisper-1 and unknown names go to the default', async () => {
    expect((await client.audio.transcriptions.create({ file: createReadStream(WAV), model: 'other' })).text).toBe('other');
    expect((await client.audio.transcriptions.create({ file: createReadStream(WAV), model: 'gpt-4o-transcribe' })).text).toBe('hello world again');
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['main', 'other']);
    expect((await client.models.retrieve('other')).id).toBe('other');
  });

  it('accepts temperature and says in a header that it was ignored', async () => {
    const res = await post(url, await wavForm({ model: 'whisper-1', temperature: '0.2' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('warning')).toMatch(/299 hybrid-asr "temperature/);
    expect(JSON.parse(decodeURIComponent(res.headers.get('x-hybrid-asr-warnings')!))).toContainEqual(
      expect.objectContaining({ type: 'unsupported', feature: 'temperature' }),
    );
  });

  it('answers a wrong or missing key with 401 in OpenAI’s error shape, for every key configured', async () => {
    const bad = new OpenAI({ apiKey: 'wrong', baseURL: `${url}/v1`, maxRetries: 0 });
    await expect(bad.audio.transcriptions.create({ file: createReadStream(WAV), model: 'whisper-1' })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const res = await post(url, await wavForm(), null);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key', param: null });
    expect(typeof body.error.message).toBe('string');
    expect((await post(url, await wavForm(), 'second-key')).status).toBe(200);
    // /health needs no key; nothing logged carries a key.
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(logs.join('\n')).not.toContain(KEY);
  });

  it('rejects malformed requests with 400 naming the parameter', async () => {
    const noFile = new FormData();
    noFile.append('model', 'whisper-1');
    let res = await post(url, noFile);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('file');

    res = await post(url, await wavForm({ response_format: 'xml' }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('response_format');

    res = await post(url, await wavForm({ temperature: 'hot' }));
    expect(res.status).toBe(400);

    const garbage = new FormData();
    garbage.append('file', new Blob([new Uint8Array(1000).fill(7)]), 'x.wav');
    res = await post(url, garbage);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_audio');

    res = await fetch(`${url}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    res = await fetch(`${url}/v1/nope`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('reports liveness and whether each model is loaded', async () => {
    const res = await fetch(`${url}/health`);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      ready: true,
      models: [
        { id: 'main', loaded: true, default: true },
        { id: 'other', loaded: true, default: false },
      ],
    });
    other.available = false;
    expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ ready: true, models: [{ loaded: true }, { loaded: false }] });
    other.available = true;
  });
});

describeWithAssets([WAV])('server limits', () => {
  it('answers an oversized upload and overlong audio with 413 and a clear message', async () => {
    const server = createServer({ models: { m: new TestBackend({ script: SCRIPT }) }, port: 0, maxBodyBytes: 50_000, maxAudioDurationSec: 1 });
    const url = await server.listen();
    try {
      const big = new FormData();
      big.append('file', new Blob([new Uint8Array(200_000)]), 'big.wav');
      let res = await post(url, big, undefined);
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/larger than this server accepts/);

      const server2 = createServer({ models: { m: new TestBackend({ script: SCRIPT }) }, port: 0, maxAudioDurationSec: 1 });
      const url2 = await server2.listen();
      res = await post(url2, await wavForm(), undefined);
      expect(res.status).toBe(413);
      const body = (await res.json()) as { error: { code: string; param: string; message: string } };
      expect(body.error).toMatchObject({ code: 'audio_too_long', param: 'file' });
      expect(body.error.message).toMatch(/at most 1 s/);
      await server2.close();
    } finally {
      await server.close();
    }
  });

  it('answers 429 with retry-after when the concurrency limit is reached', async () => {
    const slow = new TestBackend({ script: SCRIPT, latencyMs: 400 });
    const server = createServer({ models: { m: slow }, port: 0, maxConcurrency: 1, retryAfterSec: 2 });
    const url = await server.listen();
    try {
      const first = post(url, await wavForm(), undefined);
      await new Promise((r) => setTimeout(r, 100));
      const second = await post(url, await wavForm(), undefined);
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBe('2');
      expect(await second.json()).toMatchObject({ error: { code: 'concurrency_limit' } });
      expect((await first).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('rejects unknown model names with 404 when strict', async () => {
    const server = createServer({ models: { m: new TestBackend({ script: SCRIPT }) }, port: 0, strictModels: true });
    const url = await server.listen();
    try {
      const res = await post(url, await wavForm({ model: 'whisper-1' }), undefined);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'model_not_found', param: 'model' } });
      expect((await post(url, await wavForm({ model: 'm' }), undefined)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('refuses to bind a public address without an API key, and validates options', async () => {
    const server = createServer({ models: { m: new TestBackend() }, host: '0.0.0.0', port: 0 });
    await expect(server.listen()).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => createServer({ models: {} })).toThrow(/`models`/);
    expect(() => createServer({ models: { m: new TestBackend() }, maxConcurrency: 0 })).toThrow(/`maxConcurrency`/);
    expect(() => createServer({ models: { m: new TestBackend() }, defaultModel: 'x' })).toThrow(/`defaultModel`/);
  });
});
