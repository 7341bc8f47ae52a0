/**
 * transcribe() real-time factor vs calling sherpa-onnx-node directly, same files, model, threads,
 * in the same run (target: overhead ≤ 5 %).
 *   npx tsx bench/native-overhead.ts [--rounds 7] [--json]
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { NativeBackend } from '../src/backends/native/index.js';
import { AUDIO_DIR, OFFLINE_MODEL, VAD_MODEL, readReferences } from '../test/helpers/shared.js';
import { arg, done, line, median } from './lib.js';

const sherpa = createRequire(import.meta.url)('sherpa-onnx-node');
const rounds = Number(arg('--rounds', '7'));
const dir = join(AUDIO_DIR, 'espeak');
const files = readReferences(join(dir, 'references.tsv')).map((r) => join(dir, r.file));

const direct = new sherpa.OfflineRecognizer({
  featConfig: { sampleRate: 16000, featureDim: 80 },
  modelConfig: { zipformerCtc: { model: join(OFFLINE_MODEL, 'model.onnx') }, tokens: join(OFFLINE_MODEL, 'tokens.txt'), numThreads: 1, provider: 'cpu', debug: 0 },
  decodingMethod: 'greedy_search',
});
const ours = new NativeBackend({ model: OFFLINE_MODEL, vadModel: VAD_MODEL, threads: 1, provider: 'cpu' });
await ours.load();

let audioSec = 0;
for (const f of files) {
  const w = sherpa.readWave(f);
  audioSec += w.samples.length / w.sampleRate;
}

/** Direct: read the WAV with sherpa's reader and decode it with decodeAsync, file by file. */
async function runDirect(): Promise<number> {
  const t0 = performance.now();
  for (const f of files) {
    const w = sherpa.readWave(f);
    const s = direct.createStream();
    s.acceptWaveform({ sampleRate: w.sampleRate, samples: w.samples });
    await direct.decodeAsync(s);
  }
  return (performance.now() - t0) / 1000;
}
async function runOurs(): Promise<number> {
  const t0 = performance.now();
  for (const f of files) await ours.transcribe(f);
  return (performance.now() - t0) / 1000;
}

await runDirect();
await runOurs(); // warm-up
const d: number[] = [];
const o: number[] = [];
for (let i = 0; i < rounds; i++) {
  // Alternate the order so drift on this shared machine hits both sides alike.
  if (i % 2) {
    o.push(await runOurs());
    d.push(await runDirect());
  } else {
    d.push(await runDirect());
    o.push(await runOurs());
  }
}
const ratios = d.map((x, i) => o[i]! / x);
const rtfDirect = median(d) / audioSec;
const rtfOurs = median(o) / audioSec;
const overhead = median(ratios) - 1;
line(`audio: ${files.length} espeak clips`, `${audioSec.toFixed(1)} s, ${rounds} rounds`);
line('RTF sherpa-onnx-node direct (median)', rtfDirect.toFixed(5));
line('RTF NativeBackend.transcribe() (median)', rtfOurs.toFixed(5));
line('overhead (median of per-round ratios)', `${(overhead * 100).toFixed(1)} %  (target ≤ 5 %)`);
done({ files: files.length, audioSec, rounds, rtfDirect, rtfOurs, overheadPct: overhead * 100, target: 5, meetsTarget: overhead <= 0.05 });
await ours.dispose();
