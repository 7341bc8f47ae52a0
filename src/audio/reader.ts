import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import type { AudioInput } from '../spec/index.js';
import { ASRError, InvalidArgumentError, InvalidAudioError, throwIfAborted, toAbortError } from '../errors/index.js';
import { Resampler } from './resampler.js';
import { MAX_CHANNELS, MAX_SAMPLE_RATE } from './limits.js';
import { type AudioFormatInfo, framesToMono, parseFmtChunk } from './wav.js';

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

/** Turns what a source threw into a typed error (abort, or an unreadable input). */
function sourceError(e: unknown, signal: AbortSignal | undefined): unknown {
  if (ASRError.isInstance(e)) return e;
  if (signal?.aborted) return toAbortError(signal, e);
  const msg = e instanceof Error ? e.message : String(e);
  return new InvalidAudioError(`Reading the audio input failed: ${msg}`, { cause: e });
}

/** Resolves when `signal` aborts (never otherwise); `off()` removes the listener. */
function abortPromise(signal: AbortSignal): { promise: Promise<never>; off: () => void } {
  let off = (): void => {};
  const promise = new Promise<never>((_, reject) => {
    const on = (): void => reject(toAbortError(signal));
    signal.addEventListener('abort', on, { once: true });
    off = () => signal.removeEventListener('abort', on);
  });
  promise.catch(() => {});
  return { promise, off };
}

/**
 * A pull-based byte source. It asks its iterator for the next chunk only when a read needs more
 * bytes than it holds, so it never holds more than the largest read plus one source chunk.
 */
class ByteSource {
  private pending: Buffer = Buffer.alloc(0);
  private done = false;
  private closed = false;
  /** A `next()` of the source has not settled (only after an abort cut it short). */
  private inflight = false;
  /** Bytes consumed from the start of the input. */
  consumed = 0;

  constructor(
    private readonly it: AsyncIterator<Uint8Array>,
    private readonly closer: () => Promise<void>,
    /** Total size when known. */
    readonly size: number | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {}

  private async next(): Promise<IteratorResult<Uint8Array>> {
    throwIfAborted(this.signal);
    try {
      const p = this.it.next();
      if (!this.signal) return await p;
      // A source that never yields must not outlive an abort: race it, and track (and catch)
      // the pending read so close() knows not to wait on it.
      this.inflight = true;
      p.then(
        () => (this.inflight = false),
        () => (this.inflight = false),
      );
      const abort = abortPromise(this.signal);
      try {
        return await Promise.race([p, abort.promise]);
      } finally {
        abort.off();
      }
    } catch (e) {
      this.done = true;
      throw sourceError(e, this.signal);
    }
  }

  private async fill(n: number): Promise<void> {
    if (this.pending.length >= n || this.done) return;
    const parts: Buffer[] = this.pending.length ? [this.pending] : [];
    let have = this.pending.length;
    while (have < n) {
      const r = await this.next();
      if (r.done) {
        this.done = true;
        break;
      }
      const chunk: unknown = r.value;
      if (!(chunk instanceof Uint8Array)) {
        this.done = true;
        throw new InvalidAudioError(
          `Audio stream yielded ${typeof chunk === 'string' ? 'a string' : typeof chunk}; expected Buffer / Uint8Array chunks (don't set an encoding on the stream)`,
        );
      }
      if (chunk.byteLength === 0) continue;
      parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      have += chunk.byteLength;
    }
    this.pending = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
  }

  /** Reads up to `n` bytes (fewer only at end of input). */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const take = Math.min(n, this.pending.length);
    const out = this.pending.subarray(0, take);
    this.pending = this.pending.subarray(take);
    this.consumed += take;
    return out;
  }

  /** Reads whatever is buffered, or the next source chunk, up to `max` bytes; empty at end. */
  async readSome(max: number): Promise<Buffer> {
    if (this.pending.length === 0) await this.fill(1);
    return this.read(Math.min(max, this.pending.length));
  }

