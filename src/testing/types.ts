import type { BackendCapabilities, StreamConfig, Transcription, TranscriptionConfig } from '../spec/index.js';

/** Decoded mono audio, as the test backend hands it to a script function and records it in its call log. */
export interface TestAudio {
  /** Mono samples in [-1, 1]. */
  readonly samples: Float32Array;
  /** Sample rate of {@link TestAudio.samples}. */
  readonly sampleRate: number;
  /** Length in seconds. */
  readonly durationSec: number;
}

/** One word the test backend "hears", on the audio's own timeline (seconds). */
export interface ScriptedWord {
  /** The word. */
  readonly word: string;
  /** Start in seconds. */
  readonly start: number;
  /** End in seconds. */
  readonly end: number;
  /** Speaker label reported when diarization is asked for and the capabilities allow it. @defaultValue `'S1'` */
  readonly speaker?: string | undefined;
}

/**
 * What a script function returns: a whole {@link Transcription}, or just its segments (the backend
 * fills `text`, `durationSec`, `processingTimeSec`, `backend` and `warnings`). Fields given are kept.
 */
export type TestScriptResult = Pick<Transcription, 'segments'> & Partial<Omit<Transcription, 'segments'>>;

/** A function that decides what the backend hears in a given recording. */
export type TestScriptFunction = (
  audio: TestAudio,
  config: TranscriptionConfig,
) => TestScriptResult | Promise<TestScriptResult>;

/**
 * What the test backend "hears": timed words (cut to each recording's length, grouped into
 * segments at pauses), or a function of the decoded audio. In streams a function is called once, on
 * all the audio, when the input ends (its segments become finals; no partials).
 */
export type TestScript = readonly ScriptedWord[] | TestScriptFunction;

/** An error to inject: the error itself, or a factory called each time (fresh stack traces). */
export type InjectedError = Error | (() => Error);

/** When and how a stream fails. */
export interface StreamFailure {
  /** Fail once the stream has received this many seconds of audio. */
  readonly afterSec: number;
  /**
   * The error. By default a `StreamInterruptedError` carrying the audio received since the last
   * final (what a real server would not have acknowledged).
   */
  readonly error?: Error | ((info: StreamFailureInfo) => Error);
}

/** What a stream had not had acknowledged when an injected failure struck. */
export interface StreamFailureInfo {
  /** Mono audio received since the end of the last final. */
  readonly unacknowledgedAudio: Float32Array;
  /** Its sample rate. */
  readonly sampleRate: number;
  /** Where it starts on the stream's timeline, in seconds. */
  readonly audioOffsetSec: number;
}

/** Options of {@link TestBackend}. */
export interface TestBackendOptions {
  /** @defaultValue `'test'` */
  readonly id?: string | undefined;
  /** @defaultValue `'Test backend'` */
  readonly name?: string | undefined;
  /**
   * Capabilities, merged over the defaults: streaming, offline, word timestamps, no diarization, no
   * hotwords, languages `['en']`, sample rate 16 000.
   */
  readonly capabilities?: Partial<BackendCapabilities> | undefined;
  /** What the backend hears. @defaultValue `[]` (silence) */
  readonly script?: TestScript | undefined;
  /** A pause of at least this long between scripted words starts a new segment (and ends an utterance in streams). @defaultValue 0.8 */
  readonly segmentGapSec?: number | undefined;
  /** Delay before each `transcribe()` result, each `isAvailable()` answer and each stream chunk's events, in ms. @defaultValue 0 */
  readonly latencyMs?: number | undefined;
  /** Whether the backend is available. Toggle later with {@link TestBackend.available}. @defaultValue true */
  readonly available?: boolean | undefined;
  /** Fail the first `count` calls (`transcribe` or `transcribeStream`) with `error`. */
  readonly failFirst?: { readonly count: number; readonly error: InjectedError } | undefined;
  /** Make streams fail after some audio. */
  readonly streamFailure?: StreamFailure | undefined;
}

/** A `transcribe()` call as the test backend saw it. */
export interface TestTranscribeCall {
  /** Discriminator. */
  readonly method: 'transcribe';
  /** The options passed. */
  readonly config: TranscriptionConfig;
  /** The decoded audio; `undefined` when the call failed before decoding (aborted, unavailable, injected failure). */
  readonly audio: TestAudio | undefined;
  /** What the call threw, if it did. */
  readonly error?: unknown;
}

/** A `transcribeStream()` call as the test backend saw it (updated while the stream runs). */
export interface TestStreamCall {
  /** Discriminator. */
  readonly method: 'transcribeStream';
  /** The options passed. */
  readonly config: StreamConfig;
  /** Chunks received. */
  readonly chunks: number;
  /** Seconds of audio received. */
  readonly receivedSec: number;
  /** Sample rate of the chunks (0 before the first). */
  readonly sampleRate: number;
  /** The stream is over: ended, failed, or its consumer stopped iterating. */
  readonly closed: boolean;
  /** The consumer stopped iterating before the `end` event. */
  readonly cancelled: boolean;
  /** What the stream threw, if it did. */
  readonly error?: unknown;
}

/** An entry of {@link TestBackend.calls}. */
export type TestBackendCall = TestTranscribeCall | TestStreamCall;
