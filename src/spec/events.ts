import type { ASRErrorLike } from './error-like.js';
import type { Segment, SpeakerTurn, Transcription } from './transcription.js';
import type { TranscriptionWarning } from './warning.js';

/** Revisable text for the utterance in progress; a later `partial` or `final` replaces it. */
export interface PartialEvent {
  /** Discriminator. */
  readonly type: 'partial';
  /** Current text of the open utterance (not the whole transcript). */
  readonly text: string;
  /** Start of the open utterance, seconds on the stream's timeline. */
  readonly start: number;
  /** Audio received so far, seconds on the stream's timeline (the offset this text covers). */
  readonly end: number;
}

/** A committed utterance: never revised afterwards. */
export interface FinalEvent {
  /** Discriminator. */
  readonly type: 'final';
  /** The utterance, with words, on the stream's timeline. */
  readonly segment: Segment;
}

/** Speaker turns found so far (live diarization); labels may be remapped at the end. */
export interface DiarizationEvent {
  /** Discriminator. */
  readonly type: 'diarization';
  /** Turns on the stream's timeline. */
  readonly turns: readonly SpeakerTurn[];
}

/** A soft problem; the stream goes on. */
export interface WarningEvent {
  /** Discriminator. */
  readonly type: 'warning';
  /** What happened. */
  readonly warning: TranscriptionWarning;
}

/** A failure. A non-recoverable error is the last event before the iterator throws it. */
export interface ErrorEvent {
  /** Discriminator. */
  readonly type: 'error';
  /** The error (an `ASRError` subclass from this package). */
  readonly error: ASRErrorLike;
  /** Whether the stream continues after this event. */
  readonly recoverable: boolean;
}

/** The stream is over: every final has been emitted. */
export interface EndEvent {
  /** Discriminator. */
  readonly type: 'end';
  /** Seconds of audio consumed. */
  readonly durationSec: number;
  /** The whole transcript, where the backend assembles one. */
  readonly transcription?: Transcription | undefined;
}

/** Everything `transcribeStream()` yields, discriminated by `type`. */
export type TranscriptionEvent =
  | PartialEvent
  | FinalEvent
  | DiarizationEvent
  | WarningEvent
  | ErrorEvent
  | EndEvent;
