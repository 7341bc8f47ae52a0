import { stripVTControlCharacters } from 'node:util';
import { ASRError, ModelError } from '../../errors/index.js';
import type { ResolvedModel } from '../../models/index.js';

/**
 * A native error thrown while decoding, as a typed error. sherpa-onnx looks each emitted token id
 * up in tokens.txt with `unordered_map::at`, so a tokens.txt with too few symbols surfaces as
 * `_Map_base::at`; anything else the addon throws is an onnxruntime failure on a proven model.
 * Typed errors pass through as they are.
 */
export function decodeError(model: ResolvedModel, e: unknown): unknown {
  if (ASRError.isInstance(e)) return e;
  const msg = stripVTControlCharacters(e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  const tokens = model.paths.tokens;
  if (/_Map_base::at|out_of_range/.test(msg)) {
    return new ModelError(
      `Model "${model.manifest.name}" produced a token id that ${tokens ?? 'its tokens file'} has no symbol for (${msg}): tokens.txt has too few tokens for this model; is it the model's own tokens.txt?`,
      { path: tokens ?? model.dir, cause: e },
    );
  }
  return new ModelError(`sherpa-onnx failed while decoding with model "${model.manifest.name}" (${model.dir}): ${msg.length > 400 ? `${msg.slice(0, 400)}…` : msg}`, { path: model.dir, cause: e });
}
