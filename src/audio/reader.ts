import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import type { AudioInput } from '../spec/index.js';
import { InvalidArgumentError, InvalidAudioError, throwIfAborted } from '../errors/index.js';
import { ByteSource, openFile } from './byte-source.js';
import { MAX_SAMPLE_RATE } from './limits.js';
import { checkRawFormat, floatToMono, pcm16ToMono } from './raw.js';
import { Resampler } from './resampler.js';
import { readWavFileSync } from './small-wav.js';
import { type AudioFormatInfo, framesToMono } from './wav.js';
import { fmtNum, readWavHeader } from './wav-header.js';

/** Options of {@link decodeAudio} and {@link openAudio}. */
export interface DecodeOptions {
  /** Output sample rate, Hz. @defaultValue the source's rate */
  readonly sampleRate?: number | undefined;
  /** Reject audio longer than this many seconds with an `InvalidAudioError`. @defaultValue no limit */
  readonly maxDurationSec?: number | undefined;
  /** Cancels reading; rejects with `AbortedError`. */
  readonly abortSignal?: AbortSignal | undefined;
}

/** Options of {@link openAudio}. */
export interface OpenAudioOptions extends DecodeOptions {
  /** Source frames per output chunk (approximately; the last chunk may be shorter). @defaultValue 16384 */
  readonly chunkFrames?: number | undefined;
}

/** Decoded audio: mono samples in [-1, 1]. */
export interface DecodedAudio {
  /** Mono samples in [-1, 1]. */
  readonly samples: Float32Array;
  /** Rate of `samples`, Hz. */
  readonly sampleRate: number;
  /** Length in seconds. */
  readonly durationSec: number;
  /** The source's format. */
  readonly format: AudioFormatInfo;
}

/**
 * Incremental reader: an async iterable of mono chunks at {@link AudioReader.sampleRate}. It pulls
 * its source only as the consumer asks (memory does not grow with the length of the input), and
 * closes files when iteration ends, breaks or fails, or on {@link AudioReader.close}.
 */
export interface AudioReader extends AsyncIterable<Float32Array> {
  /** The source's format. */
  readonly format: AudioFormatInfo;
  /** Rate of the chunks this reader yields, Hz. */
  readonly sampleRate: number;
  /** Length in seconds when known up front, else `undefined`. */
  readonly durationSec: number | undefined;
  /** Releases the source. Idempotent. */
  close(): Promise<void>;
}

/** {@link readWavFileSync} as a prepared source. */
function readSmallWav(path: string, chunkFrames: number): Prepared | undefined {
  const r = readWavFileSync(path);
  return r && fromMono(r.samples, r.format, chunkFrames);
}

