/**
 * Diarization real-time factor on the 10-minute shared meeting (Silero VAD → windows → speaker
 * embeddings → clustering), offline and live (OnlineDiarizer fed in 15 s ticks), with its DER
 * against the exact RTTM so speed is never bought with accuracy.
 *   npx tsx bench/diarization.ts [--rounds 3] [--json]
 */
import { join } from 'node:path';
import { decodeAudio } from '../src/audio/index.js';
import { Diarizer, OnlineDiarizer } from '../src/diarization/index.js';
import { AUDIO_DIR, SPEAKER_MODEL, VAD_MODEL } from '../test/helpers/shared.js';
import { diarizationErrorRate, readRttm } from '../test/helpers/der.js';
import { arg, done, line, median } from './lib.js';

const rounds = Number(arg('--rounds', '3'));
const prefix = join(AUDIO_DIR, 'meetings', 'meeting-10min-01');
const audio = await decodeAudio(`${prefix}.wav`, { sampleRate: 16000 });
const diarizer = new Diarizer({ vadModel: VAD_MODEL, embeddingModel: SPEAKER_MODEL });
diarizer.load();
const times: number[] = [];
let turns = await diarizer.diarize(audio.samples);
for (let i = 0; i < rounds; i++) {
  const t0 = performance.now();
  turns = await diarizer.diarize(audio.samples);
  times.push((performance.now() - t0) / 1000);
}
const ref = readRttm(`${prefix}.rttm`);
const d0 = diarizationErrorRate(ref, turns);
const d25 = diarizationErrorRate(ref, turns, { collar: 0.25 });
const rtf = median(times) / audio.durationSec;
line(`meeting-10min-01 (${audio.durationSec.toFixed(1)} s), ${rounds} rounds`, `median ${median(times).toFixed(2)} s`);
line('diarization real-time factor (median)', rtf.toFixed(4));
line('DER no collar / 0.25 s collar', `${(d0.der * 100).toFixed(2)} % / ${(d25.der * 100).toFixed(2)} %  (speakers ${d0.hypSpeakers}/${d0.refSpeakers})`);

// Live: 15 s ticks, as the live processor feeds them.
const live = new OnlineDiarizer({ vadModel: VAD_MODEL, embeddingModel: SPEAKER_MODEL });
const tickMs: number[] = [];
const t0 = performance.now();
for (let i = 0; i < audio.samples.length; i += 16000 * 15) {
  const s = performance.now();
  live.push(audio.samples.subarray(i, i + 16000 * 15));
  tickMs.push(performance.now() - s);
}
live.flush();
const liveRtf = (performance.now() - t0) / 1000 / audio.durationSec;
const dl = diarizationErrorRate(ref, [...live.turns]);
line('live real-time factor (15 s ticks)', `${liveRtf.toFixed(4)}  (slowest tick ${Math.max(...tickMs).toFixed(0)} ms)`);
line('live DER no collar (provisional labels)', `${(dl.der * 100).toFixed(2)} %  (speakers ${dl.hypSpeakers}/${dl.refSpeakers})`);
done({ liveRtf, liveSlowestTickMs: Math.max(...tickMs), liveDer: dl.der, audioSec: audio.durationSec, rounds, medianSec: median(times), rtf, der: d0.der, derCollar025: d25.der, speakers: d0.hypSpeakers, refSpeakers: d0.refSpeakers });
