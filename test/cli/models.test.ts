import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithAssets, MODELS_DIR, OFFLINE_MODEL, PROJECT_ROOT, SPEAKER_MODEL, VAD_MODEL } from '../helpers/shared.js';
import { makeModelDir, serveFiles, tempDir } from '../models/helpers.js';

/** Runs only `models`, exactly as src/cli/index.ts does, so other commands' modules can't break these tests. */
const CLI = join(PROJECT_ROOT, 'test/models/cli-harness.mts');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { cwd: PROJECT_ROOT, env: { ...process.env, HYBRID_ASR_MODELS: MODELS_DIR, ...env }, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describeWithAssets([OFFLINE_MODEL, VAD_MODEL, SPEAKER_MODEL])('hybrid-asr models', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir: root, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  it('list shows the shared models and the catalog', async () => {
    const r = await cli(['models', 'list'], { HYBRID_ASR_CACHE: join(root, 'c0') });
    expect(r.code).toBe(0);
    for (const n of ['tiny-ctc-en-offline', 'tiny-ctc-en-streaming', 'silero-vad', 'tiny-speaker-embedding', 'whisper-tiny.en']) expect(r.stdout).toContain(n);
    const j = await cli(['models', 'list', '--json'], { HYBRID_ASR_CACHE: join(root, 'c0') });
    const parsed = JSON.parse(j.stdout) as { models: { name: string }[]; catalog: { id: string }[] };
    expect(parsed.models.map((m) => m.name)).toContain('tiny-ctc-en-offline');
    expect(parsed.catalog.length).toBeGreaterThan(5);
  });

  it('verify: ok exits 0, a bad model exits 2 with the reason', async () => {
    const ok = await cli(['models', 'verify', OFFLINE_MODEL, '--checksums']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok tiny-ctc-en-offline/);
    const bad = await makeModelDir(root, 'bad', {
      links: { 'model.onnx': join(OFFLINE_MODEL, 'model.onnx'), 'tokens.txt': join(OFFLINE_MODEL, 'tokens.txt') },
      manifest: { name: 'bad', kind: 'streaming', family: 'nemo_ctc', files: { model: 'model.onnx', tokens: 'tokens.txt' }, sampleRate: 16000 },
    });
    const r = await cli(['models', 'verify', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/hybrid-asr: .*"window_size" is missing/);
  });

  it('download installs a catalog model from a mirror (HYBRID_ASR_CATALOG_URL), with progress lines off a TTY', async () => {
    const srv = await serveFiles({ '/silero_vad.onnx': join(VAD_MODEL, 'silero_vad.onnx') });
    try {
      const cache = join(root, 'c1');
      const r = await cli(['models', 'download', 'silero-vad'], { HYBRID_ASR_CACHE: cache, HYBRID_ASR_CATALOG_URL: `${srv.baseUrl}/` });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/downloading .*\(100%\)/);
      expect(r.stderr).not.toContain('warning');
      expect(r.stdout).toMatch(/installed silero-vad .*\nsha256 1a153a22\S+ \(verified\)/);
      expect(existsSync(join(cache, 'models', 'silero-vad', 'model.json'))).toBe(true);
      const v = await cli(['models', 'verify', 'silero-vad', '--checksums'], { HYBRID_ASR_CACHE: cache, HYBRID_ASR_MODELS: join(root, 'none') });
      expect(v.code, v.stderr).toBe(0);
    } finally {
      await srv.close();
    }
  });

  it('download shows a cli-progress bar when asked (as on a TTY) and warns when no sha256 is published', async () => {
    const name = '3dspeaker_speech_eres2net_base_sv_zh-cn_3dspeaker_16k.onnx';
    const srv = await serveFiles({ [`/${name}`]: join(SPEAKER_MODEL, 'tiny-speaker-embedding.onnx') });
    try {
      const cache = join(root, 'c2');
      const r = await cli(['models', 'download', '3dspeaker-eres2net-base-zh-cn', '--progress', 'bar'], {
        HYBRID_ASR_CACHE: cache,
        HYBRID_ASR_CATALOG_URL: srv.baseUrl,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/downloading \S+ \[[█░]+\] 100%/);
      expect(r.stderr).toMatch(/warning: no published sha256 .*trust on first use/);
      expect(r.stdout).toMatch(/\(recorded, not verified\)/);
    } finally {
      await srv.close();
    }
  });

  it('download of an unknown id is a usage error; a failed checksum exits 2', async () => {
    const r = await cli(['models', 'download', 'nope'], { HYBRID_ASR_CACHE: join(root, 'c3') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not in the catalog/);
    const srv = await serveFiles({ '/silero_vad.onnx': join(SPEAKER_MODEL, 'tiny-speaker-embedding.onnx') });
    try {
      const bad = await cli(['models', 'download', 'silero-vad', '--progress', 'none'], { HYBRID_ASR_CACHE: join(root, 'c4'), HYBRID_ASR_CATALOG_URL: srv.baseUrl });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/failed its checksum/);
    } finally {
      await srv.close();
    }
  });
});
