/**
 * Backpressure through the hybrid manager (issue #13.2), with the real parts: a real server on
 * 127.0.0.1 running the real streaming model, behind a proxy that stalls (a hung server: nothing
 * sent is acknowledged) and then cuts the connection. The caller's async iterator is pulled only as
 * far as the remote stream's replay buffer allows — the manager's audio feed does not drain it into
 * memory — and the failover to native then replays everything not yet final: every clip of an
 * uninterrupted native run is found, none twice.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeAudio } from '../../src/audio/index.js';
import { NativeBackend } from '../../src/backends/native/index.js';
import { RemoteBackend } from '../../src/backends/remote/index.js';
import { HybridManager, MemorySettingsStore, type BackendSwitchEvent } from '../../src/hybrid/index.js';
import { createServer, type ASRServer } from '../../src/server/index.js';
import type { TranscriptionEvent } from '../../src/spec/index.js';
import { AUDIO_DIR, describeWithAssets, STREAMING_MODEL } from '../helpers/shared.js';
import { ResettableProxy } from '../remote/helpers.js';
import { drain, expectOneTimeline, paced, perClip, words } from './real-helpers.js';

const LONG = join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.wav');
const SEGMENTS = join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.segments.tsv');
const MODEL = 'tiny-ctc-en-streaming';
const REPLAY_SEC = 3;
const STALL_AT_SEC = 20;

describeWithAssets([STREAMING_MODEL, LONG, SEGMENTS])('hybrid manager: backpressure reaches the caller, failover replays all not yet final', () => {
  let server: ASRServer;
  let port: number;
  let long: Float32Array;
  const serverBackend = new NativeBackend({ model: STREAMING_MODEL, threads: 1 });

  beforeAll(async () => {
    server = createServer({ models: { [MODEL]: serverBackend }, port: 0 });
    port = Number(new URL(await server.listen()).port);
    long = (await decodeAudio(LONG, { sampleRate: 16_000 })).samples;
  });
  afterAll(async () => {
    await server?.close();
    await serverBackend.dispose();
  });

  it('a stalled server stops the caller\'s iterator at replayBufferSec; cut off, the stream fails over to native with every clip once', async () => {
    const clips = readFileSync(SEGMENTS, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'))
      .map(([s, e]) => ({ start: Number(s), end: Number(e) + 0.3 }));
    const solo = new NativeBackend({ model: STREAMING_MODEL, threads: 1 });
    const alone = await drain(solo.transcribeStream(paced(long, 0)));
    await solo.dispose();

    const proxy = new ResettableProxy(port);
    const proxyPort = await proxy.listen();
    const native = new NativeBackend({ model: STREAMING_MODEL, threads: 1 });
    const remote = new RemoteBackend({
      baseUrl: `http://127.0.0.1:${proxyPort}/v1`,
      model: MODEL,
      maxRetries: 0,
      healthTimeoutMs: 500,
      replayBufferSec: REPLAY_SEC,
      reconnect: { maxAttempts: 0 },
    });
    const hybrid = new HybridManager({ native, remote, tier: 'pro-cloud', mode: 'remote', settings: new MemorySettingsStore(), network: { intervalMs: 60_000 }, restoreStreams: false });
    const switches: BackendSwitchEvent[] = [];
    hybrid.on('backend-switch', (e) => switches.push(e));

    let pulled = 0; // samples the caller's iterator has handed out
    let forwarded = -1; // samples that reached the server before the stall (an upper bound)
    let stalled: () => void = () => undefined;
    const stall = new Promise<void>((r) => (stalled = r));
    const run = drain(
      hybrid.transcribeStream(
        paced(long, 0, (sec) => {
          if (forwarded < 0 && sec >= STALL_AT_SEC) {
            proxy.stallAll();
            forwarded = Math.ceil(proxy.upstreamBytes / 2);
            stalled();
          }
          pulled = Math.min(long.length, Math.round(sec * 16_000) + 1600);
        }),
      ),
    );
    void run.catch(() => undefined);
    let events: TranscriptionEvent[];
    try {
      await stall;
      // Give a stream that ignored backpressure every chance to read the rest of the input.
      for (let i = 0; i < 100 && pulled < long.length; i++) await new Promise((r) => setTimeout(r, 10));
      expect(pulled).toBeLessThanOrEqual(forwarded + REPLAY_SEC * 16_000 + 1600);
      expect(pulled).toBeLessThan(long.length);
      proxy.resetAll();
      events = await run;
    } finally {
      await proxy.close();
    }

    expect(switches).toHaveLength(1);
    expect(switches[0]).toMatchObject({ from: 'remote', to: 'native', kind: 'failover' });
    expect(switches[0]!.atSec).toBeLessThanOrEqual(STALL_AT_SEC);
    expect(events.flatMap((e) => (e.type === 'warning' ? [e.warning.type] : []))).toEqual(['fallback']);
    const end = events.at(-1)!;
    expect(end.type).toBe('end');
    if (end.type === 'end') expect(end.durationSec).toBeCloseTo(long.length / 16_000, 3);
    const got = words(events);
    expectOneTimeline(got, long.length / 16_000);
    const counts = perClip(got, clips);
    const soloCounts = perClip(words(alone), clips);
    const missing = counts.flatMap((n, i) => (soloCounts[i]! > 0 && n === 0 ? [i] : []));
    expect(missing, `clips with no words: ${missing.join(', ')}`).toEqual([]);
    counts.forEach((n, i) => expect(n).toBeLessThanOrEqual(soloCounts[i]! + 2));
    await hybrid.dispose();
  }, 120_000);
});
