/**
 * The `ASRBackend` spec: types only, no runtime code. Everything else in the package depends on
 * these, never the other way round; treat every change here as breaking.
 *
 * @module
 */
export type { AudioChunk, AudioInput, Float32Audio, Pcm16Audio } from './audio-input.js';
export type { ASRBackend } from './backend.js';
export type { BackendCapabilities } from './capabilities.js';
export type {
  BackendOptions,
  DiarizationOptions,
  StreamConfig,
  TranscriptionConfig,
} from './config.js';
export type { ASRErrorLike } from './error-like.js';
export type {
  DiarizationEvent,
  EndEvent,
  ErrorEvent,
  FinalEvent,
  PartialEvent,
  TranscriptionEvent,
  WarningEvent,
} from './events.js';
export type {
  Segment,
  SpeakerInfo,
  SpeakerTurn,
  Transcription,
  Word,
} from './transcription.js';
export type { TranscriptionProgress } from './progress.js';
export type { TranscriptionWarning } from './warning.js';
