/**
 * Message types of the hybrid-asr streaming protocol, version 1 (see docs/streaming-protocol.md).
 * Shared by the server and the remote backend, which validate them with `parse.ts`. All offsets
 * are in samples (mono frames) at the session's `sample_rate`, on the session's own timeline (sample 0 = the first sample ever sent,
 * across every reconnection); all times are seconds on that same timeline.
 *
 * @module
 */
import type { Segment, TranscriptionWarning } from '../spec/index.js';

/** Sample encodings a client may send. */
export type StreamEncoding = 'pcm_s16le' | 'pcm_f32le';

/** Client → server: opens (or resumes) a session. Must be the first message. */
export interface StartMessage {
  /** Discriminator. */
  readonly type: 'start';
  /** Protocol version; must be 1. */
  readonly version: number;
  /** Samples per second of the mono audio the client will send. */
  readonly sample_rate: number;
  /** Encoding of binary frames. */
  readonly encoding: StreamEncoding;
  /** ISO 639-1 language of the audio. */
  readonly language?: string | undefined;
  /** Model name (as in `GET /v1/models`); the server's default when absent. */
  readonly model?: string | undefined;
  /** Whether to send `partial` messages (default true). */
  readonly partials?: boolean | undefined;
  /** Resume: the id of the session to continue. */
  readonly session_id?: string | undefined;
  /** Resume: the client's last acknowledged sample; audio is re-sent from here. */
  readonly resume_offset?: number | undefined;
}


/** Fields every server message carries. */
interface ServerMessageBase {
  /** Highest sample (exclusive) the server has durably consumed: the client may drop audio before it. */
  readonly ack: number;
  /** First sample the message covers. */
  readonly audio_start: number;
  /** Sample (exclusive) up to which the message covers the audio. */
  readonly audio_end: number;
}

/** Server → client: the session is open; send audio starting at `audio_end`. */
export interface ReadyMessage extends ServerMessageBase {
  /** Discriminator. */
  readonly type: 'ready';
  /** Protocol version spoken. */
  readonly version: number;
  /** Session id to quote when resuming. */
  readonly session_id: string;
  /** Sample rate of the session. */
  readonly sample_rate: number;
  /** Whether this is a resumed session. */
  readonly resumed: boolean;
}

/** Server → client: revisable text of the open utterance. */
export interface PartialMessage extends ServerMessageBase {
  /** Discriminator. */
  readonly type: 'partial';
  /** Text of the open utterance. */
  readonly text: string;
  /** Start of the open utterance, seconds. */
  readonly start: number;
  /** Audio heard so far, seconds. */
  readonly end: number;
}

/** Server → client: a committed utterance; its `ack` covers it. */
export interface FinalMessage extends ServerMessageBase {
  /** Discriminator. */
  readonly type: 'final';
  /** The utterance on the session timeline. */
  readonly segment: Segment;
}

/** Server → client: the acknowledged offset moved. */
export interface AckMessage extends ServerMessageBase {
  /** Discriminator. */
  readonly type: 'ack';
}

/** Server → client: a soft problem. */
export interface WarningMessage extends ServerMessageBase {
  /** Discriminator. */
  readonly type: 'warning';
  /** What happened. */
  readonly warning: TranscriptionWarning;
}

/** Server → client: a failure. When `fatal`, the server closes the socket next. */
export interface ErrorMessage extends ServerMessageBase {
  /** Discriminator. */
  readonly type: 'error';
  /** Machine-readable code (an `ASRError` code or a protocol code). */
  readonly code: string;
  /** Human-readable description. */
  readonly message: string;
  /** Whether resuming (here or elsewhere) may succeed. */
  readonly retryable: boolean;
  /** Whether the session ends with this error. */
  readonly fatal: boolean;
}

/** Server → client: every final has been sent; the server closes with 1000 next. */
export interface EndMessage extends ServerMessageBase {
  /** Discriminator. */
  readonly type: 'end';
  /** Seconds of audio consumed in the whole session. */
  readonly duration_sec: number;
}

/** Every server message. */
export type ServerMessage =
  | ReadyMessage
  | PartialMessage
  | FinalMessage
  | AckMessage
  | WarningMessage
  | ErrorMessage
  | EndMessage;
