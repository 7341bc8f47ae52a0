/**
 * Failover with input faster than real time: a 10-minute meeting fed as fast as the stream pulls it
 * through a `hybrid-asr serve` child (streaming test model), the server SIGKILLed mid-way, the
 * hybrid manager failing over to native. Figures: words lost / duplicated against an uninterrupted
 * native run, utterances missing, time to finish, peak replay buffer (audio read ahead of the
 * server's acknowledgement) and peak audio not yet final; load average beside them.
 *   npx tsx bench/failover-fast.ts [--runs 1] [--kill-at 300] [--replay-buffer 120] [--json]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { decodeAudio } from '../src/audio/index.js';
import { NativeBackend } from '../src/backends/native/index.js';
import { RemoteBackend } from '../src/backends/remote/index.js';
import { HybridManager, MemorySettingsStore, type BackendSwitchEvent } from '../src/hybrid/index.js';
import { wordErrorRate } from '../src/metrics/index.js';
import type { AudioChunk, TranscriptionEvent, Word } from '../src/spec/index.js';
import { AUDIO_DIR, MODELS_DIR, STREAMING_MODEL } from '../test/helpers/shared.js';
import { kill, startServe } from '../test/remote/helpers.js';
import { arg, done, line, median } from './lib.js';

const runs = Number(arg('--runs', '1'));
const killAtSec = Number(arg('--kill-at', '300'));
const replayBufferSec = Number(arg('--replay-buffer', '120'));
const RATE = 16_000;
const STEP = 1600; // 100 ms chunks
const MEETING = join(AUDIO_DIR, 'meetings', 'meeting-10min-01.wav');
const utterances = (JSON.parse(readFileSync(join(AUDIO_DIR, 'meetings', 'meeting-10min-01.json'), 'utf8')) as { start: number; end: number }[]).map((u) => ({
  start: u.start,
  end: u.end + 0.3,
}));
const audio = (await decodeAudio(MEETING, { sampleRate: RATE })).samples;
const durationSec = audio.length / RATE;
const la = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

function finalWords(events: readonly TranscriptionEvent[]): Word[] {
  return events.flatMap((e) => (e.type === 'final' ? e.segment.words : []));
}

function perUtterance(ws: readonly Word[]): number[] {
  return utterances.map((u) => ws.filter((w) => (w.start + w.end) / 2 >= u.start && (w.start + w.end) / 2 < u.end).length);
}

/** The meeting in 100 ms chunks, as fast as they are pulled; counts what was pulled. */
async function* fast(onChunk: (endSample: number) => Promise<void> | void): AsyncGenerator<AudioChunk> {
  for (let i = 0; i < audio.length; i += STEP) {
    await onChunk(Math.min(audio.length, i + STEP));
    yield { samples: audio.slice(i, i + STEP), sampleRate: RATE };
  }
}

line('load average before', la());
const solo = new NativeBackend({ model: STREAMING_MODEL, threads: 1 });
const t0 = performance.now();
const aloneEvents: TranscriptionEvent[] = [];
for await (const e of solo.transcribeStream(fast(() => undefined))) aloneEvents.push(e);
const aloneSec = (performance.now() - t0) / 1000;
await solo.dispose();
const alone = finalWords(aloneEvents);
const aloneCounts = perUtterance(alone);
line('meeting', `${durationSec.toFixed(1)} s, ${utterances.length} utterances`);
line('native alone (uninterrupted, as fast as possible)', `${alone.length} words in ${aloneSec.toFixed(1)} s`);

