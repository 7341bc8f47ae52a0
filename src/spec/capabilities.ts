/**
 * What a backend can do **with the model it has loaded** (not what its class could do with another
 * model). A native backend with a CTC model has no hotwords; with a transducer it has.
 */
export interface BackendCapabilities {
  /** `transcribeStream()` yields partial results as audio arrives (a true streaming model or server). */
  readonly streaming: boolean;
  /** Speaker diarization is available (`segments[].speaker` is filled when asked). */
  readonly diarization: boolean;
  /** Works without any network connection. */
  readonly offline: boolean;
  /** Segments carry per-word start/end times. */
  readonly wordTimestamps: boolean;
  /** BCP-47 / ISO 639-1 codes the model recognises, or `'any'` for a multilingual model. */
  readonly languages: readonly string[] | 'any';
  /** Longest audio one `transcribe()` call accepts, in seconds; `undefined` means no limit. */
  readonly maxAudioDurationSec?: number | undefined;
  /**
   * Longest audio the model decodes in one pass, in seconds (30 for whisper-family models).
   * Callers that window audio themselves (the live processor) keep windows at or under it.
   */
  readonly maxWindowSec?: number | undefined;
  /** Hotwords / vocabulary boosting is honoured. */
  readonly hotwords: boolean;
  /** Sample rate the model works at; input at other rates is resampled. */
  readonly sampleRate?: number | undefined;
}
