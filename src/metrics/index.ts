export { normalizeWords, wordErrorRate } from './wer.js';
export type { AlignmentOp, WerResult } from './wer.js';
/** @internal The one word normalisation for comparisons. */
export { normalizeWord } from './wer.js';
