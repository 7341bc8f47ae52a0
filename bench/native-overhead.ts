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
 *   npx tsx bench/native-overhead.ts [--rounds 7] [--long-rounds 3] [--json]
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { NativeBackend } from '../src/backends/native/index.js';
import { AUDIO_DIR, OFFLINE_MODEL, VAD_MODEL, readReferences } from '../test/helpers/shared.js';
import { arg, done, line, median } from './lib.js';

const sherpa = createRequire(import.meta.url)('sherpa-onnx-node');
const rounds = Number(arg('--rounds', '7'));
const longRounds = Number(arg('--long-rounds', '3'));
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

/** Direct, short clips: read the WAV with sherpa's reader and decode it whole. */
async function directClips(): Promise<number> {
  const t0 = performance.now();
  for (const f of clips) await decode(sherpa.readWave(f).samples);
  return (performance.now() - t0) / 1000;
}

/** Direct, long recordings: sherpa's VAD in 512-sample windows, each segment decoded. */
async function directLong(): Promise<number> {
  const t0 = performance.now();
  for (const f of meetings) {
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
  return (performance.now() - t0) / 1000;
}

async function oursOn(files: string[]): Promise<number> {
  const t0 = performance.now();
  for (const f of files) await ours.transcribe(f);
  return (performance.now() - t0) / 1000;
}

/** Alternating rounds (drift on a shared machine hits both sides alike); median of ratios. */
async function compare(n: number, d: () => Promise<number>, o: () => Promise<number>): Promise<{ d: number[]; o: number[]; overhead: number }> {
  await d();
  await o(); // warm-up
  const ds: number[] = [];
  const os: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2) {
      os.push(await o());
      ds.push(await d());
    } else {
      ds.push(await d());
      os.push(await o());
    }
  }
  return { d: ds, o: os, overhead: median(ds.map((x, i) => os[i]! / x)) - 1 };
}

const clipSec = seconds(clips);
const short = await compare(rounds, directClips, () => oursOn(clips));
line(`short: ${clips.length} espeak clips`, `${clipSec.toFixed(1)} s, ${rounds} rounds`);
line('  RTF sherpa-onnx-node direct (median)', (median(short.d) / clipSec).toFixed(5));
line('  RTF NativeBackend.transcribe() (median)', (median(short.o) / clipSec).toFixed(5));
line('  overhead (median of per-round ratios)', `${(short.overhead * 100).toFixed(1)} %  (target ≤ 5 %)`);

const longSec = seconds(meetings);
const long = await compare(longRounds, directLong, () => oursOn(meetings));
line(`long: ${meetings.length} meetings, VAD-cut`, `${longSec.toFixed(1)} s, ${longRounds} rounds`);
line('  RTF sherpa-onnx-node VAD + ASR direct (median)', (median(long.d) / longSec).toFixed(5));
line('  RTF NativeBackend.transcribe() (median)', (median(long.o) / longSec).toFixed(5));
line('  overhead (median of per-round ratios)', `${(long.overhead * 100).toFixed(1)} %  (target ≤ 5 %)`);

done({
  short: { files: clips.length, audioSec: clipSec, rounds, rtfDirect: median(short.d) / clipSec, rtfOurs: median(short.o) / clipSec, overheadPct: short.overhead * 100 },
  long: { files: meetings.length, audioSec: longSec, rounds: longRounds, rtfDirect: median(long.d) / longSec, rtfOurs: median(long.o) / longSec, overheadPct: long.overhead * 100 },
  target: 5,
  meetsTarget: short.overhead <= 0.05 && long.overhead <= 0.05,
});
await ours.dispose();
