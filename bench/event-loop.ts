/**
 * Event-loop delay during `NativeBackend.transcribe()` of the 10-minute meeting
 * (`meetings/meeting-10min-01.wav`) with the tiny offline CTC model (+ Silero VAD) and the tiny
 * streaming CTC model (issue #21 item 2; target: max delay ≤ 40 ms, RTF no worse). For each model
 * and round: max and p99 event-loop delay (`perf_hooks.monitorEventLoopDelay`, 5 ms resolution)
 * and the real-time factor, with the 1-minute load average beside each figure; medians over rounds.
 * Only the current design is measured: compare against an older commit by running this same file
 * in a worktree of that commit, in the same session.
 *
 *   npx tsx bench/event-loop.ts [--rounds 3] [--json]
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { NativeBackend } from '../src/backends/native/index.js';
import { AUDIO_DIR, OFFLINE_MODEL, STREAMING_MODEL, VAD_MODEL } from '../test/helpers/shared.js';
import { arg, done, line, median } from './lib.js';

const rounds = Number(arg('--rounds', '3'));
const file = join(AUDIO_DIR, 'meetings', 'meeting-10min-01.wav');
const AUDIO_SEC = 600;

const results: Record<string, unknown> = {};
for (const [name, model] of [
  ['offline', OFFLINE_MODEL],
  ['streaming', STREAMING_MODEL],
] as const) {
  const backend = new NativeBackend({ model, vadModel: VAD_MODEL, threads: 1, provider: 'cpu' });
  await backend.transcribe(join(AUDIO_DIR, 'meetings', 'meeting-short-01.wav')); // warm-up: load the model
  const maxMs: number[] = [];
  const p99Ms: number[] = [];
  const rtf: number[] = [];
  const load: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const t0 = performance.now();
    await backend.transcribe(file);
    const wall = performance.now() - t0;
    h.disable();
    maxMs.push(h.max / 1e6);
    p99Ms.push(h.percentile(99) / 1e6);
    rtf.push(wall / 1000 / AUDIO_SEC);
    load.push(loadavg()[0] ?? 0);
  }
  await backend.dispose();
  const la = median(load).toFixed(2);
  line(`${name}: max event-loop delay, ms (median of ${rounds})`, `${median(maxMs).toFixed(1)}  [load ${la}]`);
  line(`${name}: p99 event-loop delay, ms (median)`, `${median(p99Ms).toFixed(1)}  [load ${la}]`);
  line(`${name}: RTF (median)`, `${median(rtf).toFixed(4)}  [load ${la}]`);
  results[name] = { maxMs, p99Ms, rtf, load1: load };
}
done(results);
