import { expect, it } from 'vitest';
import { InvalidAudioError, ModelError } from '../../src/index.js';
import { decodeError } from '../../src/backends/native/decode-errors.js';
import { resolveModel } from '../../src/models/index.js';
import { OFFLINE_MODEL, describeWithAssets } from '../helpers/shared.js';

// What the addon throws while decoding becomes a typed ModelError naming the model (the tokens
// file when a token id has no symbol); typed errors pass through unchanged.
describeWithAssets([OFFLINE_MODEL])('decodeError', () => {
  it('a token id without a symbol is a ModelError about tokens.txt; terminal colours and runs of whitespace go', async () => {
    const model = await resolveModel(OFFLINE_MODEL);
    const native = new Error('\u001b[31m_Map_base::at\u001b[0m\n   at decode');
    const e = decodeError(model, native);
    expect(ModelError.isInstance(e)).toBe(true);
    const err = e as ModelError;
    expect(err.message).toContain('(_Map_base::at at decode)');
    expect(err.message).toMatch(/tokens\.txt has too few tokens/);
    expect(err.message.includes('\u001b')).toBe(false);
    expect(err.cause).toBe(native);
  });

  it('any other native failure is a ModelError naming the model, its message cut at 400 characters', async () => {
    const model = await resolveModel(OFFLINE_MODEL);
    const e = decodeError(model, `onnxruntime: ${'x'.repeat(1000)}`) as ModelError;
    expect(ModelError.isInstance(e)).toBe(true);
    expect(e.message).toContain(`with model "${model.manifest.name}"`);
    expect(e.message).toMatch(/x…$/);
    expect(e.message.length).toBeLessThan(600);
  });

  it('a typed error passes through as it is', async () => {
    const model = await resolveModel(OFFLINE_MODEL);
    const typed = new InvalidAudioError('bad chunk');
    expect(decodeError(model, typed)).toBe(typed);
  });
});