const results: Record<string, unknown>[] = [];
for (let run = 1; run <= runs; run++) {
  const serve = await startServe(['-m', STREAMING_MODEL, '--port', '0', '--threads', '1'], { HYBRID_ASR_MODELS: MODELS_DIR });
  // The real `ws` WebSocket, watched: the latest acknowledgement the server sent.
  const { WebSocket: Ws } = await import('ws');
  let ack = 0;
  class Watched extends Ws {
    constructor(...args: ConstructorParameters<typeof Ws>) {
      super(...args);
      this.on('message', (data, isBinary) => {
        if (isBinary) return;
        const m = JSON.parse((data as Buffer).toString('utf8')) as { ack?: unknown };
        if (typeof m.ack === 'number') ack = Math.max(ack, m.ack);
      });
    }
  }
  const native = new NativeBackend({ model: STREAMING_MODEL, threads: 1 });
  const remote = new RemoteBackend({
    baseUrl: `${serve.url}/v1`,
    model: 'tiny-ctc-en-streaming',
    maxRetries: 0,
    healthTimeoutMs: 500,
    replayBufferSec,
    reconnect: { maxAttempts: 1, initialDelayMs: 50, maxDelayMs: 100 },
    WebSocket: Watched,
  });
  const hybrid = new HybridManager({ native, remote, tier: 'pro-cloud', mode: 'remote', settings: new MemorySettingsStore(), network: { intervalMs: 60_000 } });
  const switches: BackendSwitchEvent[] = [];
  hybrid.on('backend-switch', (e) => switches.push(e));
  let pulled = 0;
  let finalEnd = 0;
  let peakReplay = 0;
  let peakNotFinal = 0;
  let killed = false;
  const events: TranscriptionEvent[] = [];
  const loadBefore = loadavg()[0]!;
  const started = performance.now();
  let error: string | undefined;
  try {
    for await (const e of hybrid.transcribeStream(
      fast(async (end) => {
        pulled = end;
        if (switches.length === 0) peakReplay = Math.max(peakReplay, (pulled - ack) / RATE);
        peakNotFinal = Math.max(peakNotFinal, pulled / RATE - finalEnd);
        if (!killed && pulled / RATE >= killAtSec) {
          killed = true;
          await kill(serve.child, 'SIGKILL');
        }
      }),
    )) {
      events.push(e);
      if (e.type === 'final') finalEnd = Math.max(finalEnd, e.segment.end);
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const finishSec = (performance.now() - started) / 1000;
  await kill(serve.child, 'SIGKILL');
  await hybrid.dispose();
  const got = finalWords(events);
  const vs = wordErrorRate(alone.map((w) => w.word).join(' '), got.map((w) => w.word).join(' '));
  const counts = perUtterance(got);
  const missing = counts.filter((n, i) => aloneCounts[i]! > 0 && n === 0).length;
  const extra = counts.reduce((s, n, i) => s + Math.max(0, n - aloneCounts[i]!), 0);
  const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.warning.type] : []));
  const r = {
    run,
    killed,
    switchAtSec: switches[0]?.atSec,
    switches: switches.length,
    wordsHybrid: got.length,
    wordsNativeAlone: alone.length,
    wordsLost: vs.deletions,
    wordsDuplicatedOrInserted: vs.insertions,
    wordsSubstituted: vs.substitutions,
    utterancesMissing: missing,
    wordsBeyondNativePerUtterance: extra,
    warnings,
    error,
    finishSec,
    realTimeFactor: finishSec / durationSec,
    peakReplayBufferSec: peakReplay,
    peakNotYetFinalSec: peakNotFinal,
    loadAverage1m: [loadBefore, loadavg()[0]!],
  };
  results.push(r);
  line(`run ${run}: switch`, `${r.switches} at ${r.switchAtSec?.toFixed(1) ?? '-'} s (killed at ${killAtSec} s fed)${error ? `; error: ${error}` : ''}`);
  line(`run ${run}: words hybrid / native alone`, `${got.length} / ${alone.length}`);
  line(`run ${run}: lost (deletions) / inserted / substituted`, `${vs.deletions} / ${vs.insertions} / ${vs.substitutions}`);
  line(`run ${run}: utterances missing / words beyond native`, `${missing} / ${extra}`);
  line(`run ${run}: warnings`, warnings.join(', ') || 'none');
  line(`run ${run}: time to finish`, `${finishSec.toFixed(1)} s (${(finishSec / durationSec).toFixed(3)} x real time)`);
  line(`run ${run}: peak replay buffer (read ahead of ack)`, `${peakReplay.toFixed(1)} s (cap ${replayBufferSec} s)`);
  line(`run ${run}: peak audio not yet final`, `${peakNotFinal.toFixed(1)} s`);
  line(`run ${run}: load average 1 min before / after`, `${loadBefore.toFixed(2)} / ${loadavg()[0]!.toFixed(2)}`);
}
line('median time to finish', `${median(results.map((r) => r.finishSec as number)).toFixed(1)} s`);
line('load average after', la());
done({
  bench: 'failover-fast',
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  meetingSec: durationSec,
  killAtSec,
  replayBufferSec,
  nativeAlone: { words: alone.length, sec: aloneSec },
  loadAverage: loadavg(),
  results,
});
