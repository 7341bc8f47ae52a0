/**
 * `hybrid-asr serve` as a real child process: a live stream survives the server being killed
 * with SIGKILL mid-stream and restarted on the same port (the client resumes from its last
 * acknowledged sample, no word lost or repeated); the CLI's loopback rule and graceful SIGTERM.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeAudio } from '../../src/audio/index.js';
import { RemoteBackend } from '../../src/backends/remote/index.js';
import { wordErrorRate } from '../../src/metrics/wer.js';
import { AUDIO_DIR, describeWithAssets, MODELS_DIR, STREAMING_MODEL } from '../helpers/shared.js';
import { drain, finalWords, kill, pacedChunks, startServe, type ServeProcess } from './helpers.js';

const LONG = join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.wav');
const MODEL = 'tiny-ctc-en-streaming';
const KEY = 'kill-test-key';
const env = { HYBRID_ASR_MODELS: MODELS_DIR, HYBRID_ASR_API_KEYS: KEY };

describeWithAssets([STREAMING_MODEL, LONG])('hybrid-asr serve child process', () => {
  let serve: ServeProcess | undefined;
  let samples: Float32Array;

  beforeAll(async () => {
    samples = (await decodeAudio(LONG, { sampleRate: 16_000 })).samples.subarray(0, 16_000 * 40);
  });
  afterAll(async () => {
    if (serve) await kill(serve.child);
  });

  it('resumes a live stream after the server is SIGKILLed mid-stream and restarted on the same port', async () => {
    serve = await startServe(['--model', MODEL, '--port', '0'], env);
    const url = serve.url;
    const port = new URL(url).port;
    const make = (): RemoteBackend =>
      new RemoteBackend({ baseUrl: `${url}/v1`, apiKey: KEY, model: MODEL, reconnect: { initialDelayMs: 100, maxDelayMs: 500, maxAttempts: 40 } });

    const baseline = finalWords(await drain(make().transcribeStream(pacedChunks(samples, 16_000, 0.2))));
    expect(baseline.length).toBeGreaterThan(30);

    const remote = make();
    const resumes: number[] = [];
    remote.on('resume', (_id, off) => resumes.push(off));
    let killed = false;
    const events = [];
    for await (const e of remote.transcribeStream(pacedChunks(samples, 16_000, 0.2, 10))) {
      events.push(e);
      if (!killed && events.filter((x) => x.type === 'final').length >= 3) {
        killed = true;
        const old = serve.child;
        void (async () => {
          await kill(old, 'SIGKILL');
          serve = await startServe(['--model', MODEL, '--port', port], env);
        })();
      }
    }
    expect(killed).toBe(true);
    expect(resumes.length).toBeGreaterThanOrEqual(1);
    expect(resumes[0]).toBeGreaterThan(0);
    expect(events.at(-1)?.type).toBe('end');
    const words = finalWords(events);
    expect(Math.abs(words.length - baseline.length), `${baseline.join(' ')}\n${words.join(' ')}`).toBeLessThanOrEqual(2);
    expect(wordErrorRate(baseline.join(' '), words.join(' ')).wer).toBeLessThanOrEqual(0.05);
  });

  it('binds loopback only without a key, refuses a public address, and exits cleanly on SIGTERM', async () => {
    const open = await startServe(['--model', MODEL, '--port', '0'], { HYBRID_ASR_MODELS: MODELS_DIR, HYBRID_ASR_API_KEYS: '' });
    expect(new URL(open.url).hostname).toBe('127.0.0.1');
    expect(open.stderr()).toMatch(/no API key configured/);
    const health = (await (await fetch(`${open.url}/health`)).json()) as { ready: boolean };
    expect(health.ready).toBe(true);
    const exited = new Promise<number | null>((r) => open.child.once('exit', (c) => r(c)));
    open.child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const refused = startServe(['--model', MODEL, '--host', '0.0.0.0', '--port', '0'], { HYBRID_ASR_MODELS: MODELS_DIR, HYBRID_ASR_API_KEYS: '' });
    await expect(refused).rejects.toThrow(/without an API key/);
  });
});