function isAsyncIterable(x: unknown): x is AsyncIterable<Uint8Array> {
  return typeof x === 'object' && x !== null && typeof (x as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

interface Prepared {
  format: AudioFormatInfo;
  /** Source frames, when known up front. */
  frames: number | undefined;
  /** Yields mono chunks at the source rate. */
  chunks: () => AsyncGenerator<Float32Array>;
  close: () => Promise<void>;
}

function fromMono(mono: Float32Array, format: AudioFormatInfo, chunkFrames: number): Prepared {
  return {
    format,
    frames: mono.length,
    async *chunks() {
      for (let i = 0; i < mono.length; i += chunkFrames) yield mono.subarray(i, i + chunkFrames);
    },
    close: async () => {},
  };
}

function fromWav(src: ByteSource, format: AudioFormatInfo, chunkFrames: number): Prepared {
  const frameBytes = (format.bitsPerSample / 8) * format.channels;
  const want = chunkFrames * frameBytes;
  return {
    format,
    frames: format.dataBytes === undefined ? undefined : Math.floor(format.dataBytes / frameBytes),
    async *chunks() {
      let left = format.dataBytes;
      let frames = 0;
      let carry = Buffer.alloc(0);
      for (;;) {
        const max = left === undefined ? want : Math.min(want, left);
        if (max === 0) break;
        const got = await src.read(max);
        if (got.length === 0) break;
        if (left !== undefined) left -= got.length;
        const bytes = carry.length ? Buffer.concat([carry, got]) : got;
        const whole = bytes.length - (bytes.length % frameBytes);
        carry = Buffer.from(bytes.subarray(whole));
        if (whole > 0) {
          const mono = framesToMono(bytes.subarray(0, whole), format, frames);
          frames += mono.length;
          yield mono;
        }
        if (got.length < max) break;
      }
      if (left !== undefined && left > 0) {
        throw new InvalidAudioError(
          `WAV data chunk truncated: header says ${fmtNum(format.dataBytes!)} bytes, input ended after ${fmtNum(format.dataBytes! - left)}`,
        );
      }
      if (frames === 0) throw new InvalidAudioError('WAV has no audio data');
      // A trailing partial frame (streamed WAVs cut mid-frame) is dropped.
    },
    close: () => src.close(),
  };
}

async function prepare(input: AudioInput, chunkFrames: number, signal: AbortSignal | undefined): Promise<Prepared> {
  if (input instanceof Float32Array) {
    if (input.length === 0) throw new InvalidAudioError('Audio input has no samples');
    const mono = floatToMono(input, 1);
    return fromMono(mono, { sampleRate: 16000, channels: 1, bitsPerSample: 32, encoding: 'float', formatTag: 0, dataBytes: undefined }, chunkFrames);
  }
  if (typeof input === 'object' && input !== null && 'format' in input && !(input instanceof Uint8Array) && !(input instanceof Readable)) {
    const raw = input as { format: unknown };
    if (raw.format === 'pcm16') {
      const r = input as { data: unknown; sampleRate: unknown; channels?: unknown };
      if (!(r.data instanceof Uint8Array)) throw new InvalidAudioError('PCM16 audio `data` must be a Buffer or Uint8Array');
      const { sampleRate, channels } = checkRawFormat(r.sampleRate, r.channels);
      if (r.data.byteLength === 0) throw new InvalidAudioError('PCM16 audio has no samples');
      const mono = pcm16ToMono(r.data, channels);
      return fromMono(mono, { sampleRate, channels, bitsPerSample: 16, encoding: 'pcm', formatTag: 0, dataBytes: undefined }, chunkFrames);
    }
    if (raw.format === 'f32') {
      const r = input as { samples: unknown; sampleRate: unknown; channels?: unknown };
      if (!(r.samples instanceof Float32Array)) throw new InvalidAudioError('Float audio `samples` must be a Float32Array');
      const { sampleRate, channels } = checkRawFormat(r.sampleRate, r.channels);
      if (r.samples.length === 0) throw new InvalidAudioError('Float audio has no samples');
      const mono = floatToMono(r.samples, channels);
      return fromMono(mono, { sampleRate, channels, bitsPerSample: 32, encoding: 'float', formatTag: 0, dataBytes: undefined }, chunkFrames);
    }
    throw new InvalidArgumentError(`Unknown raw audio format ${JSON.stringify(raw.format)}; expected 'pcm16' or 'f32'`);
  }
  let src: ByteSource;
  if (typeof input === 'string' || input instanceof URL) {
    let path: string;
    if (input instanceof URL) {
      if (input.protocol !== 'file:') throw new InvalidArgumentError(`Only file: URLs can be read as audio, got ${input.protocol}`);
      path = fileURLToPath(input);
    } else path = input;
    const small = readSmallWav(path, chunkFrames);
    if (small) return small;
    src = await openFile(path, signal);
  } else if (input instanceof Uint8Array) {
    const b = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    src = new ByteSource((async function* () {
      if (b.length) yield b;
    })(), async () => {}, b.length, signal);
  } else if (input instanceof Readable || isAsyncIterable(input)) {
    const it = (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    src = new ByteSource(it, async () => {
      if (input instanceof Readable) input.destroy();
    }, undefined, signal);
  } else if (ArrayBuffer.isView(input)) {
    throw new InvalidArgumentError(`Unsupported audio input: ${(input as object).constructor.name}; pass WAV bytes (Uint8Array/Buffer), a Float32Array, or { format: 'pcm16' | 'f32', … }`);
  } else {
    throw new InvalidArgumentError(`Unsupported audio input of type ${input === null ? 'null' : typeof input}; pass a WAV path, WAV bytes, a stream, or raw PCM with its format`);
  }
  try {
    const format = await readWavHeader(src);
    return fromWav(src, format, chunkFrames);
  } catch (e) {
    await src.close().catch(() => {});
    throw e;
  }
}

function validateOptions(options: OpenAudioOptions): void {
  const { sampleRate, maxDurationSec, chunkFrames } = options;
  if (sampleRate !== undefined && (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate > MAX_SAMPLE_RATE)) {
    throw new InvalidArgumentError(`\`sampleRate\` must be a whole number of Hz in 1..${MAX_SAMPLE_RATE}, got ${sampleRate}`);
  }
  if (maxDurationSec !== undefined && !(maxDurationSec > 0)) {
    throw new InvalidArgumentError(`\`maxDurationSec\` must be a number > 0, got ${maxDurationSec}`);
  }
  if (chunkFrames !== undefined && (!Number.isInteger(chunkFrames) || chunkFrames < 1)) {
    throw new InvalidArgumentError(`\`chunkFrames\` must be a whole number ≥ 1, got ${chunkFrames}`);
  }
}

/**
 * Opens audio for incremental reading: an async iterable of mono chunks in [-1, 1] at
 * `options.sampleRate` (default: the source's rate). Headers are read and checked before this
 * resolves, so a bad file fails here; problems further in (truncated data, NaN samples) fail the
 * iteration.
 *
 * Memory does not grow with the length of the input: the source (file, stream, iterable) is
 * pulled only as the consumer asks for chunks, at most about one chunk ahead. A regular file of
 * at most 1 MiB holding a complete WAV is read in one synchronous call and closed at once (tens of
 * microseconds from the page cache, cheaper than the thread-pool round trips of an asynchronous
 * read); other files are read with a `FileHandle` in pieces of at most 1 MiB and closed when
 * iteration ends, breaks or fails, or on {@link AudioReader.close}; streams are destroyed
 * (iterables `return()`ed) likewise.
 *
 * WAV handling: PCM 8 (unsigned), 16, 24, 32-bit and IEEE float 32/64-bit, plain or
 * WAVE_FORMAT_EXTENSIBLE; up to 64 channels (averaged); 1 Hz…768 kHz (resampled with
 * {@link Resampler}); unknown and odd-sized chunks skipped; `fmt ` must come before `data`.
 * A data size of 0 or 0xFFFFFFFF (streamed WAVs) means "read to the end of the input"; a
 * trailing partial frame is dropped. A data size beyond the end of a file or Buffer is an error
 * up front; a stream can't be measured in advance, so one that ends before its declared size
 * fails when it ends (after yielding what it had). Float samples outside [-1, 1] are clipped;
 * NaN or infinite samples are an error.
 *
 * @param input - a WAV path, `file:` URL, WAV bytes, WAV byte stream, or raw samples.
 * @param options - output rate, length limit, chunk size, abort signal.
 * @returns the reader; iterate it once, or `close()` it.
 * @throws InvalidAudioError for unreadable, malformed or unsupported audio (a missing file
 * included: "Audio file not found: …"); InvalidArgumentError for bad options or an input of a
 * type that is not audio; AbortedError when `abortSignal` fires.
 *
 * @example
 * ```ts
 * const reader = await openAudio('long.wav', { sampleRate: 16_000 });
 * for await (const chunk of reader) recognizer.accept(chunk);
 * ```
 */
export async function openAudio(input: AudioInput, options: OpenAudioOptions = {}): Promise<AudioReader> {
  validateOptions(options);
  const signal = options.abortSignal;
  throwIfAborted(signal);
  const prepared = await prepare(input, options.chunkFrames ?? 16384, signal);
  const { format } = prepared;
  const outRate = options.sampleRate ?? format.sampleRate;
  const durationSec = prepared.frames === undefined ? undefined : prepared.frames / format.sampleRate;
  const maxSec = options.maxDurationSec;
  if (maxSec !== undefined && durationSec !== undefined && durationSec > maxSec) {
    await prepared.close();
    throw new InvalidAudioError(`Audio is ${durationSec.toFixed(1)} s long; the limit is ${maxSec} s`);
  }
  let resampler: Resampler | undefined;
  try {
    resampler = outRate === format.sampleRate ? undefined : new Resampler(format.sampleRate, outRate);
  } catch (e) {
    await prepared.close();
    throw new InvalidAudioError(`Cannot resample this ${fmtNum(format.sampleRate)} Hz audio to ${fmtNum(outRate)} Hz: ${(e as Error).message}`, { cause: e });
  }
  let closed = false;
  let started = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await prepared.close();
  };
  async function* iterate(): AsyncGenerator<Float32Array> {
    if (started || closed) throw new InvalidArgumentError('An AudioReader can be iterated only once (open the audio again)');
    started = true;
    let frames = 0;
    try {
      for await (const chunk of prepared.chunks()) {
        throwIfAborted(signal);
        frames += chunk.length;
        if (maxSec !== undefined && frames / format.sampleRate > maxSec) {
          throw new InvalidAudioError(`Audio is longer than the limit of ${maxSec} s`);
        }
        const out = resampler ? resampler.process(chunk) : chunk;
        if (out.length) yield out;
      }
      if (resampler) {
        const tail = resampler.flush();
        if (tail.length) yield tail;
      }
    } finally {
      await close();
    }
  }
  return {
    format,
    sampleRate: outRate,
    durationSec,
    close,
    [Symbol.asyncIterator]: () => iterate(),
  };
}

/**
 * Decodes a whole input into memory: mono samples in [-1, 1] at `options.sampleRate` (default:
 * the source's rate). Accepts everything {@link openAudio} does, with the same checks and errors.
 *
 * @param input - a WAV path, `file:` URL, WAV bytes, WAV byte stream, or raw samples.
 * @param options - output rate, length limit, abort signal.
 * @returns the samples, their rate and duration, and the source's format.
 * @throws InvalidAudioError for unreadable, malformed or unsupported audio; InvalidArgumentError
 * for bad options; AbortedError when `abortSignal` fires.
 *
 * @example
 * ```ts
 * const { samples, sampleRate } = await decodeAudio(await readFile('a.wav'), { sampleRate: 16_000 });
 * ```
 */
export async function decodeAudio(input: AudioInput, options: DecodeOptions = {}): Promise<DecodedAudio> {
  const reader = await openAudio(input, options);
  const parts: Float32Array[] = [];
  let total = 0;
  for await (const c of reader) {
    parts.push(c);
    total += c.length;
  }
  const samples = parts.length === 1 ? parts[0]! : new Float32Array(total);
  if (parts.length !== 1) {
    let o = 0;
    for (const p of parts) {
      samples.set(p, o);
      o += p.length;
    }
  }
  return { samples, sampleRate: reader.sampleRate, durationSec: samples.length / reader.sampleRate, format: reader.format };
}
