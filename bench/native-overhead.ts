/**
 * transcribe() real-time factor vs calling sherpa-onnx-node directly, same files, model and threads,
 * in the same run (target: overhead ≤ 5 %). Two sets:
 *
 * - short clips (the 40 espeak clips, ~4 s each): direct = `readWave` + one stream per file;
 *   ours decodes each clip whole too (no VAD under `maxSegmentSec`), so the difference is our
 *   per-call cost (async file reading, WAV parsing, word timestamps).
 * - long recordings (the three shared short meetings, 104–173 s): direct = sherpa-onnx's own
 *   Silero `Vad` fed 512-sample windows, each finished segment decoded on its own stream (the
 *   pattern of sherpa-onnx's VAD + non-streaming ASR examples); ours cuts with the same VAD and
 *   decodes each piece with a little real context on both sides (which is what costs extra here).
 *
 * Each side runs as a block per round after a full GC (see `compare`).
 *
 *   npx tsx bench/native-overhead.ts [--rounds 9] [--long-rounds 5] [--json]
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NativeBackend } from '../src/backends/native/index.js';
import { AUDIO_DIR, OFFLINE_MODEL, VAD_MODEL, readReferences } from '../test/helpers/shared.js';
import { arg, done, line, median } from './lib.js';

const sherpa = createRequire(import.meta.url)('sherpa-onnx-node');
const rounds = Number(arg('--rounds', '9'));
const longRounds = Number(arg('--long-rounds', '5'));
const dir = join(AUDIO_DIR, 'espeak');
const clips = readReferences(join(dir, 'references.tsv')).map((r) => join(dir, r.file));
const meetings = ['meeting-short-01', 'meeting-short-02', 'meeting-short-03'].map((n) => join(AUDIO_DIR, 'meetings', `${n}.wav`));

const direct = new sherpa.OfflineRecognizer({
  featConfig: { sampleRate: 16000, featureDim: 80 },
  modelConfig: { zipformerCtc: { model: join(OFFLINE_MODEL, 'model.onnx') }, tokens: join(OFFLINE_MODEL, 'tokens.txt'), numThreads: 1, provider: 'cpu', debug: 0 },
  decodingMethod: 'greedy_search',
});
const directVad = new sherpa.Vad(
  {
    sileroVad: { model: join(VAD_MODEL, 'silero_vad.onnx'), threshold: 0.5, minSilenceDuration: 0.5, minSpeechDuration: 0.25, maxSpeechDuration: 20, windowSize: 512 },
    sampleRate: 16000,
    numThreads: 1,
    provider: 'cpu',
    debug: false,
  },
  60,
);
const ours = new NativeBackend({ model: OFFLINE_MODEL, vadModel: VAD_MODEL, threads: 1, provider: 'cpu' });
await ours.load();

const seconds = (files: string[]): number =>
  files.reduce((a, f) => {
    const w = sherpa.readWave(f);
    return a + w.samples.length / w.sampleRate;
  }, 0);

async function decode(samples: Float32Array): Promise<void> {
  const s = direct.createStream();
  s.acceptWaveform({ sampleRate: 16000, samples });
  await direct.decodeAsync(s);
}

/** Direct, one clip: read the WAV with sherpa's reader and decode it whole. */
async function directClip(f: string): Promise<void> {
  await decode(sherpa.readWave(f).samples);
}

/** Direct, one long recording: sherpa's VAD in 512-sample windows, each segment decoded. */
async function directLong(f: string): Promise<void> {
  const x: Float32Array = sherpa.readWave(f).samples;
  directVad.reset();
  const segs: Float32Array[] = [];
  const drain = (): void => {
    while (!directVad.isEmpty()) {
      segs.push(Float32Array.from(directVad.front(false).samples));
      directVad.pop();
    }
  };
  for (let i = 0; i + 512 <= x.length; i += 512) {
    directVad.acceptWaveform(x.subarray(i, i + 512));
    drain();
    while (segs.length) await decode(segs.shift()!);
  }
  directVad.flush();
  drain();
  for (const s of segs) await decode(s);
}

