/**
 * Diarization's model folders go through the one manifest reader (src/models/manifest.ts): an
 * invalid `model.json` or one describing another kind of model is a ModelError naming the manifest,
 * before sherpa-onnx or a proof child sees anything.
 */
import { cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Diarizer, OnlineDiarizer } from '../../src/diarization/index.js';
import { modelFile } from '../../src/diarization/native.js';
import { ModelError } from '../../src/errors/index.js';
import { describeWithAssets, SPEAKER_MODEL, VAD_MODEL } from '../helpers/shared.js';

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
});
