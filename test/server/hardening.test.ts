/**
 * The server as a hostile caller or a careless operator meets it, through real sockets on
 * 127.0.0.1: browser origins and Host names (cross-site WebSocket hijacking, DNS rebinding),
 * session ownership, slots held by silent sockets and trickled bodies, malformed multipart
 * bodies, and audio whose few bytes stand for hours.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeWav } from '../../src/audio/index.js';
import { InvalidArgumentError, InvalidAudioError, ModelError } from '../../src/errors/index.js';
import { NativeBackend } from '../../src/backends/native/index.js';
import { createServer, type ASRServer, type ServerOptions } from '../../src/server/index.js';
import { STREAM_PATH, STREAM_SUBPROTOCOL } from '../../src/protocol/index.js';
import { TestBackend } from '../../src/testing/index.js';
import { AUDIO_DIR, OFFLINE_MODEL } from '../helpers/shared.js';

const WAV = join(AUDIO_DIR, 'espeak', 'espeak-001.wav');
const SCRIPT = [{ word: 'hello', start: 0.2, end: 0.6 }];
const servers: ASRServer[] = [];

async function start(options: Partial<ServerOptions> = {}): Promise<{ server: ASRServer; url: string; port: number }> {
  const server = createServer({ models: { m: new TestBackend({ script: SCRIPT }) }, port: 0, ...options });
  servers.push(server);
  const url = await server.listen();
  return { server, url, port: Number(new URL(url).port) };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP request with full control of Host and Origin (fetch forbids setting them). */
function raw(port: number, o: { method?: string; path?: string; headers?: Record<string, string>; body?: Buffer }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path ?? '/v1/models', headers: o.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** A multipart body with one WAV file. */
async function multipart(wav?: Buffer): Promise<{ body: Buffer; type: string }> {
  const boundary = 'xXhybridXx';
  const file = wav ?? (await readFile(WAV));
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n--${boundary}--\r\n`),
  ]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

/** Opens a WebSocket; resolves with the socket once open, or the HTTP status it was refused with. */
function openWs(port: number, headers: Record<string, string> = {}, protocols: string[] = [STREAM_SUBPROTOCOL]): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${STREAM_PATH}`, protocols, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once('error', (e) => reject(e));
  });
}

/** The next JSON message, or the close code when the socket closes first. */
function next(ws: WebSocket): Promise<Record<string, unknown> | { closed: number }> {
  return new Promise((resolve) => {
    const onMsg = (d: WebSocket.RawData, bin: boolean): void => {
      if (bin) return;
      cleanup();
      resolve(JSON.parse((d as Buffer).toString()) as Record<string, unknown>);
    };
    const onClose = (code: number): void => {
      cleanup();
      resolve({ closed: code });
    };
    const cleanup = (): void => {
      ws.off('message', onMsg);
      ws.off('close', onClose);
    };
    ws.on('message', onMsg);
    ws.on('close', onClose);
  });
}

/**
 * Resolves 'still-open' once the client has answered `count` of the server's pings: a bound on
 * how long a test waits for the server to close a socket that only answers pings, so that a
 * missing deadline fails fast instead of hanging until the test timeout.
 */
function afterPings(ws: WebSocket, count: number): Promise<'still-open'> {
  return new Promise((resolve) => {
    let n = 0;
    ws.on('ping', () => ++n === count && resolve('still-open'));
  });
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve(-1);
    ws.once('close', (code) => resolve(code));
  });
}

const startMsg = (extra: Record<string, unknown> = {}): string => JSON.stringify({ type: 'start', version: 1, sample_rate: 16000, encoding: 'pcm_s16le', ...extra });

