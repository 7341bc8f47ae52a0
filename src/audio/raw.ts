import { InvalidAudioError } from '../errors/index.js';
import { MAX_CHANNELS, MAX_SAMPLE_RATE } from './limits.js';
import { framesToMono } from './wav.js';

/** Checks the `sampleRate` and `channels` of raw PCM / float input. */
export function checkRawFormat(sampleRate: unknown, channels: unknown): { sampleRate: number; channels: number } {
  if (typeof sampleRate !== 'number' || !Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate > MAX_SAMPLE_RATE) {
    throw new InvalidAudioError(`Raw audio \`sampleRate\` must be a whole number of Hz in 1..${MAX_SAMPLE_RATE}, got ${String(sampleRate)}`);
  }
  const ch = channels ?? 1;
  if (typeof ch !== 'number' || !Number.isInteger(ch) || ch < 1 || ch > MAX_CHANNELS) {
    throw new InvalidAudioError(`Raw audio \`channels\` must be a whole number in 1..${MAX_CHANNELS}, got ${String(channels)}`);
  }
  return { sampleRate, channels: ch };
}

/** Mono float from interleaved float samples, rejecting NaN / Infinity. */
export function floatToMono(samples: Float32Array, channels: number): Float32Array {
  if (samples.length % channels !== 0) {
    throw new InvalidAudioError(`${samples.length} float samples are not a whole number of ${channels}-channel frames`);
  }
  const frames = samples.length / channels;
  const out = new Float32Array(frames);
  if (channels === 1) {
    // The common case, kept tight: copy, then check and clamp in place.
    out.set(samples);
    for (let f = 0; f < frames; f++) {
      const v = out[f]!;
      if (v >= -1 && v <= 1) continue;
      if (!Number.isFinite(v)) {
        throw new InvalidAudioError(`Float audio contains ${Number.isNaN(v) ? 'a NaN' : 'an infinite'} sample at frame ${f}`);
      }
      out[f] = v > 1 ? 1 : -1;
    }
    return out;
  }
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) {
      const v = samples[f * channels + c]!;
      if (!Number.isFinite(v)) {
        throw new InvalidAudioError(`Float audio contains ${Number.isNaN(v) ? 'a NaN' : 'an infinite'} sample at frame ${f}`);
      }
      sum += v;
    }
    const m = sum / channels;
    out[f] = m > 1 ? 1 : m < -1 ? -1 : m;
  }
  return out;
}

/** Mono float from interleaved 16-bit little-endian PCM bytes. */
export function pcm16ToMono(data: Uint8Array, channels: number): Float32Array {
  if (data.byteLength % (2 * channels) !== 0) {
    throw new InvalidAudioError(`${data.byteLength} bytes of PCM16 are not a whole number of ${channels}-channel frames (${2 * channels} bytes each)`);
  }
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return framesToMono(b, { sampleRate: 1, channels, bitsPerSample: 16, encoding: 'pcm', formatTag: 0 }, 0);
}

