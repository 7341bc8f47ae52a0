/**
 * Live streaming through a real server running the real streaming model, with faults: a proxy
 * that resets the connection mid-stream, a graceful shutdown that hands the session to another
 * server, oversized frames, a wrong key. After every recoverable fault the transcript must cover
 * all the audio: the same words as an uninterrupted run, none lost, none duplicated.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { decodeAudio } from '../../src/audio/index.js';
import { NativeBackend } from '../../src/backends/native/index.js';
import { RemoteBackend } from '../../src/backends/remote/index.js';
import { ASRError, AuthenticationError } from '../../src/errors/index.js';
import { wordErrorRate } from '../../src/metrics/wer.js';
import { createServer, STREAM_SUBPROTOCOL, type ASRServer } from '../../src/server/index.js';
import { AUDIO_DIR, describeWithAssets, STREAMING_MODEL } from '../helpers/shared.js';
import { drain, finalWords, pacedChunks, ResettableProxy } from './helpers.js';

const LONG = join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.wav');
const SEGMENTS = join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.segments.tsv');
const MODEL = 'tiny-ctc-en-streaming';
const KEY = 'stream-key-123';

/** Words of `b` against `a`: no run of words lost or repeated (small WER, same length ± 2). */
function expectSameWords(a: readonly string[], b: readonly string[]): void {
  const texts = `uninterrupted: "${a.join(' ')}"\nresumed:       "${b.join(' ')}"`;
  expect(Math.abs(a.length - b.length), `word counts ${a.length} vs ${b.length}\n${texts}`).toBeLessThanOrEqual(2);
  const { wer } = wordErrorRate(a.join(' '), b.join(' '));
  expect(wer, texts).toBeLessThanOrEqual(0.05);
}

