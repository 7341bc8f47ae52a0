import { InvalidAudioError } from '../errors/index.js';
import type { ByteSource } from './byte-source.js';
import { type AudioFormatInfo, parseFmtChunk } from './wav.js';

/** A byte or sample count as people read it (1,048,576). */
export const fmtNum = (n: number): string => n.toLocaleString('en-US');

/** A WAV whose RIFF size says it is all there (not still being written, not truncated). */
export function isCompleteRiff(bytes: Buffer): boolean {
  const riff = bytes.length >= 8 ? bytes.readUInt32LE(4) : 0;
  return riff > 0 && riff !== 0xffffffff && riff + 8 <= bytes.length;
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
export async function readWavHeader(src: ByteSource): Promise<AudioFormatInfo> {
  const walk = wavHeaderWalk(src);
  let step = walk.next();
  while (!step.done) {
    const q = step.value;
    step = walk.next('read' in q ? await src.read(q.read) : await src.skip(q.skip));
  }
  return step.value;
}

/** The header of a WAV held whole in memory, and where its data starts. */
export function parseWavHeader(bytes: Buffer): { format: AudioFormatInfo; dataOffset: number } {
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

