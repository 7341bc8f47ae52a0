import { join } from 'node:path';
import { runBackendContract } from '../../src/testing/vitest.js';
import { NativeBackend } from '../../src/backends/native/index.js';
import { AUDIO_DIR, OFFLINE_MODEL, STREAMING_MODEL, VAD_MODEL, haveAssets, readReferences } from '../helpers/shared.js';

const clip = join(AUDIO_DIR, 'espeak', 'espeak-001.wav');
if (haveAssets(OFFLINE_MODEL, STREAMING_MODEL, VAD_MODEL, clip)) {
  const reference = readReferences(join(AUDIO_DIR, 'espeak', 'references.tsv')).find((r) => r.file === 'espeak-001.wav')!.text;
  const audio = { path: clip, reference, maxWer: 0.6 };
  runBackendContract('NativeBackend (offline model)', {
    create: () => new NativeBackend({ model: OFFLINE_MODEL, vadModel: VAD_MODEL, threads: 1 }),
    audio,
    streamAudio: { ...audio, path: join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.wav'), reference: undefined as never },
  });
  runBackendContract('NativeBackend (streaming model)', {
    create: () => new NativeBackend({ model: STREAMING_MODEL, threads: 1 }),
    audio,
  });
}
