import { type FileHandle, open } from 'node:fs/promises';
import { ASRError, InvalidAudioError, throwIfAborted, toAbortError } from '../errors/index.js';

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
export class ByteSource {
  #pending: Buffer = Buffer.alloc(0);
  #done = false;
  #closed = false;
  /** A `next()` of the source has not settled (only after an abort cut it short). */
  #inflight = false;
  /** Bytes consumed from the start of the input. */
  consumed = 0;

  readonly #it: AsyncIterator<Uint8Array>;
  readonly #closer: () => Promise<void>;
  readonly #signal: AbortSignal | undefined;
  /** Total size when known. */
  readonly size: number | undefined;

  /**
   * @param it - the source's chunks.
   * @param closer - releases the source (closes the file, destroys the stream).
   * @param size - total size when known.
   * @param signal - cancels reads.
   */
  constructor(it: AsyncIterator<Uint8Array>, closer: () => Promise<void>, size: number | undefined, signal: AbortSignal | undefined) {
    this.#it = it;
    this.#closer = closer;
    this.size = size;
    this.#signal = signal;
  }

  async #next(): Promise<IteratorResult<Uint8Array>> {
    throwIfAborted(this.#signal);
    try {
      const p = this.#it.next();
      if (!this.#signal) return await p;
      // A source that never yields must not outlive an abort: race it, and track (and catch)
      // the pending read so close() knows not to wait on it.
      this.#inflight = true;
      p.then(
        () => (this.#inflight = false),
        () => (this.#inflight = false),
      );
      const abort = abortPromise(this.#signal);
      try {
        return await Promise.race([p, abort.promise]);
      } finally {
        abort.off();
      }
    } catch (e) {
      this.#done = true;
      throw sourceError(e, this.#signal);
    }
  }

  async #fill(n: number): Promise<void> {
    if (this.#pending.length >= n || this.#done) return;
    const parts: Buffer[] = this.#pending.length ? [this.#pending] : [];
    let have = this.#pending.length;
    while (have < n) {
      const r = await this.#next();
      if (r.done) {
        this.#done = true;
        break;
      }
      const chunk: unknown = r.value;
      if (!(chunk instanceof Uint8Array)) {
        this.#done = true;
        throw new InvalidAudioError(
          `Audio stream yielded ${typeof chunk === 'string' ? 'a string' : typeof chunk}; expected Buffer / Uint8Array chunks (don't set an encoding on the stream)`,
        );
      }
      if (chunk.byteLength === 0) continue;
      parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      have += chunk.byteLength;
    }
    this.#pending = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
  }

  /** Reads up to `n` bytes (fewer only at end of input). */
  async read(n: number): Promise<Buffer> {
    await this.#fill(n);
    const take = Math.min(n, this.#pending.length);
    const out = this.#pending.subarray(0, take);
    this.#pending = this.#pending.subarray(take);
    this.consumed += take;
    return out;
  }

  /** Reads whatever is buffered, or the next source chunk, up to `max` bytes; empty at end. */
  async readSome(max: number): Promise<Buffer> {
    if (this.#pending.length === 0) await this.#fill(1);
    return this.read(Math.min(max, this.#pending.length));
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

  /** Ends reading and releases the source (even while a read is pending). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#done = true;
    this.#pending = Buffer.alloc(0);
    if (this.#inflight) {
      // A read is still pending (aborted while the source hung): an async generator would queue
      // return() behind it forever, so release the resource first and don't wait for return().
      await this.#closer().catch(() => {});
      Promise.resolve()
        .then(() => this.#it.return?.())
        .catch(() => {});
      return;
    }
    try {
      await this.#it.return?.();
    } catch {
      // A source failing while being closed has nothing more to tell the caller.
    } finally {
      await this.#closer();
    }
  }
}

/** Largest single read from a file: memory stays bounded however long the file is. */
const FILE_CHUNK = 1024 * 1024;

/**
 * A regular file as a {@link ByteSource}: read with a `FileHandle` in pieces of at most
 * {@link FILE_CHUNK} (one read for a small file), closed by the source's `close()`.
 * @throws InvalidAudioError when the file is missing, not a regular file, or can't be read.
 */
export async function openFile(path: string, signal: AbortSignal | undefined): Promise<ByteSource> {
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

