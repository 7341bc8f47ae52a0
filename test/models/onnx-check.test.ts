/**
 * The one blocking ONNX check (`checkOnnxFileSync`), used by the synchronous loaders (diarization,
 * a VAD given by file): every hostile file is a ModelError naming the model and the path, the real
 * models pass, and it agrees with the streamed reader (`readOnnxHeader`).
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ModelError } from '../../src/errors/index.js';
import { checkOnnxFileSync, readOnnxHeader } from '../../src/models/onnx.js';
import { describeWithAssets, OFFLINE_MODEL, SPEAKER_MODEL, VAD_MODEL } from '../helpers/shared.js';

const EMB = join(SPEAKER_MODEL, 'tiny-speaker-embedding.onnx');
const VAD = join(VAD_MODEL, 'silero_vad.onnx');
const OFF = join(OFFLINE_MODEL, 'model.onnx');

describeWithAssets([EMB, VAD, OFF])('checkOnnxFileSync', () => {
  let dir: string;
  const files: Record<string, string> = {};
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'onnx-check-'));
    const real = readFileSync(EMB);
    const write = (name: string, bytes: Uint8Array | string): void => {
      files[name] = join(dir, `${name}.onnx`);
      writeFileSync(files[name], bytes);
    };
    write('empty', new Uint8Array(0));
    write('lfs', 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n');
    write('garbage', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
    write('truncated', real.subarray(0, Math.floor(real.length / 2)));
    // ir_version 8, producer "x": a well-framed protobuf with no graph.
    write('no-graph', Uint8Array.of(0x08, 0x08, 0x12, 0x01, 0x78));
    // A graph but no ir_version first.
    write('no-ir', Uint8Array.of(0x12, 0x01, 0x78, 0x3a, 0x02, 0x00, 0x00));
    mkdirSync(join(dir, 'folder.onnx'));
    files['folder'] = join(dir, 'folder.onnx');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes the real models', () => {
    for (const f of [EMB, VAD, OFF]) expect(() => checkOnnxFileSync(f, 'Test')).not.toThrow();
  });

  it('every hostile file is a ModelError naming the model, the path and the problem', async () => {
    const cases: [string, RegExp][] = [
      ['missing', /not found/],
      ['folder', /is not a file/],
      ['empty', /is empty/],
      ['lfs', /Git LFS pointer/],
      ['garbage', /not a valid ONNX file/],
      ['truncated', /truncated/],
      ['no-graph', /no graph/],
      ['no-ir', /ir_version/],
    ];
    for (const [name, problem] of cases) {
      const path = files[name] ?? join(dir, 'nope.onnx');
      let err: unknown;
      try {
        checkOnnxFileSync(path, 'Speaker embedding');
      } catch (e) {
        err = e;
      }
      expect(ModelError.isInstance(err), name).toBe(true);
      const message = (err as Error).message;
      expect(message, name).toMatch(/^Speaker embedding model /);
      expect(message, name).toContain(path);
      expect(message, name).toMatch(problem);
      // The streamed reader rejects the same files.
      if (name !== 'folder') await expect(readOnnxHeader(path), name).rejects.toThrow(ModelError);
    }
  });
});
