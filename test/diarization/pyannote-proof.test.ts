import { copyFile, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Diarizer } from '../../src/diarization/index.js';
import { ModelError } from '../../src/errors/index.js';
import { describeWithAssets, OFFLINE_MODEL, SPEAKER_MODEL } from '../helpers/shared.js';

// The pyannote path (sherpa's OfflineSpeakerDiarization) is proven in a child process like every
// other model: corrupt segmentation bytes are a ModelError here, and this process survives.
describeWithAssets([SPEAKER_MODEL, OFFLINE_MODEL])('Diarizer with a segmentation model', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pyannote-proof-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a segmentation model with a corrupt graph is a ModelError, not a dead process', async () => {
    const seg = join(dir, 'segmentation.onnx');
    await copyFile(join(OFFLINE_MODEL, 'model.onnx'), seg); // real ONNX bytes, then the graph zeroed
    const f = await open(seg, 'r+');
    await f.write(Buffer.alloc(4096), 0, 4096, 24);
    await f.close();
    const d = new Diarizer({ embeddingModel: SPEAKER_MODEL, segmentationModel: seg });
    let err: unknown;
    try {
      d.load();
    } catch (e) {
      err = e;
    }
    expect(ModelError.isInstance(err), String(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/Segmentation model/);
  });
});
