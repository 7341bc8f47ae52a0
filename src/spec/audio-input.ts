import type { Readable } from 'node:stream';

/**
 * Raw interleaved 16-bit little-endian PCM with an explicit format.
 *
 * @example
 * ```ts
 * await backend.transcribe({ format: 'pcm16', data: micBytes, sampleRate: 48000, channels: 2 });
 * ```
 */
export interface Pcm16Audio {
  /** Discriminator. */
  readonly format: 'pcm16';
  /** Interleaved signed 16-bit little-endian samples. Length must be a whole number of frames. */
  readonly data: Uint8Array;
  /** Samples per second per channel. */
  readonly sampleRate: number;
  /**
   * Interleaved channel count; channels are averaged to mono.
   * @defaultValue 1
   */
  readonly channels?: number | undefined;
}

/**
 * 32-bit float samples in [-1, 1] with an explicit format.
 */
export interface Float32Audio {
  /** Discriminator. */
  readonly format: 'f32';
  /** Interleaved float samples in [-1, 1]. NaN and ±Infinity are rejected. */
  readonly samples: Float32Array;
  /** Samples per second per channel. */
  readonly sampleRate: number;
  /**
   * Interleaved channel count; channels are averaged to mono.
   * @defaultValue 1
   */
  readonly channels?: number | undefined;
}

/**
 * Everything `transcribe()` accepts as audio.
 *
 * - `string` or `URL`: path of a WAV file (read incrementally).
 * - `Uint8Array` / `Buffer`: the bytes of a WAV file.
 * - `Readable` or `AsyncIterable<Uint8Array>`: a WAV byte stream (header first).
 * - {@link Pcm16Audio} / {@link Float32Audio}: raw samples with an explicit format.
 * - `Float32Array`: mono samples in [-1, 1] at 16 000 Hz.
 *
 * Any sample rate and channel count is accepted; audio is downmixed to mono and resampled to the
 * rate the model needs with an anti-aliasing resampler.
 */
export type AudioInput =
  | string
  | URL
  | Uint8Array
  | Float32Array
  | Pcm16Audio
  | Float32Audio
  | Readable
  | AsyncIterable<Uint8Array>;

/**
 * One piece of live audio for `transcribeStream()`.
 *
 * `Int16Array` samples are scaled by 1/32768; `Float32Array` samples must be in [-1, 1].
 * Chunks of one stream must all have the same `sampleRate` and `channels`.
 */
export interface AudioChunk {
  /** Interleaved samples. */
  readonly samples: Float32Array | Int16Array;
  /** Samples per second per channel. */
  readonly sampleRate: number;
  /**
   * Interleaved channel count.
   * @defaultValue 1
   */
  readonly channels?: number | undefined;
}
