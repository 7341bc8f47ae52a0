import type { TranscriptionWarning } from './warning.js';

/** One recognised word. Times are seconds on the audio's own timeline. */
export interface Word {
  /** The word as the model spelled it. */
  readonly word: string;
  /** Start time in seconds. */
  readonly start: number;
  /** End time in seconds. */
  readonly end: number;
  /** Model confidence in [0, 1], where the model gives one. */
  readonly confidence?: number | undefined;
  /** Speaker label, when diarization ran. */
  readonly speaker?: string | undefined;
}

/** A stretch of speech: an utterance, a VAD segment, or one speaker's turn. */
export interface Segment {
  /** Start time in seconds. */
  readonly start: number;
  /** End time in seconds. */
  readonly end: number;
  /** The segment's text. */
  readonly text: string;
  /** Model confidence in [0, 1], where the model gives one. */
  readonly confidence?: number | undefined;
  /** Speaker label (e.g. `"S1"`), when diarization ran. */
  readonly speaker?: string | undefined;
  /** Words of the segment, in order (empty when the backend has no word timestamps). */
  readonly words: readonly Word[];
}

/** A speaker found by diarization. */
export interface SpeakerInfo {
  /** Label used in `segments[].speaker`. */
  readonly id: string;
  /** Total speaking time in seconds. */
  readonly totalSec: number;
}

/** One speaker turn: who spoke from `start` to `end` (seconds). */
export interface SpeakerTurn {
  /** Speaker label. */
  readonly speaker: string;
  /** Start time in seconds. */
  readonly start: number;
  /** End time in seconds. */
  readonly end: number;
}

/** The result of `transcribe()`. */
export interface Transcription {
  /** Full text: segment texts joined by single spaces. */
  readonly text: string;
  /** Segments in time order. */
  readonly segments: readonly Segment[];
  /** Speakers, when diarization ran. */
  readonly speakers?: readonly SpeakerInfo[] | undefined;
  /**
   * Who spoke when, at the diarizer's resolution, sorted by start (when diarization ran). It
   * covers speech the recogniser found no words in, and its bounds follow the voice rather than
   * the word timestamps: draw a speaker timeline from this, read text from `segments`.
   */
  readonly speakerTurns?: readonly SpeakerTurn[] | undefined;
  /** Language of the audio, where known (requested or detected). */
  readonly language?: string | undefined;
  /** Length of the audio in seconds. */
  readonly durationSec: number;
  /** Wall-clock seconds spent producing this result. */
  readonly processingTimeSec: number;
  /** `id` of the backend that produced it (after any failover). */
  readonly backend: string;
  /** Options that could not be honoured, fallbacks taken, and other soft problems. */
  readonly warnings: readonly TranscriptionWarning[];
}
