import type { AudioChunk } from '../../spec/index.js';
import type { ChunkNormalizer } from '../../audio/index.js';

/** What a live stream gives its mode: the chunks, their normalizer, and the call's settings. */
export interface LiveInput {
  /** The caller's chunks (already made abortable). */
  readonly audio: AsyncIterable<AudioChunk>;
  /** Validates chunks and turns them into mono samples at the model's rate. */
  readonly norm: ChunkNormalizer;
  readonly partials: boolean;
  readonly signal: AbortSignal | undefined;
}
