/**
 * Merging recognised words with speaker turns: who said each word, utterances grouped by speaker
 * changes and pauses, and per-speaker speaking time.
 *
 * Everything here is pure and runs in O((N + M) log M) for N words and M turns (a sort of the
 * turns unless they come sorted, a sweep, then a look-up per word that sorted words skip), never
 * O(N·M).
 *
 * @module
 */
export type { ApplyDiarizationOptions, AssignSpeakersOptions, GroupUtterancesOptions } from './options.js';
export { assignSpeakers } from './assign.js';
export { groupUtterances } from './utterances.js';
export { speakerStats } from './stats.js';
export { applyDiarization } from './apply.js';
