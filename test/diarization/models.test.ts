/**
 * Diarization's model folders go through the one manifest reader (src/models/manifest.ts): an
 * invalid `model.json` or one describing another kind of model is a ModelError naming the manifest,
 * before sherpa-onnx or a proof child sees anything.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Diarizer, OnlineDiarizer } from '../../src/diarization/index.js';
import { modelFile } from '../../src/diarization/native.js';
import { ModelError } from '../../src/errors/index.js';
import { describeWithAssets, PROJECT_ROOT, SPEAKER_MODEL, VAD_MODEL } from '../helpers/shared.js';

describeWithAssets([SPEAKER_MODEL, VAD_MODEL])('diarization model folders', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'diar-models-'));
    // A "VAD" folder that is really the speaker embedding model (its manifest says so).
    cpSync(SPEAKER_MODEL, join(dir, 'not-a-vad'), { recursive: true });
    // A folder whose model.json names the file but is not a manifest.
    mkdirSync(join(dir, 'bare-manifest'));
    cpSync(join(VAD_MODEL, 'silero_vad.onnx'), join(dir, 'bare-manifest', 'silero_vad.onnx'));
    writeFileSync(join(dir, 'bare-manifest', 'model.json'), JSON.stringify({ files: { model: 'silero_vad.onnx' } }));
    // A manifest whose file escapes the folder.
    mkdirSync(join(dir, 'escape'));
    writeFileSync(
      join(dir, 'escape', 'model.json'),
      JSON.stringify({ name: 'e', kind: 'vad', family: 'silero_vad', files: { model: '../not-a-vad/tiny-speaker-embedding.onnx' }, sampleRate: 16000 }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the shared model folders resolve to their checked .onnx files', () => {
    expect(modelFile(VAD_MODEL, 'VAD', 'vad')).toBe(join(VAD_MODEL, 'silero_vad.onnx'));
    expect(modelFile(SPEAKER_MODEL, 'Speaker embedding', 'speaker-embedding')).toBe(join(SPEAKER_MODEL, 'tiny-speaker-embedding.onnx'));
  });

  it('a manifest of another kind, an invalid manifest, or one escaping its folder is a ModelError naming model.json', async () => {
    const silence = new Float32Array(16000);
    const cases: [string, RegExp][] = [
      ['not-a-vad', /speaker-embedding model, not a vad model/],
      ['bare-manifest', /"name" must be a non-empty string/],
      ['escape', /"files.model" must be a relative path inside the model folder/],
    ];
    for (const [name, problem] of cases) {
      const vadModel = join(dir, name);
      const manifest = join(vadModel, 'model.json');
      const err = await new Diarizer({ vadModel, embeddingModel: SPEAKER_MODEL }).diarize(silence).catch((e: unknown) => e);
      expect(ModelError.isInstance(err), name).toBe(true);
      expect((err as Error).message, name).toMatch(problem);
      expect((err as Error).message, name).toContain(manifest);
      expect(() => new OnlineDiarizer({ vadModel, embeddingModel: SPEAKER_MODEL }).push(silence), name).toThrow(problem);
    }
  });

  it('a model given by a relative path is proven by its content: changed bytes behind the same path never reach this process', async () => {
    // Before, a relative path was proven by its name alone (the proof digests absolute paths
    // only): the second load reused the first verdict and the corrupt graph aborted the process.
    const work = mkdtempSync(join(dir, 'cwd-'));
    const child = join(PROJECT_ROOT, 'test/diarization/relative-proof-child.mts');
    const result = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((done) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', child, work, VAD_MODEL, join(SPEAKER_MODEL, 'tiny-speaker-embedding.onnx')],
        { cwd: PROJECT_ROOT, env: { ...process.env, HYBRID_ASR_CACHE: mkdtempSync(join(dir, 'cache-')) } },
        (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? null) : 0, signal: err?.signal ?? null, stdout, stderr }),
      );
    });
    expect(result.signal, result.stderr).toBeNull();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('first: ok');
    expect(result.stdout).toMatch(/second: ModelError: .*Speaker embedding model .*emb\.onnx/);
  });
});
