import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { InvalidAudioError } from '../errors/index.js';
import { type AudioFormatInfo, framesToMono } from './wav.js';
import { isCompleteRiff, parseWavHeader } from './wav-header.js';

/** Complete WAV files up to this size are read and decoded in one synchronous pass. */
const SMALL_FILE = 1024 * 1024;

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

