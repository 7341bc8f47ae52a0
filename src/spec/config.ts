import type { TranscriptionProgress } from './progress.js';

/** Speaker diarization settings. `true` in {@link TranscriptionConfig.diarization} means all defaults. */
export interface DiarizationOptions {
  /** Exact number of speakers, when known. */
  readonly numSpeakers?: number | undefined;
  /** Lower bound on the number of speakers. */
  readonly minSpeakers?: number | undefined;
  /** Upper bound on the number of speakers. */
  readonly maxSpeakers?: number | undefined;
}

/**
 * Settings a backend may not share with others, each under its own key (`native`, `remote`, …).
 * A backend reads only its own key and ignores the rest.
 */
export interface BackendOptions {
  /** Read by the native (sherpa-onnx) backend. */
  readonly native?: Readonly<Record<string, unknown>> | undefined;
  /** Read by the remote (HTTP/WebSocket) backend. */
  readonly remote?: Readonly<Record<string, unknown>> | undefined;
  /** Read by other backends, under their own `id`. */
  readonly [backendId: string]: Readonly<Record<string, unknown>> | undefined;
}

/** Options of one `transcribe()` call. Everything is optional. */
export interface TranscriptionConfig {
  /** Language of the audio (ISO 639-1, e.g. `'en'`); a backend whose model lacks it throws. */
  readonly language?: string | undefined;
  /**
   * Label words with speakers.
   * @defaultValue false
   */
  readonly diarization?: boolean | DiarizationOptions | undefined;
  /**
   * Ask for punctuation and casing where the model can add them.
   * @defaultValue false
   */
  readonly punctuation?: boolean | undefined;
  /** Words or phrases to favour (hotwords / vocabulary boosting), where the model supports it. */
  readonly hotwords?: readonly string[] | undefined;
  /** Cancels the call; the promise rejects with an `AbortedError`. */
  readonly abortSignal?: AbortSignal | undefined;
  /** Backend-specific settings, each under its backend's key. */
  readonly backendOptions?: BackendOptions | undefined;
  /**
   * Called as the work advances, with the audio seconds processed and the total when known; at
   * most a few times a second, and once at the end. Runs synchronously on the caller's thread:
   * keep it cheap. An exception it throws is ignored. Remote backends call it when the server's
   * answer arrives. Not used by `transcribeStream()`, whose events carry their position.
   */
  readonly onProgress?: (progress: TranscriptionProgress) => void;
}

/** Options of one `transcribeStream()` call. */
export interface StreamConfig extends Omit<TranscriptionConfig, 'onProgress'> {
  /**
   * Emit `partial` events as text grows. Finals are always emitted.
   * @defaultValue true
   */
  readonly partials?: boolean | undefined;
}
