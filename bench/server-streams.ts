/**
 * Concurrent real-time streams `hybrid-asr serve` sustains (a child process, streaming test
 * model), each fed in real time by a RemoteBackend in this process. For each count, partial
 * latency = arrival of a partial − the moment the chunk holding its last sample was sent.
 * Target: ≥ 8 streams with p95 ≤ chunk + 100 ms.
 *   npx tsx bench/server-streams.ts [--counts 2,4,8,12,16] [--seconds 20] [--chunk 0.16] [--json]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { decodeAudio } from '../src/audio/index.js';
import { RemoteBackend } from '../src/backends/remote/index.js';
import type { AudioChunk } from '../src/spec/index.js';
import { AUDIO_DIR, MODELS_DIR, PROJECT_ROOT } from '../test/helpers/shared.js';
import { arg, done, line, percentile } from './lib.js';

const counts = arg('--counts', '2,4,8,12,16').split(',').map(Number);
const seconds = Number(arg('--seconds', '20'));
const chunkSec = Number(arg('--chunk', '0.16'));
const long = await decodeAudio(join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.wav'), { sampleRate: 16_000 });

const child = spawn(
  process.execPath,
  ['--import', 'tsx', join(PROJECT_ROOT, 'src/cli/index.ts'), 'serve', '--model', 'tiny-ctc-en-streaming', '--port', '0', '--max-concurrency', '64'],
  { cwd: PROJECT_ROOT, env: { ...process.env, HYBRID_ASR_MODELS: MODELS_DIR, HYBRID_ASR_API_KEYS: '' }, stdio: ['ignore', 'pipe', 'inherit'] },
);
const url = await new Promise<string>((r) => createInterface({ input: child.stdout }).once('line', (l) => r(l.trim())));

/** One real-time stream; returns partial latencies (ms) and how late the stream ended (ms). */
async function one(offsetSec: number): Promise<{ latencies: number[]; lagMs: number }> {
  const step = Math.round(chunkSec * 16_000);
  const start0 = Math.round(offsetSec * 16_000) % (long.samples.length - seconds * 16_000);
  const samples = long.samples.subarray(start0, start0 + seconds * 16_000);
  const sentAt: number[] = []; // wall time at which the chunk ending at sample (i+1)*step was sent
  const t0 = performance.now();
  async function* source(): AsyncGenerator<AudioChunk> {
    for (let i = 0, k = 0; i < samples.length; i += step, k++) {
      const due = t0 + k * chunkSec * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sentAt.push(performance.now());
      yield { samples: samples.slice(i, i + step), sampleRate: 16_000 };
    }
  }
  const remote = new RemoteBackend({ baseUrl: `${url}/v1`, model: 'tiny-ctc-en-streaming' });
  const latencies: number[] = [];
  let lastPartialEnd = -1;
  for await (const e of remote.transcribeStream(source())) {
    if (e.type !== 'partial' || e.end <= lastPartialEnd) continue;
    lastPartialEnd = e.end;
    const k = Math.max(0, Math.ceil((e.end * 16_000) / step) - 1);
    const sent = sentAt[k];
    if (sent !== undefined) latencies.push(performance.now() - sent);
  }
  return { latencies, lagMs: performance.now() - (t0 + seconds * 1000) };
}

const results: Record<string, unknown>[] = [];
let sustained = 0;
try {
  await one(0); // warm-up (model load)
  for (const n of counts) {
    const runs = await Promise.all(Array.from({ length: n }, (_, i) => one(i * 3.7)));
    const all = runs.flatMap((r) => r.latencies);
    const p50 = percentile(all, 50);
    const p95 = percentile(all, 95);
    const maxLag = Math.max(...runs.map((r) => r.lagMs));
    const ok = p95 <= chunkSec * 1000 + 100;
    if (ok) sustained = Math.max(sustained, n);
    line(`${n} streams: partial latency p50 / p95 ms, end lag ms`, `${p50.toFixed(0)} / ${p95.toFixed(0)}, ${maxLag.toFixed(0)}${ok ? '' : '  (over target)'}`);
    results.push({ streams: n, partials: all.length, p50Ms: p50, p95Ms: p95, maxEndLagMs: maxLag, withinTarget: ok });
  }
  line(`streams sustained with p95 ≤ chunk (${chunkSec * 1000} ms) + 100 ms`, String(sustained));
  done({ chunkSec, seconds, sustained, results });
} finally {
  child.kill('SIGTERM');
}
