export { normalizeWords, wordErrorRate } from './wer.js';
export type { AlignmentOp, WerResult } from './wer.js';
