import type { AudioChunk, AudioInput } from './audio-input.js';
import type { BackendCapabilities } from './capabilities.js';
import type { StreamConfig, TranscriptionConfig } from './config.js';
import type { TranscriptionEvent } from './events.js';
import type { Transcription } from './transcription.js';

/**
 * A speech recogniser. Everything above the backends (the hybrid manager, the live processor, the
 * server) talks to recognisers through this interface alone.
 *
 * Contract (checked by `runBackendContract` from `hybrid-asr/testing/vitest`):
 * - constructing a backend opens nothing; the first call (or an explicit `load()`) does;
 * - `capabilities` describe the loaded model; read them after `isAvailable()` resolves `true`;
 * - options a backend can't honour become `warnings`; requests that can't work throw an `ASRError`;
 * - every async call honours `abortSignal` and rejects with `AbortedError`;
 * - breaking out of `for await` over `transcribeStream()` frees the stream;
 * - after `dispose()`, calls reject with `BackendUnavailableError`.
 */
export interface ASRBackend {
  /** Stable identifier, e.g. `'native'`, `'remote'`; used in `Transcription.backend`. */
  readonly id: string;
  /** Human-readable name, e.g. `'sherpa-onnx (tiny-ctc-en-offline)'`. */
  readonly name: string;
  /** What the loaded model can do. */
  readonly capabilities: BackendCapabilities;
  /**
   * Whether the backend can serve requests now (addon and model load, server reachable).
   * Never throws; resolves `false` instead.
   */
  isAvailable(options?: { readonly abortSignal?: AbortSignal }): Promise<boolean>;
  /** Transcribes a whole recording. */
  transcribe(audio: AudioInput, options?: TranscriptionConfig): Promise<Transcription>;
  /**
   * Transcribes live audio as it arrives, yielding partial and final results on the stream's own
   * timeline (seconds since its first sample). Ends with an `end` event.
   */
  transcribeStream(
    audio: AsyncIterable<AudioChunk>,
    options?: StreamConfig,
  ): AsyncIterable<TranscriptionEvent>;
  /** Releases models, sockets and workers. Idempotent. */
  dispose(): Promise<void>;
}
