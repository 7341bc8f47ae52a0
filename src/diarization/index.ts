/**
 * Speaker diarization: who spoke when, offline ({@link Diarizer}) and live ({@link OnlineDiarizer}),
 * and the mapping of live labels onto final ones ({@link reconcileSpeakers}).
 *
 * @module
 */
export { Diarizer, DIARIZATION_SAMPLE_RATE, type DiarizationAudio, type DiarizeOptions } from './diarizer.js';
export { OnlineDiarizer, type FinalDiarization, type OnlineDiarizerOptions } from './online.js';
export type { ClusteringCallOptions, DiarizerOptions } from './options.js';
export { reconcileSpeakers } from './reconcile.js';
