import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AUDIO_DIR, OFFLINE_MODEL, PROJECT_ROOT, STREAMING_MODEL, VAD_MODEL, describeWithAssets } from '../helpers/shared.js';
import { makeModelDir, noise, stripMetadata, tempDir } from '../models/helpers.js';

const run = promisify(execFile);
const CLIP = join(AUDIO_DIR, 'espeak', 'espeak-001.wav');
const d = describeWithAssets([OFFLINE_MODEL, STREAMING_MODEL, VAD_MODEL, CLIP]);

/**
 * Every bad model we can make, each loaded by NativeBackend in a child process: the child must
 * print a typed ModelError and exit normally (sherpa-onnx would otherwise abort or exit()).
 */
d('NativeBackend survives every bad model (child processes)', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  const offlineManifest = JSON.parse(readFileSync(join(OFFLINE_MODEL, 'model.json'), 'utf8')) as Record<string, unknown>;
  const { sha256: _s, ...manifest } = offlineManifest;
  const vadManifest = { name: 'vad', kind: 'vad', family: 'silero_vad', files: { model: 'silero_vad.onnx' }, sampleRate: 16000 };
  const cases: { name: string; make: (root: string) => Promise<{ model: string; vad: string }>; expect: RegExp }[] = [
    {
      name: 'truncated model.onnx',
      make: async (r) => {
        const bytes = await readFile(join(OFFLINE_MODEL, 'model.onnx'));
        return { model: await makeModelDir(r, 'trunc', { files: { 'model.onnx': bytes.subarray(0, bytes.length >> 1) }, links: { 'tokens.txt': join(OFFLINE_MODEL, 'tokens.txt') }, manifest }), vad: VAD_MODEL };
      },
      expect: /truncat/i,
    },
    {
      name: 'Git LFS pointer',
      make: async (r) => ({
        model: await makeModelDir(r, 'lfs', {
          files: { 'model.onnx': 'version https://git-lfs.github.com/spec/v1\noid sha256:57321da60d8e99cbe70944334bc51b5429aefe8d52226d68ae01709f31cb25e8\nsize 8510461\n' },
          links: { 'tokens.txt': join(OFFLINE_MODEL, 'tokens.txt') },
          manifest,
        }),
        vad: VAD_MODEL,
      }),
      expect: /LFS/,
    },
    {
      name: 'random bytes',
      make: async (r) => ({ model: await makeModelDir(r, 'noise', { files: { 'model.onnx': noise(100_000) }, links: { 'tokens.txt': join(OFFLINE_MODEL, 'tokens.txt') }, manifest }), vad: VAD_MODEL }),
      expect: /ONNX|protobuf|corrupt|not a valid/i,
    },
    {
      name: 'metadata stripped',
      make: async (r) => {
        const dir = await makeModelDir(r, 'nometa', { links: { 'tokens.txt': join(OFFLINE_MODEL, 'tokens.txt') }, manifest });
        await stripMetadata(join(OFFLINE_MODEL, 'model.onnx'), join(dir, 'model.onnx'));
        return { model: dir, vad: VAD_MODEL };
      },
      expect: /metadata|model_type/i,
    },
    {
      name: 'tokens.txt without <blk>',
      make: async (r) => {
        const tokens = (await readFile(join(OFFLINE_MODEL, 'tokens.txt'), 'utf8')).split('\n').filter((l) => !l.startsWith('<blk>')).join('\n');
        return { model: await makeModelDir(r, 'noblk', { links: { 'model.onnx': join(OFFLINE_MODEL, 'model.onnx') }, files: { 'tokens.txt': tokens }, manifest }), vad: VAD_MODEL };
      },
      expect: /<blk>|blank/i,
    },
    {
      name: 'offline model declared as streaming nemo_ctc',
      make: async (r) => ({
        model: await makeModelDir(r, 'wrongfam', {
          links: { 'model.onnx': join(OFFLINE_MODEL, 'model.onnx'), 'tokens.txt': join(OFFLINE_MODEL, 'tokens.txt') },
          manifest: { ...manifest, kind: 'streaming', family: 'nemo_ctc' },
        }),
        vad: VAD_MODEL,
      }),
      expect: /window_size|metadata/i,
    },
    {
      name: 'streaming model declared as offline zipformer_ctc',
      make: async (r) => ({
        model: await makeModelDir(r, 'wrongfam2', {
          links: { 'model.onnx': join(STREAMING_MODEL, 'model.onnx'), 'tokens.txt': join(STREAMING_MODEL, 'tokens.txt') },
          manifest: { ...manifest, kind: 'offline', family: 'zipformer_ctc' },
        }),
        vad: VAD_MODEL,
      }),
      expect: /model_type|metadata/i,
    },
    {
      name: 'missing model file',
      make: async (r) => ({ model: await makeModelDir(r, 'missing', { links: { 'tokens.txt': join(OFFLINE_MODEL, 'tokens.txt') }, manifest }), vad: VAD_MODEL }),
      expect: /not found|missing|does not exist/i,
    },
    {
      name: 'missing VAD file (sherpa would give a silent null handle)',
      make: async (r) => ({ model: OFFLINE_MODEL, vad: await makeModelDir(r, 'novad', { manifest: vadManifest }) }),
      expect: /not found|missing|does not exist/i,
    },
    {
      name: 'corrupt VAD file',
      make: async (r) => ({ model: OFFLINE_MODEL, vad: await makeModelDir(r, 'badvad', { files: { 'silero_vad.onnx': noise(50_000) }, manifest: vadManifest }) }),
      expect: /ONNX|protobuf|corrupt|not a valid/i,
    },
  ];

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir('hasr-badnative-'));
    await mkdir(root, { recursive: true });
  });
  afterAll(async () => cleanup());

  for (const c of cases) {
    it(c.name, async () => {
      const { model, vad } = await c.make(root);
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/native/child-transcribe.mts', model, vad, CLIP], { cwd: PROJECT_ROOT });
      // The child exited with status 0 (execFile rejects otherwise) and reports a typed error.
      const res = JSON.parse(stdout.trim().split('\n').at(-1)!) as { ok: boolean; name?: string; code?: string; message?: string };
      expect(res.ok).toBe(false);
      expect(res.name).toBe('ModelError');
      expect(res.code).toBe('model_error');
      expect(res.message).toMatch(c.expect);
    });
  }

  it('the same child transcribes with good models (the harness can succeed)', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/native/child-transcribe.mts', OFFLINE_MODEL, VAD_MODEL, CLIP], { cwd: PROJECT_ROOT });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ ok: true });
  });
});
