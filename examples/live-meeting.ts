/**
 * A live meeting: PCM pushed in as it arrives, committed words as they are final, and one clean
 * transcript at the end.
 *   HYBRID_ASR_MODELS=../shared/models npx tsx examples/live-meeting.ts meeting.wav
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkedLiveProcessor, NativeBackend, decodeAudio } from 'hybrid-asr';

const file = process.argv[2];
if (!file) throw new Error('usage: live-meeting.ts <meeting.wav>');
const backend = new NativeBackend({ model: 'tiny-ctc-en-offline' });
const live = new ChunkedLiveProcessor({ backend, spoolDir: await mkdtemp(join(tmpdir(), 'meeting-')) });
live.on('final', (e) => console.log(`${e.segment.start.toFixed(1)}s  ${e.segment.text}`));
await live.start();
const audio = await decodeAudio(file, { sampleRate: 16000 });
for (let i = 0; i < audio.samples.length; i += 16000) {
  await live.push({ samples: audio.samples.subarray(i, i + 16000), sampleRate: 16000 });
}
const transcript = await live.stop();
console.log(`\nfinal transcript: ${transcript.segments.length} segments, ${transcript.durationSec.toFixed(0)} s`);
await backend.dispose();
