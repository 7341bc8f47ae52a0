import { InvalidArgumentError, InvalidAudioError } from '../errors/index.js';
import { MAX_CHANNELS, MAX_SAMPLE_RATE } from './limits.js';

/** What the audio is, as read from its header (or given explicitly for raw input). */
export interface AudioFormatInfo {
  /** Samples per second per channel. */
  readonly sampleRate: number;
  /** Interleaved channels. */
  readonly channels: number;
  /** Bits per sample as stored. */
  readonly bitsPerSample: number;
  /** Integer PCM or IEEE float. */
  readonly encoding: 'pcm' | 'float';
  /** WAV format code (1 PCM, 3 float, 0xFFFE extensible), 0 for raw input. */
  readonly formatTag: number;
  /**
   * Bytes of audio data declared by the WAV header; `undefined` for streamed WAVs (data size 0 or
   * 0xFFFFFFFF, read to the end) and for raw inputs.
   */
  readonly dataBytes: number | undefined;
}

const FORMAT_NAMES: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0006: 'A-law',
  0x0007: 'µ-law',
  0x0011: 'IMA ADPCM',
  0x0050: 'MPEG',
  0x0055: 'MP3',
};

/** The KSDATAFORMAT_SUBTYPE GUID tail shared by PCM and IEEE float sub-formats. */
const GUID_TAIL = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]);


const fmtNum = (n: number): string => n.toLocaleString('en-US');

/**
 * Parses a `fmt ` chunk body into a format description (data size filled in later).
 * @internal
 */
export function parseFmtChunk(body: Buffer): Omit<AudioFormatInfo, 'dataBytes'> {
  if (body.length < 16) {
    throw new InvalidAudioError(`WAV fmt chunk too short: ${body.length} bytes, need at least 16`);
  }
  let formatTag = body.readUInt16LE(0);
  const channels = body.readUInt16LE(2);
  const sampleRate = body.readUInt32LE(4);
  const blockAlign = body.readUInt16LE(12);
  const bitsPerSample = body.readUInt16LE(14);
  const declaredTag = formatTag;
  if (formatTag === 0xfffe) {
    if (body.length < 40) {
      throw new InvalidAudioError(`WAVE_FORMAT_EXTENSIBLE fmt chunk too short: ${body.length} bytes, need 40`);
    }
    const sub = body.subarray(24, 40);
    if (!sub.subarray(2).equals(GUID_TAIL)) {
      throw new InvalidAudioError('WAVE_FORMAT_EXTENSIBLE with an unknown sub-format GUID; only PCM and IEEE float are supported');
    }
    formatTag = sub.readUInt16LE(0);
  }
  let encoding: 'pcm' | 'float';
  if (formatTag === 1) encoding = 'pcm';
  else if (formatTag === 3) encoding = 'float';
  else {
    const name = FORMAT_NAMES[formatTag];
    throw new InvalidAudioError(
      `Unsupported WAV format code 0x${formatTag.toString(16).padStart(4, '0')}${name ? ` (${name})` : ''}: only PCM (1), IEEE float (3) and WAVE_FORMAT_EXTENSIBLE of those are supported`,
    );
  }
  if (channels === 0) throw new InvalidAudioError('WAV header says zero channels');
  if (channels > MAX_CHANNELS) throw new InvalidAudioError(`WAV header says ${fmtNum(channels)} channels; at most ${MAX_CHANNELS} are supported`);
  if (sampleRate === 0) throw new InvalidAudioError('WAV header says a sample rate of 0 Hz');
  if (sampleRate > MAX_SAMPLE_RATE) {
    throw new InvalidAudioError(`WAV header says a sample rate of ${fmtNum(sampleRate)} Hz; at most ${fmtNum(MAX_SAMPLE_RATE)} Hz is supported`);
  }
  const okBits = encoding === 'pcm' ? [8, 16, 24, 32] : [32, 64];
  if (!okBits.includes(bitsPerSample)) {
    throw new InvalidAudioError(
      `WAV ${encoding === 'pcm' ? 'integer PCM' : 'float'} with ${bitsPerSample} bits per sample is not supported (supported: ${okBits.join(', ')})`,
    );
  }
  const expectedAlign = (channels * bitsPerSample) / 8;
  if (blockAlign !== expectedAlign) {
    throw new InvalidAudioError(
      `WAV block align is ${blockAlign} bytes, but ${channels} channel(s) of ${bitsPerSample}-bit samples need ${expectedAlign}`,
    );
  }
  return { sampleRate, channels, bitsPerSample, encoding, formatTag: declaredTag };
}

/**
 * Converts whole frames of interleaved WAV sample bytes to mono float samples in [-1, 1]
 * (channels averaged). Throws on NaN / infinite float samples; clamps finite floats to [-1, 1].
 * `alloc` provides the output array for a frame count (default: a new one).
 * @internal
 */
