import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidArgumentError, ModelError } from '../../src/errors/index.js';
import { detectLayout, findModels, resolveModel, sherpaConfigFor, validateModel } from '../../src/models/index.js';
import { describeWithAssets, MODELS_DIR, OFFLINE_MODEL, SPEAKER_MODEL, STREAMING_MODEL, VAD_MODEL } from '../helpers/shared.js';
import { makeModelDir, tempDir } from './helpers.js';

const OFF = join(OFFLINE_MODEL, 'model.onnx');
const ON = join(STREAMING_MODEL, 'model.onnx');
const TOK = join(OFFLINE_MODEL, 'tokens.txt');

describeWithAssets([OFFLINE_MODEL, STREAMING_MODEL, VAD_MODEL, SPEAKER_MODEL])('resolveModel / findModels / detectLayout', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  const opts = (): { modelsDir: string; cacheDir: string } => ({ modelsDir: MODELS_DIR, cacheDir: join(root, 'cache') });
  beforeAll(async () => ({ dir: root, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  it('resolves a folder path', async () => {
    const m = await resolveModel(OFFLINE_MODEL, opts());
    expect(m).toMatchObject({ dir: OFFLINE_MODEL, source: 'manifest', manifest: { kind: 'offline', family: 'zipformer_ctc', sampleRate: 16000 } });
    expect(m.paths.model).toBe(OFF);
    expect(m.paths.tokens).toBe(TOK);
  });

  it('resolves a name under HYBRID_ASR_MODELS, and checks the kind', async () => {
    const m = await resolveModel('tiny-ctc-en-streaming', opts());
    expect(m.manifest.family).toBe('nemo_ctc');
    await expect(resolveModel('tiny-ctc-en-streaming', { ...opts(), kind: 'offline' })).rejects.toThrow(/is a streaming model .* but offline is needed/);
    await expect(resolveModel('silero-vad', { ...opts(), kind: ['vad', 'offline'] })).resolves.toMatchObject({ manifest: { kind: 'vad' } });
  });

  it('lists what is available when the name is unknown', async () => {
    const err = await resolveModel('no-such-model', opts()).catch((e: unknown) => e);
    expect(ModelError.isInstance(err)).toBe(true);
    expect((err as Error).message).toMatch(/No model "no-such-model".*Available: .*tiny-ctc-en-offline.*catalog: .*whisper-tiny\.en/);
  });

  it('validates its arguments', async () => {
    await expect(resolveModel('', opts())).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(resolveModel('x', { ...opts(), kind: 'bogus' as never })).rejects.toThrow(/`kind` must be one of/);
    await expect(resolveModel('x', { ...opts(), abortSignal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
  });

  it('findModels lists the shared models, filtered by kind', async () => {
    const all = await findModels(opts());
    expect(all.map((m) => m.manifest.name).sort()).toEqual(
      expect.arrayContaining(['silero-vad', 'tiny-ctc-en-offline', 'tiny-ctc-en-streaming', 'tiny-speaker-embedding']),
    );
    const vads = await findModels({ ...opts(), kind: 'vad' });
    expect(vads.map((m) => m.manifest.name)).toEqual(['silero-vad']);
  });

  it('detects manifest-less folders laid out like published releases', async () => {
    const zipformer = await makeModelDir(root, 'sherpa-onnx-streaming-zipformer-en-test', {
      links: { 'encoder-epoch-99-avg-1.onnx': ON, 'decoder-epoch-99-avg-1.onnx': OFF, 'joiner-epoch-99-avg-1.onnx': OFF, 'tokens.txt': TOK },
    });
    expect(await detectLayout(zipformer)).toMatchObject({
      kind: 'streaming',
      family: 'transducer',
      files: { encoder: 'encoder-epoch-99-avg-1.onnx', decoder: 'decoder-epoch-99-avg-1.onnx', joiner: 'joiner-epoch-99-avg-1.onnx', tokens: 'tokens.txt' },
      languages: ['en'],
    });
    // fp32 + int8 variants of the same files: the int8 ones are picked.
    const twoVariants = await makeModelDir(root, 'sherpa-onnx-whisper-tiny.en', {
      links: { 'tiny.en-encoder.onnx': OFF, 'tiny.en-decoder.onnx': OFF, 'tiny.en-encoder.int8.onnx': OFF, 'tiny.en-decoder.int8.onnx': OFF, 'tiny.en-tokens.txt': TOK },
    });
    const w = await resolveModel(twoVariants, opts());
    expect(w).toMatchObject({ source: 'detected', manifest: { kind: 'offline', family: 'whisper', languages: ['en'] } });
    expect(w.manifest.files).toEqual({ encoder: 'tiny.en-encoder.int8.onnx', decoder: 'tiny.en-decoder.int8.onnx', tokens: 'tiny.en-tokens.txt' });
    // Our tiny CTC model is not a whisper encoder: validation says which key is missing.
    await expect(validateModel(w)).rejects.toThrow(/"n_mels" is missing.*offline whisper/);

    const moonshine = await makeModelDir(root, 'sherpa-onnx-moonshine-tiny-en-int8', {
      links: { 'preprocess.onnx': OFF, 'encode.int8.onnx': OFF, 'uncached_decode.int8.onnx': OFF, 'cached_decode.int8.onnx': OFF, 'tokens.txt': TOK },
    });
    const mm = await resolveModel(moonshine, opts());
    expect(mm.manifest).toMatchObject({ family: 'moonshine', files: { uncached_decoder: 'uncached_decode.int8.onnx' } });
    await validateModel(mm); // moonshine reads no metadata
    expect(sherpaConfigFor(mm).config).toMatchObject({ modelConfig: { moonshine: { cachedDecoder: join(moonshine, 'cached_decode.int8.onnx') } } });

    // Single-model CTC folders are recognised from their metadata.
    const off = await makeModelDir(root, 'plain-offline', { links: { 'model.onnx': OFF, 'tokens.txt': TOK } });
    const d = await resolveModel(off, opts());
    expect(d.manifest).toMatchObject({ kind: 'offline', family: 'zipformer_ctc' });
    await validateModel(d);
    const on = await makeModelDir(root, 'plain-streaming', { links: { 'model.int8.onnx': ON, 'tokens.txt': TOK } });
    expect((await resolveModel(on, opts())).manifest).toMatchObject({ kind: 'streaming', family: 'nemo_ctc', files: { model: 'model.int8.onnx' } });
  });

  it('refuses ambiguous and unknown layouts', async () => {
    const amb = await makeModelDir(root, 'ambiguous', {
      links: {
        'encoder-left-64.onnx': ON,
        'decoder-left-64.onnx': OFF,
        'joiner-left-64.onnx': OFF,
        'encoder-left-128.onnx': ON,
        'decoder-left-128.onnx': OFF,
        'joiner-left-128.onnx': OFF,
        'tokens.txt': TOK,
      },
    });
    await expect(resolveModel(amb, opts())).rejects.toThrow(/several transducer variants.*write a model.json/);
    const empty = await makeModelDir(root, 'empty-folder', {});
    await expect(resolveModel(empty, opts())).rejects.toThrow(/has no model.json and its files don't match/);
    await expect(resolveModel(join(root, 'does-not-exist'), opts())).rejects.toThrow(/does not exist/);
  });
});