async function oursOn(f: string): Promise<void> {
  await ours.transcribe(f);
}

interface Side {
  wall: number;
  cpu: number;
}

/** A full garbage collection, outside the timed regions (V8's gc, exposed at run time). */
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

/** Runs `fn` over all files as one timed block; a full GC first, so garbage left by the other side is not billed here. */
async function block(fn: (f: string) => Promise<void>, files: string[]): Promise<Side> {
  fullGc();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const f of files) await fn(f);
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/**
 * Rounds over all files, each side as one block per round, the order alternating by round
 * (drift on a shared machine then hits both alike); per round the ratio of the two blocks;
 * median of the ratios. Each block starts after a full GC: interleaving the sides call by call
 * bills the collection of one side's garbage (sherpa streams freed by finalisers, buffers) to
 * whichever side happens to trigger the GC. Wall time is the real-time factor; process CPU time
 * (main thread, thread pool and V8's helper threads) is printed beside it.
 */
async function compare(n: number, files: string[], d: (f: string) => Promise<void>, o: (f: string) => Promise<void>): Promise<{ d: Side[]; o: Side[]; overhead: number; cpuOverhead: number }> {
  await block(d, files);
  await block(o, files); // warm-up
  const ds: Side[] = [];
  const os: Side[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2) {
      os.push(await block(o, files));
      ds.push(await block(d, files));
    } else {
      ds.push(await block(d, files));
      os.push(await block(o, files));
    }
  }
  return {
    d: ds,
    o: os,
    overhead: median(ds.map((x, i) => os[i]!.wall / x.wall)) - 1,
    cpuOverhead: median(ds.map((x, i) => os[i]!.cpu / x.cpu)) - 1,
  };
}

const walls = (xs: Side[]): number[] => xs.map((x) => x.wall);
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

const clipSec = seconds(clips);
const short = await compare(rounds, clips, directClip, oursOn);
line(`short: ${clips.length} espeak clips`, `${clipSec.toFixed(1)} s, ${rounds} rounds`);
line('  RTF sherpa-onnx-node direct (median)', (median(walls(short.d)) / clipSec).toFixed(5));
line('  RTF NativeBackend.transcribe() (median)', (median(walls(short.o)) / clipSec).toFixed(5));
line('  overhead, wall (median of per-round ratios)', `${pct(short.overhead)}  (target ≤ 5 %)`);
line('  overhead, CPU time (median of per-round ratios)', pct(short.cpuOverhead));

const longSec = seconds(meetings);
const long = await compare(longRounds, meetings, directLong, oursOn);
line(`long: ${meetings.length} meetings, VAD-cut`, `${longSec.toFixed(1)} s, ${longRounds} rounds`);
line('  RTF sherpa-onnx-node VAD + ASR direct (median)', (median(walls(long.d)) / longSec).toFixed(5));
line('  RTF NativeBackend.transcribe() (median)', (median(walls(long.o)) / longSec).toFixed(5));
line('  overhead, wall (median of per-round ratios)', `${pct(long.overhead)}  (target ≤ 5 %)`);
line('  overhead, CPU time (median of per-round ratios)', pct(long.cpuOverhead));

done({
  short: {
    files: clips.length,
    audioSec: clipSec,
    rounds,
    rtfDirect: median(walls(short.d)) / clipSec,
    rtfOurs: median(walls(short.o)) / clipSec,
    overheadPct: short.overhead * 100,
    cpuOverheadPct: short.cpuOverhead * 100,
  },
  long: {
    files: meetings.length,
    audioSec: longSec,
    rounds: longRounds,
    rtfDirect: median(walls(long.d)) / longSec,
    rtfOurs: median(walls(long.o)) / longSec,
    overheadPct: long.overhead * 100,
    cpuOverheadPct: long.cpuOverhead * 100,
  },
  target: 5,
  meetsTarget: short.overhead <= 0.05 && long.overhead <= 0.05,
});
await ours.dispose();
