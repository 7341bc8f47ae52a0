import type { AudioChunk } from '../spec/index.js';
import { InvalidArgumentError, InvalidAudioError } from '../errors/index.js';
import { Resampler } from './resampler.js';
import { MAX_CHANNELS, MAX_SAMPLE_RATE, liveSampleRateProblem } from './limits.js';

/**
 * The one validator of live-audio chunks: checks the shape, the sample rate (one range for every
 * backend, see `limits.ts`), the channel count and whole frames, and returns the rate and channels.
 * Sample values are checked where they are read ({@link chunkToMono}).
 * @throws InvalidAudioError saying what is wrong.
 * @internal
 */
export function validateChunk(chunk: AudioChunk): { rate: number; channels: number } {
  if (typeof chunk !== 'object' || chunk === null) {
    throw new InvalidAudioError(`Audio chunk must be an object { samples, sampleRate, channels? }, got ${chunk === null ? 'null' : typeof chunk}`);
  }
  const { samples, sampleRate } = chunk;
  const channels = chunk.channels ?? 1;
  if (!(samples instanceof Float32Array) && !(samples instanceof Int16Array)) {
    throw new InvalidAudioError('Audio chunk `samples` must be a Float32Array or an Int16Array');
  }
  const rateProblem = liveSampleRateProblem(sampleRate, 'Audio chunk `sampleRate`');
  if (rateProblem !== undefined) throw new InvalidAudioError(rateProblem);
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
    throw new InvalidAudioError(`Audio chunk \`channels\` must be a whole number in 1..${MAX_CHANNELS}, got ${String(channels)}`);
  }
  if (samples.length % channels !== 0) {
    throw new InvalidAudioError(`Audio chunk of ${samples.length} samples is not a whole number of ${channels}-channel frames`);
  }
  return { rate: sampleRate, channels };
}

/**
 * Validates one live-audio chunk and returns it as mono float samples in [-1, 1]: `Int16Array`
 * samples are scaled by 1/32768, channels are averaged. NaN / infinite float samples are rejected
 * with an `InvalidAudioError`.
 */
export function chunkToMono(chunk: AudioChunk): Float32Array {
  const { channels } = validateChunk(chunk);
  const { samples } = chunk;
  const isInt = samples instanceof Int16Array;
  const frames = samples.length / channels;
  const out = new Float32Array(frames);
  const scale = (isInt ? 1 / 32768 : 1) / channels;
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) {
      const v = samples[f * channels + c]!;
      if (!isInt && !Number.isFinite(v)) {
        throw new InvalidAudioError(`Audio chunk contains ${Number.isNaN(v) ? 'a NaN' : 'an infinite'} sample at frame ${f}`);
      }
      sum += v;
    }
    const m = sum * scale;
    out[f] = m > 1 ? 1 : m < -1 ? -1 : m;
  }
  return out;
}

/**
 * Turns the chunks of one live stream into mono float samples at a fixed rate (for
 * `transcribeStream()` implementations). Every chunk is validated; the sample rate and channel
 * count must stay the same for the whole stream. Resampling is stateful, so chunk boundaries leave
 * no artefacts.
 */
export class ChunkNormalizer {
  /** Output rate, Hz. */
  readonly targetRate: number;
  #rate: number | undefined;
  #channels: number | undefined;
  #resampler: Resampler | undefined;
  /** Source frames seen so far. */
  #frames = 0;

  /**
   * @param targetRate - the rate the consumer needs, Hz.
   * @throws InvalidArgumentError when `targetRate` is not a whole number of Hz in 1..768000.
   */
  constructor(targetRate: number) {
    if (!Number.isInteger(targetRate) || targetRate <= 0 || targetRate > MAX_SAMPLE_RATE) {
      throw new InvalidArgumentError(`\`targetRate\` must be a whole number of Hz in 1..${MAX_SAMPLE_RATE}, got ${targetRate}`);
    }
    this.targetRate = targetRate;
  }

  /** Seconds of source audio pushed so far. */
  get durationSec(): number {
    return this.#rate === undefined ? 0 : this.#frames / this.#rate;
  }

  /** Validates and converts the next chunk. */
  push(chunk: AudioChunk): Float32Array {
    const { rate, channels } = validateChunk(chunk);
    if (this.#rate === undefined) {
      this.#rate = rate;
      this.#channels = channels;
      if (rate !== this.targetRate) {
        try {
          this.#resampler = new Resampler(rate, this.targetRate);
        } catch (e) {
          throw new InvalidAudioError(`Cannot resample ${rate} Hz audio chunks to ${this.targetRate} Hz: ${(e as Error).message}`, { cause: e });
        }
      }
    } else if (rate !== this.#rate || channels !== this.#channels) {
      throw new InvalidAudioError(
        `Audio chunk format changed mid-stream: ${rate} Hz × ${channels} ch after ${this.#rate} Hz × ${this.#channels} ch`,
      );
    }
    const mono = chunkToMono(chunk);
    this.#frames += mono.length;
    return this.#resampler ? this.#resampler.process(mono) : mono;
  }

  /** Ends the stream: returns what the resampler still holds. */
  flush(): Float32Array {
    return this.#resampler ? this.#resampler.flush() : new Float32Array(0);
  }
}
