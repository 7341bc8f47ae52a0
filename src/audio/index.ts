/**
 * Audio input: WAV (path, bytes or stream; 8/16/24/32-bit PCM, 32/64-bit float, extensible, any
 * channel count and rate), raw PCM16 / float, live chunks; downmixing and anti-aliased resampling.
 *
 * @module
 */
export { decodeAudio, openAudio } from './reader.js';
export type { AudioReader, DecodeOptions, DecodedAudio, OpenAudioOptions } from './reader.js';
export { ChunkNormalizer, chunkToMono } from './chunks.js';
export { Resampler, resample } from './resampler.js';
export type { ResamplerOptions } from './resampler.js';
export { encodeWav } from './wav.js';
export type { AudioFormatInfo, EncodeWavOptions } from './wav.js';
/** @internal Small complete WAV files read in one synchronous pass (the native backend's fast path). */
export { readWavFileSync } from './small-wav.js';
/** @internal The one replay buffer of the package. */
export { SampleBuffer } from './sample-buffer.js';
/** @internal The one validator of live chunks. */
export { validateChunk } from './chunks.js';
/** @internal The package-wide audio limits. */
export { MAX_CHANNELS, liveSampleRateProblem } from './limits.js';