describeWithAssets([STREAMING_MODEL, LONG])('remote streaming through a real server (tiny-ctc-en-streaming)', () => {
  let server: ASRServer;
  let url: string;
  let port: number;
  let samples: Float32Array;
  let baseline: string[];
  const backend = new NativeBackend({ model: STREAMING_MODEL });

  const remote = (base: string, extra: Partial<ConstructorParameters<typeof RemoteBackend>[0]> = {}): RemoteBackend =>
    new RemoteBackend({ baseUrl: `${base}/v1`, apiKey: KEY, model: MODEL, reconnect: { initialDelayMs: 50, maxDelayMs: 400, maxAttempts: 20 }, ...extra });

  beforeAll(async () => {
    server = createServer({ models: { [MODEL]: backend }, port: 0, apiKeys: [KEY] });
    url = await server.listen();
    port = Number(new URL(url).port);
    const audio = await decodeAudio(LONG, { sampleRate: 16_000 });
    samples = audio.samples;
  });
  afterAll(async () => {
    await server?.close();
    await backend.dispose();
  });

  it('streams a long recording: finals on one timeline, end, transcript close to the reference', async () => {
    const events = await drain(remote(url).transcribeStream(pacedChunks(samples, 16_000, 0.2)));
    const end = events.at(-1);
    expect(end?.type).toBe('end');
    if (end?.type === 'end') {
      expect(end.durationSec).toBeCloseTo(samples.length / 16_000, 2);
      expect(end.transcription?.segments.length).toBeGreaterThanOrEqual(8);
    }
    let prev = 0;
    for (const e of events) {
      if (e.type !== 'final') continue;
      expect(e.segment.start).toBeGreaterThanOrEqual(prev - 0.05);
      prev = e.segment.end;
    }
    baseline = finalWords(events);
    const reference = readFileSync(SEGMENTS, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t')[3] ?? '')
      .join(' ');
    expect(wordErrorRate(reference, baseline.join(' ')).wer).toBeLessThanOrEqual(0.65);
    expect(baseline.length).toBeGreaterThan(60);
  });

  it('resumes after a proxy resets the connection mid-stream: no word lost or repeated', async () => {
    const proxy = new ResettableProxy(port);
    const proxyPort = await proxy.listen();
    const r = remote(`http://127.0.0.1:${proxyPort}`);
    const resumes: number[] = [];
    r.on('resume', (_id, off) => resumes.push(off));
    let resets = 0;
    proxy.onUpstream = (bytes) => {
      // Cut twice: at about a third and two thirds of the audio.
      if ((resets === 0 && bytes > samples.length * 2 * 0.33) || (resets === 1 && bytes > samples.length * 2 * 0.66)) {
        resets++;
        proxy.resetAll();
      }
    };
    try {
      const events = await drain(r.transcribeStream(pacedChunks(samples, 16_000, 0.2, 2)));
      expect(resets).toBe(2);
      expect(resumes.length).toBeGreaterThanOrEqual(2);
      expect(resumes.some((o) => o > 0), 'resumed after acknowledged finals').toBe(true);
      expect(events.at(-1)?.type).toBe('end');
      expectSameWords(baseline, finalWords(events));
    } finally {
      await proxy.close();
    }
  });

  it('hands a session back on graceful shutdown and another server continues it on the same timeline', async () => {
    const first = createServer({ models: { [MODEL]: backend }, port: 0, apiKeys: [KEY] });
    const firstUrl = await first.listen();
    const firstPort = Number(new URL(firstUrl).port);
    const r = remote(firstUrl);
    let second: ASRServer | undefined;
    let switched = false;
    const resumes: number[] = [];
    r.on('resume', (_id, off) => resumes.push(off));
    const events = await drain(
      r.transcribeStream(
        pacedChunks(samples, 16_000, 0.2, 3, (i) => {
          if (i === 150 && !switched) {
            switched = true;
            void (async () => {
              await first.close({ graceMs: 2000 });
              second = createServer({ models: { [MODEL]: backend }, port: firstPort, apiKeys: [KEY] });
              await second.listen();
            })();
          }
        }),
      ),
    );
    await second?.close();
    expect(switched).toBe(true);
    expect(resumes.length).toBeGreaterThanOrEqual(1);
    expect(events.at(-1)?.type).toBe('end');
    const end = events.at(-1);
    if (end?.type === 'end') expect(end.durationSec).toBeCloseTo(samples.length / 16_000, 2);
    expectSameWords(baseline, finalWords(events));
  });

  it('closes a connection that sends a frame over 1 MiB, and keeps serving', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/audio/stream`, [STREAM_SUBPROTOCOL], { headers: { authorization: `Bearer ${KEY}` } });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    ws.send(JSON.stringify({ type: 'start', version: 1, sample_rate: 16000, encoding: 'pcm_s16le' }));
    const code = await new Promise<number>((r) => {
      ws.on('close', (c) => r(c));
      ws.send(Buffer.alloc(1024 * 1024 + 2));
    });
    expect(code).toBe(1009);
    const events = await drain(remote(url).transcribeStream(pacedChunks(samples.subarray(0, 16_000 * 5), 16_000, 0.2)));
    expect(events.at(-1)?.type).toBe('end');
  });

  it('rejects bad protocol messages with a typed, non-retryable error', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/audio/stream`, [STREAM_SUBPROTOCOL], { headers: { authorization: `Bearer ${KEY}` } });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const messages: unknown[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d))));
    ws.send(JSON.stringify({ type: 'start', version: 1, sample_rate: 16000, encoding: 'mp3' }));
    const code = await new Promise<number>((r) => ws.on('close', (c) => r(c)));
    expect(code).toBe(4400);
    expect(messages[0]).toMatchObject({ type: 'error', code: 'invalid_message', retryable: false, fatal: true });
    expect(String((messages[0] as { message: string }).message)).toMatch(/`encoding`/);
  });

  it('fails at once with AuthenticationError on a wrong key (no reconnect loop)', async () => {
    const r = remote(url, { apiKey: 'wrong-key' });
    let reconnects = 0;
    r.on('reconnect', () => reconnects++);
    const e = await drain(r.transcribeStream(pacedChunks(samples.subarray(0, 16_000), 16_000, 0.2))).catch((x: unknown) => x);
    expect(e instanceof AuthenticationError, String(e)).toBe(true);
    expect(reconnects).toBe(0);
    expect(ASRError.isInstance(e) && e.isRetryable).toBe(false);
  });
});