export function framesToMono(
  bytes: Buffer,
  format: Omit<AudioFormatInfo, 'dataBytes'>,
  frameOffset: number,
  alloc: (frames: number) => Float32Array = (n) => new Float32Array(n),
): Float32Array {
  const { channels, bitsPerSample, encoding } = format;
  const bps = bitsPerSample / 8;
  const frameBytes = bps * channels;
  const frames = Math.floor(bytes.length / frameBytes);
  const out = alloc(frames);
  const inv = 1 / channels;
  // Fast paths over typed-array views (the common 16-bit PCM and 32-bit float layouts).
  if (encoding === 'pcm' && bps === 2) {
    const src = bytes.byteOffset % 2 === 0 ? new Int16Array(bytes.buffer, bytes.byteOffset, frames * channels) : new Int16Array(Uint8Array.from(bytes.subarray(0, frames * frameBytes)).buffer);
    const k = inv / 32768;
    if (channels === 1) for (let f = 0; f < frames; f++) out[f] = src[f]! * k;
    else
      for (let f = 0, i = 0; f < frames; f++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += src[i++]!;
        out[f] = sum * k;
      }
    return out;
  }
  if (encoding === 'float' && bps === 4) {
    const src = bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, frames * channels) : new Float32Array(Uint8Array.from(bytes.subarray(0, frames * frameBytes)).buffer);
    for (let f = 0, i = 0; f < frames; f++) {
      let sum = 0;
      for (let c = 0; c < channels; c++, i++) {
        let v = src[i]!;
        if (!Number.isFinite(v)) {
          throw new InvalidAudioError(`WAV contains ${Number.isNaN(v) ? 'a NaN' : 'an infinite'} float sample at frame ${fmtNum(frameOffset + f)}`);
        }
        if (v > 1) v = 1;
        else if (v < -1) v = -1;
        sum += v;
      }
      out[f] = sum * inv;
    }
    return out;
  }
  let p = 0;
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) {
      let v: number;
      if (encoding === 'float') {
        v = bps === 4 ? bytes.readFloatLE(p) : bytes.readDoubleLE(p);
        if (!Number.isFinite(v)) {
          throw new InvalidAudioError(`WAV contains ${Number.isNaN(v) ? 'a NaN' : 'an infinite'} float sample at frame ${fmtNum(frameOffset + f)}`);
        }
        if (v > 1) v = 1;
        else if (v < -1) v = -1;
      } else if (bps === 2) v = bytes.readInt16LE(p) / 32768;
      else if (bps === 1) v = (bytes[p]! - 128) / 128;
      else if (bps === 3) v = bytes.readIntLE(p, 3) / 8388608;
      else v = bytes.readInt32LE(p) / 2147483648;
      sum += v;
      p += bps;
    }
    out[f] = sum * inv;
  }
  return out;
}

/** Encoding options of {@link encodeWav}. */
export interface EncodeWavOptions {
  /**
   * Interleaved channels in `samples`.
   * @defaultValue 1
   */
  readonly channels?: number | undefined;
  /**
   * Bits per stored sample (8/16/24/32 integer, or 32/64 with `float`).
   * @defaultValue 16, or 32 with `float`
   */
  readonly bitsPerSample?: 8 | 16 | 24 | 32 | 64 | undefined;
  /**
   * Store IEEE float samples.
   * @defaultValue false
   */
  readonly float?: boolean | undefined;
}

/**
 * Writes a canonical WAV file (44-byte header). `Float32Array` samples are taken as [-1, 1] and
 * clipped; `Int16Array` samples are taken as 16-bit PCM. Integer formats are PCM (8-bit unsigned,
 * 16/24/32-bit signed little-endian).
 *
 * @param samples - interleaved samples.
 * @param sampleRate - samples per second per channel.
 * @param options - channels and sample format.
 * @returns the whole file.
 * @throws InvalidArgumentError for a bad rate, channel count or format, or samples that are not
 * whole frames; InvalidAudioError for NaN / infinite samples.
 *
 * @example
 * ```ts
 * await writeFile('out.wav', encodeWav(decoded.samples, decoded.sampleRate));
 * ```
 */
export function encodeWav(samples: Float32Array | Int16Array, sampleRate: number, options: EncodeWavOptions = {}): Buffer {
  const channels = options.channels ?? 1;
  const float = options.float ?? false;
  const bits = options.bitsPerSample ?? (float ? 32 : 16);
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate > MAX_SAMPLE_RATE) {
    throw new InvalidArgumentError(`\`sampleRate\` must be a whole number of Hz in 1..${MAX_SAMPLE_RATE}, got ${sampleRate}`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
    throw new InvalidArgumentError(`\`channels\` must be a whole number in 1..${MAX_CHANNELS}, got ${channels}`);
  }
  if (float ? bits !== 32 && bits !== 64 : ![8, 16, 24, 32].includes(bits)) {
    throw new InvalidArgumentError(`\`bitsPerSample\` ${bits} is not valid for ${float ? 'float' : 'integer'} WAV`);
  }
  if (samples.length % channels !== 0) {
    throw new InvalidArgumentError(`${samples.length} samples are not a whole number of ${channels}-channel frames`);
  }
  const bps = bits / 8;
  const dataBytes = samples.length * bps;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(float ? 3 : 1, 20);
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * channels * bps, 28);
  buf.writeUInt16LE(channels * bps, 32);
  buf.writeUInt16LE(bits, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  const isInt16 = samples instanceof Int16Array;
  let p = 44;
  for (let i = 0; i < samples.length; i++) {
    let v = isInt16 ? samples[i]! / 32768 : samples[i]!;
    if (!Number.isFinite(v)) {
      throw new InvalidAudioError(`Cannot encode ${Number.isNaN(v) ? 'a NaN' : 'an infinite'} sample (index ${i}) as WAV`);
    }
    if (v > 1) v = 1;
    else if (v < -1) v = -1;
    if (float) {
      if (bps === 4) buf.writeFloatLE(v, p);
      else buf.writeDoubleLE(v, p);
    } else if (bps === 2) {
      buf.writeInt16LE(isInt16 ? samples[i]! : Math.max(-32768, Math.min(32767, Math.round(v * 32768))), p);
    } else if (bps === 1) buf[p] = Math.max(0, Math.min(255, Math.round(v * 128 + 128)));
    else if (bps === 3) buf.writeIntLE(Math.max(-8388608, Math.min(8388607, Math.round(v * 8388608))), p, 3);
    else buf.writeInt32LE(Math.max(-2147483648, Math.min(2147483647, Math.round(v * 2147483648))), p);
    p += bps;
  }
  return buf;
}
