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
import { RemoteBackend, type WebSocketConstructor } from '../../src/backends/remote/index.js';
import { ASRError, AuthenticationError, StreamInterruptedError } from '../../src/errors/index.js';
import { wordErrorRate } from '../../src/metrics/wer.js';
import { createServer, type ASRServer } from '../../src/server/index.js';
import { STREAM_SUBPROTOCOL } from '../../src/protocol/index.js';
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

  /**
   * Input much faster than real time into a connection that stops acknowledging (issue #13.2): the
   * stream stops pulling its input once `replayBufferSec` is unacknowledged, instead of dropping the
   * oldest unacknowledged audio. Returns the proxy, the stream's events promise, and how far the
   * input had been read when it stalled, against the most the server can have acknowledged.
   */
  async function stalledStream(extra: Partial<ConstructorParameters<typeof RemoteBackend>[0]>): Promise<{
    proxy: ResettableProxy;
    run: Promise<unknown>;
    pulledSamples: () => number;
    forwardedSamples: number;
  }> {
    const proxy = new ResettableProxy(port);
    const proxyPort = await proxy.listen();
    const r = remote(`http://127.0.0.1:${proxyPort}`, { replayBufferSec: 3, ...extra });
    const step = Math.round(0.2 * 16_000);
    let pulled = 0;
    let stalledAt = -1;
    let forwardedSamples = 0;
    let onStall: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => (onStall = resolve));
    const run = drain(
      r.transcribeStream(
        pacedChunks(samples, 16_000, 0.2, 0, (i) => {
          pulled = Math.min(samples.length, (i + 1) * step);
          if (stalledAt < 0 && pulled >= 20 * 16_000) {
            stalledAt = pulled;
            proxy.stallAll();
            // Nothing past this reached the server: it can acknowledge at most this much.
            forwardedSamples = Math.ceil(proxy.upstreamBytes / 2);
            onStall();
          }
        }),
      ),
    );
    void run.catch(() => undefined);
    await stalled;
    // Give a stream that ignored backpressure every chance to read the rest of the input.
    for (let i = 0; i < 100 && pulled < samples.length; i++) await new Promise((r2) => setTimeout(r2, 10));
    return { proxy, run, pulledSamples: () => pulled, forwardedSamples };
  }

  it('input faster than real time into a stalled connection: the input is not pulled past replayBufferSec of unacknowledged audio, and a resume loses nothing', async () => {
    const { proxy, run, pulledSamples, forwardedSamples } = await stalledStream({});
    try {
      const step = Math.round(0.2 * 16_000);
      // Backpressure: at most replayBufferSec (3 s) past what the server can have acknowledged, plus one chunk.
      expect(pulledSamples()).toBeLessThanOrEqual(forwardedSamples + 3 * 16_000 + step);
      expect(pulledSamples()).toBeLessThan(samples.length);
      // The connection dies; the stream resumes from the server's acknowledgement and replays the rest.
      proxy.resetAll();
      const events = (await run) as Awaited<ReturnType<typeof drain>>;
      expect(pulledSamples()).toBe(samples.length);
      expect(events.at(-1)?.type).toBe('end');
      expect(events.filter((e) => e.type === 'warning')).toEqual([]);
      expectSameWords(baseline, finalWords(events));
    } finally {
      await proxy.close();
    }
  });

  it('a replay buffer shorter than an utterance, input as fast as possible: the stream still finishes, every word once', async () => {
    // The server acknowledges only at the end of a final; with 1 s of buffer and utterances of
    // several seconds, waiting for an ack alone would wait forever. A pong shows the server has read
    // all that was sent, and the stream reads on.
    const events = await drain(remote(url, { replayBufferSec: 1 }).transcribeStream(pacedChunks(samples, 16_000, 0.2)));
    expect(events.at(-1)?.type).toBe('end');
    expectSameWords(baseline, finalWords(events));
  }, 60_000);

  it('streams through an injected WebSocket constructor when one is given', async () => {
    let opened = 0;
    class Counting extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        opened++;
      }
    }
    const r = remote(url, { WebSocket: Counting as unknown as WebSocketConstructor });
    const events = await drain(r.transcribeStream(pacedChunks(samples.subarray(0, 5 * 16_000), 16_000, 0.2)));
    expect(events.at(-1)?.type).toBe('end');
    expect(opened).toBe(1);
  });

  it('a stalled connection that cannot be resumed hands back every unacknowledged sample, exactly, in StreamInterruptedError', async () => {
    const { proxy, run, pulledSamples, forwardedSamples } = await stalledStream({ reconnect: { maxAttempts: 0 } });
    try {
      proxy.resetAll();
      const err = await run.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(StreamInterruptedError.isInstance(err), String(err)).toBe(true);
      const e = err as StreamInterruptedError;
      expect(e.sampleRate).toBe(16_000);
      const from = Math.round(e.audioOffsetSec * 16_000);
      // It starts at the server's acknowledgement (at most what reached the server), not later.
      expect(from).toBeLessThanOrEqual(forwardedSamples);
      // Everything read from the input after the acknowledgement, none of it dropped.
      expect(from + e.unacknowledgedAudio.length).toBe(pulledSamples());
      expect(e.unacknowledgedAudio.length).toBeGreaterThan(0);
      expect(Buffer.from(e.unacknowledgedAudio.buffer).equals(Buffer.from(samples.slice(from, pulledSamples()).buffer))).toBe(true);
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
    ws.on('message', (d) => messages.push(JSON.parse((d as Buffer).toString('utf8'))));
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
