// A strict TypeScript app (exactOptionalPropertyTypes, no skipLibCheck), compiled under the
// node10, node16 and bundler resolutions. Options take what users naturally pass.
import {
  ASRError,
  InvalidAudioError,
  NativeBackend,
  RemoteBackend,
  wordErrorRate,
  type Transcription,
  type TranscriptionEvent,
} from 'hybrid-asr';
import { TestBackend } from 'hybrid-asr/testing';

async function main(): Promise<void> {
  // `process.env.X` is `string | undefined`: accepted where the option is optional.
  const remote = new RemoteBackend({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: process.env.HYBRID_ASR_CONSUMER_KEY });
  void remote;
  const clip = process.env.CONSUMER_CLIP;
  const reference = process.env.CONSUMER_REFERENCE;
  if (clip === undefined || reference === undefined) throw new Error('CONSUMER_CLIP and CONSUMER_REFERENCE must be set');
  const asr = new NativeBackend({ model: 'tiny-ctc-en-offline', threads: undefined });
  let last = 0;
  const t: Transcription = await asr.transcribe(clip, {
    language: undefined,
    abortSignal: undefined,
    onProgress: (p) => {
      last = p.processedSec;
    },
  });
  const { wer } = wordErrorRate(reference, t.text);
  if (!(wer < 0.6)) throw new Error(`WER ${wer}: "${t.text}"`);
  if (!(last > 0)) throw new Error('no progress reported');
  try {
    await asr.transcribe(new Uint8Array([0, 1, 2]));
    throw new Error('garbage bytes were accepted');
  } catch (e) {
    if (!InvalidAudioError.isInstance(e)) throw e;
    const err: InvalidAudioError = e;
    if (err.name !== 'InvalidAudioError' || !ASRError.isInstance(err)) throw new Error(`bad identity: ${err.name}`);
  }
  await asr.dispose();

  const test = new TestBackend({ script: [{ word: 'hi', start: 0, end: 0.3 }] });
  const events: TranscriptionEvent[] = [];
  async function* chunks() {
    yield { samples: new Float32Array(16000), sampleRate: 16000 };
  }
  for await (const e of test.transcribeStream(chunks())) events.push(e);
  if (!events.some((e) => e.type === 'final')) throw new Error('no final from TestBackend');
  console.log(`ts ok: ${t.text}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