describe('origins and Host names', () => {
  it('a keyless server refuses other origins and non-loopback Host names, on HTTP and WebSocket', async () => {
    const { port } = await start();
    const mp = await multipart();
    const post = (headers: Record<string, string>): Promise<RawResponse> =>
      raw(port, { method: 'POST', path: '/v1/audio/transcriptions', headers: { 'content-type': mp.type, ...headers }, body: mp.body });

    // The reported attacks: a cross-origin multipart POST and a cross-site WebSocket.
    const evilPost = await post({ origin: 'https://evil.example' });
    expect(evilPost.status).toBe(403);
    expect(JSON.parse(evilPost.body).error.message).toMatch(/Origin "https:\/\/evil.example" is not allowed/);
    expect(await openWs(port, { origin: 'https://evil.example' })).toBe(403);
    expect(await openWs(port, { origin: 'null' })).toBe(403);
    // DNS rebinding: a hostile name that resolves to 127.0.0.1 arrives with its own Host.
    expect((await post({ host: `rebind.evil.example:${port}` })).status).toBe(403);
    expect((await raw(port, { headers: { host: 'evil.example' } })).status).toBe(403);
    expect(await openWs(port, { host: `evil.example:${port}` })).toBe(403);

    // What is allowed: no Origin (curl, SDKs), loopback origins, loopback Host names.
    expect((await post({})).status).toBe(200);
    expect((await post({ origin: 'http://localhost:5173' })).status).toBe(200);
    expect((await raw(port, { headers: { host: `localhost:${port}` } })).status).toBe(200);
    expect((await raw(port, { headers: { host: `[::1]:${port}` } })).status).toBe(200);
    const ws = await openWs(port, { origin: 'http://127.0.0.1:3000' });
    expect(ws).toBeInstanceOf(WebSocket);
    (ws as WebSocket).send(startMsg());
    expect(await next(ws as WebSocket)).toMatchObject({ type: 'ready' });
    (ws as WebSocket).close();
  });

  it('--allow-origin lets one app in, with CORS headers and preflight', async () => {
    const { port } = await start({ allowedOrigins: ['https://app.example'] });
    const ok = await raw(port, { headers: { origin: 'https://app.example' } });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    const pre = await raw(port, { method: 'OPTIONS', path: '/v1/audio/transcriptions', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-methods']).toMatch(/POST/);
    expect((await raw(port, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    expect(await openWs(port, { origin: 'https://app.example' })).toBeInstanceOf(WebSocket);
    expect(() => createServer({ models: { m: new TestBackend() }, allowedOrigins: ['https://app.example/path'] })).toThrow(/allowedOrigins/);
  });

  it('with a key, the key is the credential: any Host, and origins only when an allow-list is set', async () => {
    const { port } = await start({ apiKeys: ['k1'] });
    expect((await raw(port, { headers: { host: 'asr.internal.example', origin: 'https://evil.example', authorization: 'Bearer k1' } })).status).toBe(200);
    expect((await raw(port, { headers: { origin: 'https://evil.example' } })).status).toBe(401);
  });
});

describe('session ownership', () => {
  it('resuming another credential’s session is refused and does not disturb it; tokens are bound the same way', async () => {
    const { port, url } = await start({ apiKeys: ['key-a', 'key-b'] });
    const a = (await openWs(port, { authorization: 'Bearer key-a' })) as WebSocket;
    a.send(startMsg());
    const ready = (await next(a)) as { type: string; session_id: string };
    expect(ready.type).toBe('ready');
    const id = ready.session_id;

    // B's key, A's session id: refused with 4403, A untouched.
    const b = (await openWs(port, { authorization: 'Bearer key-b' })) as WebSocket;
    b.send(startMsg({ session_id: id, resume_offset: 0 }));
    const refused = (await next(b)) as { type: string; code: string };
    expect(refused).toMatchObject({ type: 'error', code: 'session_forbidden' });
    expect(await closed(b)).toBe(4403);
    expect(a.readyState).toBe(WebSocket.OPEN);

    // B with a token issued for key B: refused the same way.
    const tok = await fetch(`${url}/v1/audio/stream/tokens`, { method: 'POST', headers: { authorization: 'Bearer key-b' } }).then((r) => r.json() as Promise<{ subprotocol: string }>);
    const bt = (await openWs(port, {}, [STREAM_SUBPROTOCOL, tok.subprotocol])) as WebSocket;
    bt.send(startMsg({ session_id: id, resume_offset: 0 }));
    expect(await next(bt)).toMatchObject({ type: 'error', code: 'session_forbidden' });

    // A carries on: audio, stop, end.
    a.send(Buffer.alloc(3200));
    a.send(JSON.stringify({ type: 'stop' }));
    let m: Record<string, unknown> | { closed: number };
    do m = await next(a);
    while ('type' in m && m.type !== 'end');
    expect(m).toMatchObject({ type: 'end' });

    // Its owner may resume it, with its key or with a token issued for its key.
    const tokA = await fetch(`${url}/v1/audio/stream/tokens`, { method: 'POST', headers: { authorization: 'Bearer key-a' } }).then((r) => r.json() as Promise<{ subprotocol: string }>);
    const again = (await openWs(port, {}, [STREAM_SUBPROTOCOL, tokA.subprotocol])) as WebSocket;
    again.send(startMsg({ session_id: id, resume_offset: 0 }));
    expect(await next(again)).toMatchObject({ type: 'ready', resumed: true, session_id: id });
    again.close();
  });
});

describe('slots are never held forever', () => {
  it('a socket that never sends start is closed after startTimeoutMs, though it answers every ping', async () => {
    const { server, port } = await start({ startTimeoutMs: 300, keepaliveIntervalMs: 50 });
    const ws = (await openWs(port)) as WebSocket; // ws answers pings automatically
    expect(server.activeCount).toBe(1);
    // 200 pings are 10 s at 50 ms: far past the 300 ms deadline.
    const reply = await Promise.race([next(ws), afterPings(ws, 200)]);
    expect(reply).toMatchObject({ type: 'error', code: 'start_timeout' });
    expect(await closed(ws)).toBe(4408);
    await new Promise((r) => setTimeout(r, 20));
    expect(server.activeCount).toBe(0);
  });

  it('after start, pongs are not activity: a silent session is closed after idleTimeoutMs', async () => {
    const { server, port } = await start({ idleTimeoutMs: 400, keepaliveIntervalMs: 50 });
    const ws = (await openWs(port)) as WebSocket;
    ws.send(startMsg());
    expect(await next(ws)).toMatchObject({ type: 'ready' });
    expect(await Promise.race([next(ws), afterPings(ws, 200)])).toMatchObject({ type: 'error', code: 'idle_timeout' });
    expect(await closed(ws)).toBe(4408);
    await new Promise((r) => setTimeout(r, 20));
    expect(server.activeCount).toBe(0);
  });

  it('a multipart body trickled slowly is cut at requestTimeoutMs and frees its slot', async () => {
    const { server, port } = await start({ requestTimeoutMs: 500, maxConcurrency: 1 });
    const sock = connect(port, '127.0.0.1');
    sock.on('error', () => {}); // the server cuts it mid-write
    await new Promise((r) => sock.once('connect', r));
    sock.write(`POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n`);
    // A byte every 50 ms, for at most 200 bytes: far past the 500 ms deadline. Node's own
    // requestTimeout is only checked every 30 s, so without the server's deadline the trickle
    // runs out before the server cuts the connection.
    let sent = 0;
    let gaveUp!: () => void;
    const exhausted = new Promise<'exhausted'>((r) => (gaveUp = () => r('exhausted')));
    const trickle = setInterval(() => {
      if (++sent > 200) gaveUp();
      else if (sock.writable) sock.write('x');
    }, 50);
    const ended = new Promise<'cut'>((r) => sock.once('close', () => r('cut')));
    await new Promise((r) => setTimeout(r, 150));
    expect(server.activeCount).toBe(1);
    const outcome = await Promise.race([ended, exhausted]);
    clearInterval(trickle);
    expect(outcome, 'the server must cut a trickled body at its deadline').toBe('cut');
    await new Promise((r) => setTimeout(r, 20));
    expect(server.activeCount).toBe(0);
    const mp = await multipart();
    expect((await raw(port, { method: 'POST', path: '/v1/audio/transcriptions', headers: { 'content-type': mp.type }, body: mp.body })).status).toBe(200);
  });
});

describe('malformed requests get 4xx, never 500', () => {
  it('malformed multipart bodies', async () => {
    const { port } = await start();
    const wav = await readFile(WAV);
    const cases: [string, string, Buffer][] = [
      ['no boundary parameter', 'multipart/form-data', Buffer.from('--x\r\n\r\n')],
      ['truncated body', 'multipart/form-data; boundary=b', Buffer.concat([Buffer.from('--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'), wav.subarray(0, 500)])],
      ['garbage', 'multipart/form-data; boundary=b', Buffer.from('this is not multipart at all')],
      ['part without headers end', 'multipart/form-data; boundary=b', Buffer.from('--b\r\nContent-Disposition: form-data; name="file"')],
      ['bad disposition', 'multipart/form-data; boundary=b', Buffer.from('--b\r\nContent-Disposition: nonsense\r\n\r\nabc\r\n--b--\r\n')],
      ['two files', 'multipart/form-data; boundary=b', Buffer.from('--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nA\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="b"\r\n\r\nB\r\n--b--\r\n')],
    ];
    for (const [name, type, body] of cases) {
      const r = await raw(port, { method: 'POST', path: '/v1/audio/transcriptions', headers: { 'content-type': type }, body });
      expect(r.status, `${name}: ${r.body}`).toBeGreaterThanOrEqual(400);
      expect(r.status, `${name}: ${r.body}`).toBeLessThan(500);
      expect(JSON.parse(r.body).error.message, name).toEqual(expect.any(String));
    }
  });

  it('a WAV at a very low sample rate is refused before any work; so is a stream that asks for one', async () => {
    const { port } = await start({ apiKeys: [] });
    // 1.8 MB at 250 Hz: an hour of "audio" that would be resampled to 16 kHz.
    const wav = encodeWav(new Float32Array(900_000).map((_, i) => Math.sin(i / 10) * 0.1), 250);
    const mp = await multipart(Buffer.from(wav));
    const r = await raw(port, { method: 'POST', path: '/v1/audio/transcriptions', headers: { 'content-type': mp.type }, body: mp.body });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.message).toMatch(/sample rate is 250 Hz; this server accepts 8000 Hz or more/);
    const ws = (await openWs(port)) as WebSocket;
    ws.send(startMsg({ sample_rate: 1000 }));
    expect(await next(ws)).toMatchObject({ type: 'error', code: 'invalid_message', message: expect.stringMatching(/sample_rate.*8000/) });
  });

  it('a backend’s errors keep their meaning: bad input is 400, a model failure 503, a bug 500 that leaks nothing', async () => {
    const cases: Array<[Error, number, Record<string, unknown>]> = [
      [new InvalidAudioError('The audio is too short to decode'), 400, { type: 'invalid_request_error', code: 'invalid_audio', param: 'file', message: 'The audio is too short to decode' }],
      [new InvalidArgumentError('`language` must be a language code'), 400, { type: 'invalid_request_error', code: 'invalid_argument' }],
      [new ModelError('The model could not be loaded'), 503, { type: 'server_error', code: 'model_error', message: 'The model could not be loaded' }],
      [new TypeError('secret internal detail'), 500, { type: 'server_error', message: expect.not.stringMatching(/secret/) }],
    ];
    for (const [error, status, body] of cases) {
      const { port } = await start({ models: { m: new TestBackend({ script: SCRIPT, failFirst: { count: 1, error } }) } });
      const mp = await multipart();
      const r = await raw(port, { method: 'POST', path: '/v1/audio/transcriptions', headers: { 'content-type': mp.type }, body: mp.body });
      expect(r.status, `${error.name}: ${r.body}`).toBe(status);
      expect(JSON.parse(r.body).error, error.name).toMatchObject(body);
    }
  });

  it('on a stream too, a backend’s verdict on the audio is the client’s error (4400), a model failure the server’s (4500)', async () => {
    for (const [error, closeCode, retryable] of [
      [new InvalidAudioError('The audio cannot be decoded'), 4400, false],
      [new ModelError('The model failed'), 4500, new ModelError('x').isRetryable],
    ] as const) {
      const { port } = await start({ models: { m: new TestBackend({ script: SCRIPT, streamFailure: { afterSec: 0.05, error } }) } });
      const ws = (await openWs(port)) as WebSocket;
      ws.send(startMsg());
      expect(await next(ws)).toMatchObject({ type: 'ready' });
      ws.send(Buffer.alloc(6400));
      let m: Record<string, unknown> | { closed: number };
      do m = await next(ws);
      while ('type' in m && m.type !== 'error');
      expect(m, error.name).toMatchObject({ type: 'error', code: error.code, message: error.message, retryable });
      expect(await closed(ws), error.name).toBe(closeCode);
    }
  });

  it('20 ms of audio through a real model is a transcript (200), not a 500', async () => {
    const native = new NativeBackend({ model: OFFLINE_MODEL });
    const server = createServer({ models: { m: native }, port: 0 });
    servers.push(server);
    const port = Number(new URL(await server.listen()).port);
    try {
      const wav = Buffer.from(encodeWav(new Float32Array(320).fill(0.01), 16000));
      const mp = await multipart(wav);
      const r = await raw(port, { method: 'POST', path: '/v1/audio/transcriptions', headers: { 'content-type': mp.type }, body: mp.body });
      expect(r.status, r.body).toBe(200);
      expect(JSON.parse(r.body)).toHaveProperty('text');
    } finally {
      await native.dispose();
    }
  });
});

describe('hybrid-asr serve flags', () => {
  it('--allow-origin reaches the server; a malformed origin is a usage error', async () => {
    const { startServe, kill } = await import('../remote/helpers.js');
    const s = await startServe(['--model', OFFLINE_MODEL, '--port', '0', '--allow-origin', 'https://app.example', '--start-timeout', '0.3']);
    try {
      const port = Number(new URL(s.url).port);
      expect((await raw(port, { headers: { origin: 'https://app.example' } })).status).toBe(200);
      expect((await raw(port, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
      const ws = (await openWs(port)) as WebSocket;
      expect(await next(ws)).toMatchObject({ type: 'error', code: 'start_timeout' });
    } finally {
      await kill(s.child, 'SIGTERM');
    }
    const { runCli } = await import('../helpers/cli.js');
    const bad = await runCli(['serve', '--model', OFFLINE_MODEL, '--port', '0', '--allow-origin', 'evil']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/allowedOrigins/);
  });
});
