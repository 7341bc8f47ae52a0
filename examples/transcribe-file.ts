/**
 * Transcribe a WAV file on-device and print SRT captions.
 *   HYBRID_ASR_MODELS=../shared/models npx tsx examples/transcribe-file.ts talk.wav
 */
import { NativeBackend, toSrt } from 'hybrid-asr';

const file = process.argv[2];
if (!file) throw new Error('usage: transcribe-file.ts <file.wav>');
const asr = new NativeBackend({ model: 'tiny-ctc-en-offline' });
try {
  const result = await asr.transcribe(file);
  for (const w of result.warnings) console.error('warning:', w);
  process.stdout.write(toSrt(result));
} finally {
  await asr.dispose();
}
