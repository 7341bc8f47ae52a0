/**
 * Feed a WAV file to a streaming model as if it were a microphone, printing partial and final text.
 *   HYBRID_ASR_MODELS=../shared/models npx tsx examples/stream-file.ts talk.wav
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { NativeBackend, decodeAudio, type AudioChunk } from 'hybrid-asr';

const file = process.argv[2];
if (!file) throw new Error('usage: stream-file.ts <file.wav>');

async function* microphone(path: string): AsyncGenerator<AudioChunk> {
  const audio = await decodeAudio(path, { sampleRate: 16000 });
  for (let i = 0; i < audio.samples.length; i += 1600) {
    await sleep(100); // 100 ms of audio every 100 ms
    yield { samples: audio.samples.subarray(i, i + 1600), sampleRate: 16000 };
  }
}

const asr = new NativeBackend({ model: 'tiny-ctc-en-streaming' });
for await (const event of asr.transcribeStream(microphone(file))) {
  if (event.type === 'partial') process.stdout.write(`\r… ${event.text}`);
  else if (event.type === 'final') process.stdout.write(`\r[${event.segment.start.toFixed(1)}s] ${event.segment.text}\n`);
}
await asr.dispose();
