/**
 * Live processor benchmark: a long synthetic meeting fed at --speed max through the real native
 * backend, with the naive full re-read side by side.
 *
 *   node --expose-gc --import tsx bench/live.ts [--minutes 120] [--audio <wav>] [--json] [--skip-windowed] [--skip-streaming] [--skip-naive]
 *
 * Prints per-span figures (bytes read per tick, decoded audio ÷ audio, tick time, RSS) and the
 * targets they are checked against. Generates the meeting with ../shared/tools/make-meeting.py
 * (seed 7, 5 speakers) into $TMPDIR/hybrid-asr-bench/ when missing (or pass --audio <wav>).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openAudio } from '../src/audio/index.js';
import { NativeBackend } from '../src/backends/native/index.js';
import { ChunkedLiveProcessor, type TickEvent } from '../src/chunking/index.js';
import { wordErrorRate } from '../src/metrics/wer.js';
import type { ASRBackend, Word } from '../src/spec/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const shared = process.env.HYBRID_ASR_SHARED ?? resolve(root, '..', 'shared');
const models = process.env.HYBRID_ASR_MODELS ?? join(shared, 'models');

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const value = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const minutes = Number(value('--minutes', '120'));
const intervalSec = Number(value('--interval', '15'));
const contextSec = Number(value('--context', '30'));
const json = flag('--json');
const log = (s: string): void => {
  if (!json) process.stdout.write(`${s}\n`);
};

function meetingPath(): string {
  const given = value('--audio', '');
  if (given !== '') return given;
  const prefix = join(tmpdir(), 'hybrid-asr-bench', 'meeting-2h');
  if (!existsSync(`${prefix}.wav`)) {
    mkdirSync(dirname(prefix), { recursive: true });
    log('generating the 2-hour meeting with make-meeting.py (about a minute)…');
    execFileSync('python3', [join(shared, 'tools', 'make-meeting.py'), '--out', prefix, '--seed', '7', '--num-speakers', '5', '--duration', '7200'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return `${prefix}.wav`;
}

interface Sample {
  readonly minute: number;
  readonly tick: TickEvent;
  readonly rss: number;
}

interface RunResult {
  readonly samples: Sample[];
  readonly committed: Word[];
  readonly summary: ReturnType<ChunkedLiveProcessor['summary']>;
  readonly finalText: string;
  readonly wallSec: number;
}

async function runLive(backend: ASRBackend, wav: string, limitSec: number, mode: 'windowed' | 'streaming', finalPass: boolean): Promise<RunResult> {
  const spoolDir = await mkdtemp(join(tmpdir(), 'bench-live-'));
  const audio = await openAudio(wav, { chunkFrames: 16000 });
  const p = new ChunkedLiveProcessor({ backend, spoolDir, intervalSec, contextSec, mode, sampleRate: audio.sampleRate });
  const samples: Sample[] = [];
  const committed: Word[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  p.on('tick', (tick) => {
    gc?.(); // with --expose-gc, RSS is sampled after a collection (steadier figures)
    samples.push({ minute: tick.windowEndSec / 60, tick, rss: process.memoryUsage().rss });
  });
  p.on('final', (e) => committed.push(...e.segment.words));
  await p.start();
  const t0 = performance.now();
  const limit = Math.floor(limitSec * audio.sampleRate);
  let fed = 0;
  for await (const chunk of audio) {
    const take = chunk.subarray(0, Math.max(0, Math.min(chunk.length, limit - fed)));
    if (take.length === 0) break;
    await p.push({ samples: take, sampleRate: audio.sampleRate });
    fed += take.length;
    await p.onIdle();
  }
  await audio.close();
  const finalText = (await p.stop({ fullPass: finalPass })).text;
  const wallSec = (performance.now() - t0) / 1000;
  const summary = p.summary();
  await rm(spoolDir, { recursive: true, force: true });
  return { samples, committed, summary, finalText, wallSec };
}

function span(samples: readonly Sample[], from: number, to: number): Sample[] {
  return samples.filter((s) => s.minute >= from && s.minute <= to);
}
const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
const mb = (b: number): string => `${(b / 1e6).toFixed(2)} MB`;

async function naiveTickSec(backend: ASRBackend, wav: string, atMinute: number): Promise<number> {
  // The naive way re-reads and re-decodes everything so far at every tick: time one such tick.
  const audio = await openAudio(wav, { chunkFrames: 16000 * 60 });
  const samples = new Float32Array(Math.floor(atMinute * 60 * audio.sampleRate));
  let n = 0;
  for await (const chunk of audio) {
    const take = chunk.subarray(0, Math.min(chunk.length, samples.length - n));
    samples.set(take, n);
    n += take.length;
    if (n >= samples.length) break;
  }
  await audio.close();
  const t0 = performance.now();
  await backend.transcribe({ format: 'f32', samples, sampleRate: audio.sampleRate });
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const wav = meetingPath();
  const refJson = JSON.parse(readFileSync(wav.replace(/\.wav$/, '.json'), 'utf8')) as { start: number; text: string }[];
  const limitSec = minutes * 60;
  const reference = refJson.filter((u) => u.start < limitSec - 5).map((u) => u.text).join(' ');
  const offline = new NativeBackend({ model: join(models, 'tiny-ctc-en-offline'), vadModel: join(models, 'silero-vad') });
  const out: Record<string, unknown> = { minutes, intervalSec, contextSec };
  const check = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

  if (!flag('--skip-windowed')) {
    log(`\n== windowed (offline model ${offline.name}), ${minutes} min at --speed max, interval ${intervalSec} s, context ${contextSec} s ==`);
    const w = await runLive(offline, wav, limitSec, 'windowed', true);
    const s = w.summary;
    const bps = s.audioBytes / s.audioSec;
    const perTickCap = (intervalSec + contextSec) * bps;
    const liveTicks = w.samples.slice(0, -1); // the last tick is the stop() flush
    const maxPerTick = Math.max(...liveTicks.map((x) => x.tick.bytesRead));
    const early = span(liveTicks, 5, 10);
    const late = span(liveTicks, minutes - 5, minutes);
    const bytesEarly = mean(early.map((x) => x.tick.bytesRead));
    const bytesLate = mean(late.map((x) => x.tick.bytesRead));
    const tEarly = mean(early.map((x) => x.tick.processingSec));
    const tLate = mean(late.map((x) => x.tick.processingSec));
    const rss5 = span(liveTicks, 5, 6)[0]?.rss ?? liveTicks[0]!.rss;
    const rssEnd = Math.max(...span(liveTicks, 5, minutes).map((x) => x.rss));
    const rssGrowth = (rssEnd - rss5) / rss5;
    const naiveBytes = liveTicks.reduce((acc, x) => acc + x.tick.windowEndSec * bps, 0);
    const liveText = w.committed.map((x) => x.word).join(' ');
    const werLive = wordErrorRate(reference, liveText).wer;
    const werFull = wordErrorRate(reference, w.finalText).wer;
    const werLiveVsFull = wordErrorRate(w.finalText, liveText).wer;
    let dup = 0;
    for (let i = 1; i < w.committed.length; i++) if (w.committed[i]!.start < w.committed[i - 1]!.end - 1e-9) dup++;

    log(`audio: ${s.audioSec.toFixed(0)} s, ${mb(s.audioBytes)}; ${s.ticks} ticks, ${s.backendCalls} backend calls; wall ${w.wallSec.toFixed(1)} s (live + final pass)`);
    log(`bytes read per tick: max ${mb(maxPerTick)} (cap (interval+context)×bytes/s = ${mb(perTickCap)}) ${check(maxPerTick <= perTickCap)}`);
    log(`bytes read per tick, mean: minute 5-10 ${mb(bytesEarly)}, last 5 min ${mb(bytesLate)} (flat)`);
    log(`total bytes read: live ${mb(s.bytesRead)} = ${(s.bytesRead / s.audioBytes).toFixed(3)}× audio (target ≤ 3.1×) ${check(s.bytesRead / s.audioBytes <= 3.1)}`);
    log(`                  naive full re-read each tick ${mb(naiveBytes)} = ${(naiveBytes / s.audioBytes).toFixed(1)}× audio`);
    log(`decoded audio ÷ audio: ${s.decodedRatio.toFixed(3)}× (target ≤ 1.5×; fixed 30 s context ≈ 3×) ${check(s.decodedRatio <= 1.5)}`);
    log(`tick processing time, mean: minute 5-10 ${(tEarly * 1000).toFixed(0)} ms, last 5 min ${(tLate * 1000).toFixed(0)} ms (ratio ${(tLate / tEarly).toFixed(2)}; max ${(s.maxProcessingSec * 1000).toFixed(0)} ms)`);
    log(`RSS: minute 5 ${mb(rss5)}, max to the end ${mb(rssEnd)}: growth ${(rssGrowth * 100).toFixed(1)} % (target ≤ 5 %) ${check(rssGrowth <= 0.05)}`);
    log(`WER vs reference: live-committed ${(werLive * 100).toFixed(2)} %, full-file pass ${(werFull * 100).toFixed(2)} %, difference ${((werLive - werFull) * 100).toFixed(2)} points (target ≤ 1.5) ${check(werLive - werFull <= 0.015)}`);
    log(`live vs full-pass WER ${(werLiveVsFull * 100).toFixed(2)} %; committed words ${w.committed.length}; overlapping committed words ${dup}; lag events ${s.lagEvents}`);
    Object.assign(out, {
      windowed: {
        ...s,
        maxBytesPerTick: maxPerTick,
        perTickCap,
        bytesPerTickEarly: bytesEarly,
        bytesPerTickLate: bytesLate,
        naiveBytes,
        naiveRatio: naiveBytes / s.audioBytes,
        tickSecEarly: tEarly,
        tickSecLate: tLate,
        rssMinute5: rss5,
        rssMax: rssEnd,
        rssGrowth,
        werLive,
        werFull,
        werLiveVsFull,
        overlappingWords: dup,
        wallSec: w.wallSec,
      },
    });

    if (!flag('--skip-naive')) {
      log('\n== naive baseline: one full re-decode of everything so far (what each naive tick costs) ==');
      const naive: Record<string, number> = {};
      for (const m of [5, 30, 60].filter((x) => x <= minutes)) {
        naive[m] = await naiveTickSec(offline, wav, m);
        log(`naive tick at minute ${m}: ${naive[m].toFixed(2)} s, reads ${mb(m * 60 * bps)}  vs ours ≈ ${(mean(span(liveTicks, m - 1, m + 1).map((x) => x.tick.processingSec)) * 1000).toFixed(0)} ms, ${mb(mean(span(liveTicks, m - 1, m + 1).map((x) => x.tick.bytesRead)))}`);
      }
      out.naiveTickSec = naive;
    }
  }
  await offline.dispose();

  if (!flag('--skip-streaming')) {
    const streaming = new NativeBackend({ model: join(models, 'tiny-ctc-en-streaming'), vadModel: join(models, 'silero-vad') });
    log(`\n== streaming-model mode (${streaming.name}), ${minutes} min ==`);
    const r = await runLive(streaming, wav, limitSec, 'streaming', false);
    const ss = r.summary;
    const sl = r.samples.slice(0, -1);
    const stEarly = mean(span(sl, 5, 10).map((x) => x.tick.processingSec));
    const stLate = mean(span(sl, minutes - 5, minutes).map((x) => x.tick.processingSec));
    const srss5 = span(sl, 5, 6)[0]?.rss ?? sl[0]!.rss;
    const srssEnd = Math.max(...span(sl, 5, minutes).map((x) => x.rss));
    const werStream = wordErrorRate(reference, r.committed.map((x) => x.word).join(' ')).wer;
    log(`bytes fed ${mb(ss.bytesRead)} = ${ss.bytesReadRatio.toFixed(3)}× audio; decoded ÷ audio ${ss.decodedRatio.toFixed(3)}× (target ≤ 1.05×) ${check(ss.decodedRatio <= 1.05)}`);
    log(`tick time minute 5-10 ${(stEarly * 1000).toFixed(0)} ms, last 5 min ${(stLate * 1000).toFixed(0)} ms; RSS growth ${(((srssEnd - srss5) / srss5) * 100).toFixed(1)} %; live WER ${(werStream * 100).toFixed(2)} %`);
    out.streaming = { ...ss, tickSecEarly: stEarly, tickSecLate: stLate, rssGrowth: (srssEnd - srss5) / srss5, werLive: werStream, wallSec: r.wallSec };
    await streaming.dispose();
  }
  if (json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

await main();
