import { join } from 'node:path';
import { decodeAudio } from '../../src/audio/index.js';
import { TestBackend, type ScriptedWord } from '../../src/testing/index.js';
import { runBackendContract } from '../../src/testing/vitest.js';
import { AUDIO_DIR, readReferences } from '../helpers/shared.js';

const espeak = join(AUDIO_DIR, 'espeak');
const [first] = readReferences(join(espeak, 'references.tsv'));
const path = join(espeak, first?.file ?? 'espeak-001.wav');
const reference = first?.text ?? '';

/** Script the reference's words evenly across the recording, with a pause in the middle. */
async function scriptFor(file: string, text: string): Promise<ScriptedWord[]> {
  const { durationSec } = await decodeAudio(file, { sampleRate: 16_000 });
  const words = text.split(' ');
  const slot = (durationSec - 1.2) / words.length;
  return words.map((word, i) => {
    const start = 0.1 + i * slot + (i >= words.length / 2 ? 1 : 0);
    return { word, start, end: start + slot * 0.8, speaker: i < words.length / 2 ? 'S1' : 'S2' };
  });
}

runBackendContract('TestBackend (streaming, word timestamps, no diarization)', {
  create: async () => new TestBackend({ script: await scriptFor(path, reference) }),
  audio: { path, reference, maxWer: 0 },
  streamAudio: { path, reference, maxWer: 0, chunkSec: 0.1 },
});

runBackendContract('TestBackend (diarization, no streaming, no word timestamps, latency)', {
  create: async () =>
    new TestBackend({
      id: 'test-diarizing',
      latencyMs: 1,
      script: await scriptFor(path, reference),
      capabilities: { diarization: true, streaming: false, wordTimestamps: false, languages: ['en', 'fr'] },
    }),
  audio: { path, reference, maxWer: 0 },
  streamAudio: { path, reference, maxWer: 0, chunkSec: 0.25 },
});
