/**
 * Streaming latency of NativeBackend with the streaming test model, audio paced at real time:
 * - chunk → partial: from a chunk's arrival to the partial event that includes it (target ≤ chunk + 50 ms);
 * - end of speech → final: from the arrival of the chunk holding the end of an utterance's speech
 *   (reference boundaries of espeak-long.wav) to that utterance's final event (target ≤ 200 ms).
 *   npx tsx bench/native-streaming-latency.ts [--chunk-ms 100] [--seconds 40] [--rule2 0.8] [--no-fast-endpoint] [--json]
 * NativeBackend's defaults: fast endpointing (frame energy, then the VAD, end an utterance); the
 * baseline is the model's own trailing-silence rule (--no-fast-endpoint).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeAudio } from '../src/audio/index.js';
import { NativeBackend } from '../src/backends/native/index.js';
import type { AudioChunk } from '../src/spec/index.js';
import { AUDIO_DIR, STREAMING_MODEL, VAD_MODEL } from '../test/helpers/shared.js';
import { arg, done, line, percentile } from './lib.js';

const chunkMs = Number(arg('--chunk-ms', '100'));
const seconds = Number(arg('--seconds', '40'));
const rule2 = Number(arg('--rule2', '0.8'));
const file = join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.wav');
const audio = await decodeAudio(file, { sampleRate: 16000 });
// Speech ends, measured from the signal: the last sample above -40 dBFS inside each source clip.
const speechEnds = readFileSync(join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.segments.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => {
    const [s, e] = l.split('\t').map(Number) as [number, number];
    let last = Math.round(s * 16000);
    for (let i = Math.round(s * 16000); i < Math.min(audio.samples.length, Math.round(e * 16000)); i++) if (Math.abs(audio.samples[i]!) > 0.01) last = i;
    return last / 16000;
  })
  .filter((t) => t < seconds);
const fast = !process.argv.includes('--no-fast-endpoint');
const backend = new NativeBackend({ model: STREAMING_MODEL, vadModel: VAD_MODEL, threads: 1, ...(fast ? {} : { fastEndpoint: false }), endpoint: { rule2MinTrailingSilence: rule2 } });
await backend.load();

const n = Math.round((16000 * chunkMs) / 1000);
const arrivals: { t: number; endSec: number }[] = [];
async function* paced(): AsyncGenerator<AudioChunk> {
  const t0 = performance.now();
  for (let i = 0; i < Math.min(audio.samples.length, seconds * 16000); i += n) {
    const due = t0 + (i / 16000) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const samples = audio.samples.subarray(i, i + n);
    arrivals.push({ t: performance.now(), endSec: (i + samples.length) / 16000 });
    yield { samples, sampleRate: 16000 };
  }
}

const partialLatency: number[] = [];
const finalLatency: number[] = [];
const finalAudioDelay: number[] = [];
let tEnd = 0;
for await (const e of backend.transcribeStream(paced())) {
  const now = performance.now();
  if (e.type === 'partial') {
    // The chunk that this partial is the first to include is the latest arrival.
    const last = arrivals.at(-1)!;
    if (Math.abs(last.endSec - e.end) < 1e-6) partialLatency.push(now - last.t);
  } else if (e.type === 'final') {
    const speechEnd = speechEnds.find((t) => t > e.segment.start && t <= e.segment.end + 1.5);
    if (speechEnd !== undefined) {
      const arr = arrivals.find((a) => a.endSec >= speechEnd);
      if (arr) finalLatency.push(now - arr.t);
      finalAudioDelay.push(arrivals.at(-1)!.endSec - speechEnd);
    }
  } else if (e.type === 'end') tEnd = now - arrivals.at(-1)!.t;
}
const p = (xs: number[], q: number): string => `${percentile(xs, q).toFixed(1)} ms`;
line(`audio: ${seconds} s of espeak-long.wav at real time, ${chunkMs} ms chunks`, `${partialLatency.length} partials, ${finalLatency.length} finals`);
line('chunk arrival → partial including it, p50 / p95', `${p(partialLatency, 50)} / ${p(partialLatency, 95)}  (target ≤ ${chunkMs + 50} ms)`);
line(`end of speech → final (${fast ? 'fast endpoint' : `endpoint rule2 ${rule2} s`}), p50 / p95`, `${p(finalLatency, 50)} / ${p(finalLatency, 95)}  (target ≤ 200 ms)`);
line('  of which: audio the endpoint waits for, median', `${(percentile(finalAudioDelay, 50) * 1000).toFixed(0)} ms`);
line('end of input → end event (tail flush)', `${tEnd.toFixed(1)} ms`);
done({
  chunkMs,
  seconds,
  rule2,
  fastEndpoint: fast,
  partialP50Ms: percentile(partialLatency, 50),
  partialP95Ms: percentile(partialLatency, 95),
  partialTargetMs: chunkMs + 50,
  finalP50Ms: percentile(finalLatency, 50),
  finalP95Ms: percentile(finalLatency, 95),
  finalTargetMs: 200,
  endpointAudioDelayMedianMs: percentile(finalAudioDelay, 50) * 1000,
  endOfInputToEndMs: tEnd,
});
await backend.dispose();