  /** Skips `n` bytes; returns how many were actually skipped. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      const b = await this.readSome(Math.min(left, 1 << 20));
      if (b.length === 0) break;
      left -= b.length;
    }
    return n - left;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.done = true;
    this.pending = Buffer.alloc(0);
    if (this.inflight) {
      // A read is still pending (aborted while the source hung): an async generator would queue
      // return() behind it forever, so release the resource first and don't wait for return().
      await this.closer().catch(() => {});
      Promise.resolve()
        .then(() => this.it.return?.())
        .catch(() => {});
      return;
    }
    try {
      await this.it.return?.();
    } catch {
      // A source failing while being closed has nothing more to tell the caller.
    } finally {
      await this.closer();
    }
  }
}

/** Largest single read from a file: memory stays bounded however long the file is. */
const FILE_CHUNK = 1024 * 1024;
/** Complete WAV files up to this size are read and decoded in one synchronous pass. */
const SMALL_FILE = 1024 * 1024;

const fmtNum = (n: number): string => n.toLocaleString('en-US');

/** A WAV whose RIFF size says it is all there (not still being written, not truncated). */
function isCompleteRiff(bytes: Buffer): boolean {
  const riff = bytes.length >= 8 ? bytes.readUInt32LE(4) : 0;
  return riff > 0 && riff !== 0xffffffff && riff + 8 <= bytes.length;
}

/** Read buffer of {@link readWavFileSync}, reused: everything that touches it runs synchronously. */
let scratch: Buffer | undefined;

/**
 * A small, complete WAV in a regular file, read and decoded to mono in one synchronous pass;
 * `undefined` for anything else (which then takes the asynchronous path). From the page cache
 * this is tens of microseconds, far less than the thread-pool round trips of an asynchronous
 * open/stat/read/close (~0.5 ms, 5 % of decoding a 4 s clip); reading into one reused buffer
 * also spares V8 the external-memory pressure of a fresh Buffer per file (which set off a full GC
 * every ~30 clips). `alloc` provides the output samples for a frame count (a caller that consumes
 * them at once can hand out a reused array). A path that is not a regular file (a directory,
 * FIFO, device) is refused here, before anything opens it: opening a FIFO would wait for a
 * writer. A malformed WAV throws the same errors as on the streaming path (the same header walk).
 * @internal
 */
export function readWavFileSync(path: string, alloc?: (frames: number) => Float32Array): { format: AudioFormatInfo; samples: Float32Array } | undefined {
  let fd: number;
  let size: number;
  try {
    // stat before open: opening a FIFO would block (forever, with no writer).
    const st = statSync(path);
    if (!st.isFile()) throw new InvalidAudioError(`Audio path is not a file: ${path}`);
    if (st.size > SMALL_FILE) return undefined;
    size = st.size;
    fd = openSync(path, 'r');
  } catch (e) {
    if (InvalidAudioError.isInstance(e)) throw e;
    return undefined;
  }
  let bytes: Buffer;
  try {
    if (!scratch || scratch.length < size + 1) scratch = Buffer.allocUnsafe(Math.min(SMALL_FILE + 1, Math.max(size + 1, 256 * 1024)));
    // One byte more than the size seen: a file that grew in between is left to the async path.
    const want = size + 1;
    let got = 0;
    while (got < want) {
      const n = readSync(fd, scratch, got, want - got, got);
      if (n === 0) break;
      got += n;
    }
    if (got > size) return undefined;
    bytes = scratch.subarray(0, got);
    if (!isCompleteRiff(bytes)) return undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
  const { format, dataOffset } = parseWavHeader(bytes);
  const frameBytes = (format.bitsPerSample / 8) * format.channels;
  const avail = bytes.length - dataOffset;
  const data = format.dataBytes === undefined ? avail : Math.min(format.dataBytes, avail);
  const whole = data - (data % frameBytes);
  if (whole <= 0) throw new InvalidAudioError('WAV has no audio data');
  return { format, samples: framesToMono(bytes.subarray(dataOffset, dataOffset + whole), format, 0, alloc) };
}

/** {@link readWavFileSync} as a prepared source. */
function readSmallWav(path: string, chunkFrames: number): Prepared | undefined {
  const r = readWavFileSync(path);
  return r && fromMono(r.samples, r.format, chunkFrames);
}

async function openFile(path: string, signal: AbortSignal | undefined): Promise<ByteSource> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InvalidAudioError(
      code === 'ENOENT' ? `Audio file not found: ${path}` : code === 'EISDIR' ? `Audio path is not a file: ${path}` : `Cannot open audio file ${path}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  let size: number;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new InvalidAudioError(`Audio path is not a file: ${path}`);
    size = st.size;
  } catch (e) {
    await fh.close();
    if (InvalidAudioError.isInstance(e)) throw e;
    throw new InvalidAudioError(`Cannot read audio file ${path}: ${(e as Error).message}`, { cause: e });
  }
  let closed = false;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let pos = 0;
    for (;;) {
      throwIfAborted(signal);
      // One read for small files; bounded chunks for large ones (and for a file still growing).
      const n = pos < size ? Math.min(FILE_CHUNK, size - pos) : 64 * 1024;
      const buf = Buffer.allocUnsafe(n);
      const { bytesRead } = await fh.read(buf, 0, n, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  }
  return new ByteSource(chunks(), async () => {
    if (!closed) {
      closed = true;
      await fh.close();
    }
  }, size, signal);
}

function isAsyncIterable(x: unknown): x is AsyncIterable<Uint8Array> {
  return typeof x === 'object' && x !== null && typeof (x as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

function checkRawFormat(sampleRate: unknown, channels: unknown): { sampleRate: number; channels: number } {
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
function floatToMono(samples: Float32Array, channels: number): Float32Array {
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
function pcm16ToMono(data: Uint8Array, channels: number): Float32Array {
  if (data.byteLength % (2 * channels) !== 0) {
    throw new InvalidAudioError(`${data.byteLength} bytes of PCM16 are not a whole number of ${channels}-channel frames (${2 * channels} bytes each)`);
  }
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return framesToMono(b, { sampleRate: 1, channels, bitsPerSample: 16, encoding: 'pcm', formatTag: 0 }, 0);
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

/** What the header walker needs from its input: bytes read so far and the total, when known. */
interface HeaderInput {
  readonly size: number | undefined;
  readonly consumed: number;
}

/** A request of the header walker: read up to `n` bytes, or skip `n` bytes. */
type HeaderRequest = { readonly read: number } | { readonly skip: number };

/**
 * The RIFF/WAVE header walk, up to the start of the data chunk, as a coroutine: it yields read
 * and skip requests (answered with the bytes read, or the count skipped), so one walk serves
 * both an in-memory file (answered synchronously) and a stream (answered with awaits).
 */
function* wavHeaderWalk(src: HeaderInput): Generator<HeaderRequest, AudioFormatInfo, Buffer | number> {
  const riff = (yield { read: 12 }) as Buffer;
  if (riff.length === 0) throw new InvalidAudioError('Audio input is empty (0 bytes)');
  if (riff.length < 12) throw new InvalidAudioError(`Not a WAV file: only ${riff.length} bytes, a RIFF header needs 12`);
  const magic = riff.toString('latin1', 0, 4);
  if (magic === 'RIFX') throw new InvalidAudioError('Big-endian WAV (RIFX) is not supported');
  if (magic !== 'RIFF' && magic !== 'RF64') {
    throw new InvalidAudioError(`Not a WAV file: expected "RIFF" at byte 0, found ${JSON.stringify(riff.toString('latin1', 0, 4))}`);
  }
  if (riff.toString('latin1', 8, 12) !== 'WAVE') {
    throw new InvalidAudioError(`Not a WAV file: expected "WAVE" at byte 8, found ${JSON.stringify(riff.toString('latin1', 8, 12))}`);
  }
  let fmt: Omit<AudioFormatInfo, 'dataBytes'> | undefined;
  let ds64DataBytes: number | undefined;
  for (;;) {
    const hdr = (yield { read: 8 }) as Buffer;
    if (hdr.length < 8) {
      throw new InvalidAudioError(fmt ? 'WAV has no data chunk' : 'WAV has no fmt chunk');
    }
    const id = hdr.toString('latin1', 0, 4);
    const size = hdr.readUInt32LE(4);
    if (id === 'data') {
      if (!fmt) throw new InvalidAudioError('WAV data chunk comes before the fmt chunk');
      // RF64 keeps the real size in its ds64 chunk; 0 and 0xFFFFFFFF mean "until the end".
      const declared = size === 0xffffffff && ds64DataBytes !== undefined ? ds64DataBytes : size;
      const streamed = declared === 0 || declared === 0xffffffff;
      if (!streamed && src.size !== undefined && src.consumed + declared > src.size) {
        throw new InvalidAudioError(
          `WAV data chunk truncated: header says ${fmtNum(declared)} bytes, file has ${fmtNum(src.size - src.consumed)}`,
        );
      }
      return { ...fmt, dataBytes: streamed ? undefined : declared };
    }
    const padded = size + (size & 1);
    if (id === 'ds64' && magic === 'RF64' && size >= 16 && size <= 1024) {
      const body = (yield { read: padded }) as Buffer;
      if (body.length < size) {
        throw new InvalidAudioError(`RF64 ds64 chunk truncated: header says ${size} bytes, ${src.size === undefined ? 'input ended after' : 'file has'} ${body.length}`);
      }
      const n = Number(body.readBigUInt64LE(8));
      if (n > Number.MAX_SAFE_INTEGER) throw new InvalidAudioError(`RF64 ds64 chunk says the data is ${n} bytes; that is not a valid size`);
      ds64DataBytes = n;
      continue;
    }
    if (id === 'fmt ') {
      if (size > 1024) throw new InvalidAudioError(`WAV fmt chunk is ${fmtNum(size)} bytes; that is not a valid fmt chunk`);
      const body = (yield { read: padded }) as Buffer;
      if (body.length < size) {
        throw new InvalidAudioError(`WAV fmt chunk truncated: header says ${size} bytes, ${src.size === undefined ? 'input ended after' : 'file has'} ${body.length}`);
      }
      fmt = parseFmtChunk(body.subarray(0, size));
      continue;
    }
    if (src.size !== undefined && src.consumed + size > src.size) {
      throw new InvalidAudioError(
        `WAV ${JSON.stringify(id)} chunk truncated: header says ${fmtNum(size)} bytes, file has ${fmtNum(src.size - src.consumed)}`,
      );
    }
    const skipped = (yield { skip: padded }) as number;
    if (skipped < size) {
      throw new InvalidAudioError(`WAV ${JSON.stringify(id)} chunk truncated: header says ${fmtNum(size)} bytes, input ended after ${fmtNum(skipped)}`);
    }
  }
}

/** Reads RIFF/WAVE headers from a byte source up to the start of the data chunk. */
async function readWavHeader(src: ByteSource): Promise<AudioFormatInfo> {
  const walk = wavHeaderWalk(src);
  let step = walk.next();
  while (!step.done) {
    const q = step.value;
    step = walk.next('read' in q ? await src.read(q.read) : await src.skip(q.skip));
  }
  return step.value;
}

/** The header of a WAV held whole in memory, and where its data starts. */
function parseWavHeader(bytes: Buffer): { format: AudioFormatInfo; dataOffset: number } {
  let pos = 0;
  const walk = wavHeaderWalk({ size: bytes.length, get consumed() { return pos; } });
  let step = walk.next();
  while (!step.done) {
    const q = step.value;
    const n = Math.min('read' in q ? q.read : q.skip, bytes.length - pos);
    const start = pos;
    pos += n;
    step = walk.next('read' in q ? bytes.subarray(start, pos) : n);
  }
  return { format: step.value, dataOffset: pos };
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
