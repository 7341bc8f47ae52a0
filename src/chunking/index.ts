/**
 * Hours-long live transcription over any `ASRBackend`: spooled audio, bounded re-reads, crash-safe
 * journal, boundary-safe commits, and a full final pass.
 *
 * @module
 */
export { ChunkedLiveProcessor, type RecoveredState } from './processor.js';
export type { ChunkedLiveProcessorOptions, LiveDiarizer } from './options.js';
export { readCommittedWords } from './committed.js';
export type { LagEvent, LiveEvent, LiveMetricsSummary, LiveProcessorEvents, RecoveryEvent, SpeakerRemapEvent, TickEvent } from './events.js';
export { decideCommit } from './commit-policy.js';
export type { CommitPolicyOptions } from './commit-policy.js';
export { PcmSpool } from './spool.js';
export { SPOOL_AUDIO_FILE, SPOOL_COMMITS_FILE, SPOOL_JOURNAL_FILE, WAV_HEADER_BYTES } from './spool-format.js';
export type { CommitRecord } from './spool-format.js';
export type { SpoolRecovery, SpoolRecoveryWarning } from './spool-recovery.js';
export { SpoolError, SpoolLockedError } from './spool-errors.js';
export { SPOOL_LOCK_FILE } from './spool-lock.js';
