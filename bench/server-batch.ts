/**
 * HTTP batch overhead: RemoteBackend.transcribe() through `hybrid-asr serve` (a child process on
 * 127.0.0.1, offline model) vs NativeBackend.transcribe() in-process, on the same 60 s file
 * (target: overhead ≤ 10 %). Runs alternate, after one warm-up each; medians are compared.
 *   npx tsx bench/server-batch.ts [--rounds 5] [--seconds 60] [--json]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { decodeAudio, encodeWav } from '../src/audio/index.js';
import { NativeBackend } from '../src/backends/native/index.js';
import { RemoteBackend } from '../src/backends/remote/index.js';
import { AUDIO_DIR, MODELS_DIR, OFFLINE_MODEL, PROJECT_ROOT } from '../test/helpers/shared.js';
import { arg, done, line, median } from './lib.js';

const rounds = Number(arg('--rounds', '5'));
const seconds = Number(arg('--seconds', '60'));
const long = await decodeAudio(join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.wav'), { sampleRate: 16_000 });
const dir = await mkdtemp(join(tmpdir(), 'bench-server-'));
const file = join(dir, `speech-${seconds}s.wav`);
await writeFile(file, encodeWav(long.samples.subarray(0, seconds * 16_000), 16_000));

const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/cli/index.ts'), 'serve', '--model', 'tiny-ctc-en-offline', '--port', '0'], {
  cwd: PROJECT_ROOT,
  env: { ...process.env, HYBRID_ASR_MODELS: MODELS_DIR, HYBRID_ASR_API_KEYS: '' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise<string>((r) => createInterface({ input: child.stdout }).once('line', (l) => r(l.trim())));
try {
  const native = new NativeBackend({ model: OFFLINE_MODEL });
  const remote = new RemoteBackend({ baseUrl: `${url}/v1`, model: 'tiny-ctc-en-offline' });
  await native.transcribe(file);
  await remote.transcribe(file);
  const local: number[] = [];
  const http: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    await native.transcribe(file);
    local.push(performance.now() - t);
    t = performance.now();
    await remote.transcribe(file);
    http.push(performance.now() - t);
  }
  const l = median(local);
  const h = median(http);
  const overhead = (h - l) / l;
  line(`in-process NativeBackend.transcribe (${seconds} s file), median ms`, l.toFixed(1));
  line(`RemoteBackend → hybrid-asr serve (${seconds} s file), median ms`, h.toFixed(1));
  line('HTTP batch overhead (target ≤ 10 %)', `${(overhead * 100).toFixed(1)} %`);
  done({ seconds, rounds, inProcessMs: l, httpMs: h, overheadPct: overhead * 100, inProcessRuns: local, httpRuns: http });
  await native.dispose();
} finally {
  child.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
