import { mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors/index.js';
import { definedOnly } from '../internal/options.js';
import { spoolError } from './spool-errors.js';
import { lockSpool, type SpoolLock } from './spool-lock.js';
import { fsyncDir, SPOOL_AUDIO_FILE, SPOOL_COMMITS_FILE, SPOOL_JOURNAL_FILE, validateFormat, WAV_HEADER_BYTES, wavHeader, type CommitRecord, type SpoolJournal } from './spool-format.js';
import { readSpoolJournal, repairSpool, type RepairedFiles, type SpoolRecovery } from './spool-recovery.js';

/** Options of {@link PcmSpool.create}. */
interface PcmSpoolOptions {
  /** Folder that holds the spool (created if missing; must not already hold a spool). */
  readonly dir: string;
  /** Samples per second per channel of the PCM that will be appended. */
  readonly sampleRate: number;
  /**
   * Interleaved channels.
   * @defaultValue 1
   */
  readonly channels?: number | undefined;
  /**
   * fsync the audio file whenever this many seconds of audio arrived since the last fsync.
   * @defaultValue 5
   */
  readonly fsyncEverySec?: number | undefined;
}

/**
 * An append-only PCM spool on disk: audio is written to a WAV file as it arrives (memory stays
 * bounded), fsync'd every few seconds of audio and at every journal write; a journal and a commit
 * log beside it make the live transcript survive a crash or `kill -9`.
 *
 * @example
 * ```ts
 * const spool = await PcmSpool.create({ dir: '/tmp/meeting', sampleRate: 16000 });
 * await spool.append(pcmBytes);
 * const window = await spool.read(0, spool.bytesWritten);
 * await spool.close();
 * ```
 */
export class PcmSpool {
  /** The spool folder. */
  readonly dir: string;
  /** Samples per second per channel. */
  readonly sampleRate: number;
  /** Interleaved channels. */
  readonly channels: number;
  /** Bytes per frame (all channels of one sample instant). */
  readonly frameBytes: number;
  /** PCM bytes per second of audio. */
  readonly bytesPerSec: number;
  readonly #fsyncEveryBytes: number;
  #fh: FileHandle | undefined;
  #written: number;
  #durable: number;
  #carry: Buffer = Buffer.alloc(0);
  #journal: SpoolJournal;
  #commitsFh: FileHandle | undefined;
  #writeChain: Promise<void> = Promise.resolve();
  #journalChain: Promise<unknown> = Promise.resolve();
  readonly #lock: SpoolLock;

  private constructor(dir: string, journal: SpoolJournal, fh: FileHandle, commitsFh: FileHandle, written: number, fsyncEverySec: number, lock: SpoolLock) {
    this.#lock = lock;
    this.dir = dir;
    this.sampleRate = journal.sampleRate;
    this.channels = journal.channels;
    this.frameBytes = 2 * journal.channels;
    this.bytesPerSec = journal.sampleRate * this.frameBytes;
    this.#fsyncEveryBytes = Math.max(this.frameBytes, Math.round(fsyncEverySec * this.bytesPerSec));
    this.#fh = fh;
    this.#commitsFh = commitsFh;
    this.#written = written;
    this.#durable = written;
    this.#journal = journal;
  }

  /** Path of the spooled WAV file (readable by any `transcribe()` once the header is patched). */
  get audioPath(): string {
    return join(this.dir, SPOOL_AUDIO_FILE);
  }

  /** PCM bytes appended so far (whole frames only; a partial frame waits for its rest). */
  get bytesWritten(): number {
    return this.#written;
  }

  /** PCM bytes known to be on disk. */
  get bytesDurable(): number {
    return this.#durable;
  }

  /** Seconds of audio appended so far. */
  get durationSec(): number {
    return this.#written / this.bytesPerSec;
  }

  /** The journal as last written. */
  get lastJournal(): SpoolJournal {
    return this.#journal;
  }

  /** Creates a new spool in `options.dir`; throws when the folder already holds one. */
  static async create(options: PcmSpoolOptions): Promise<PcmSpool> {
    const o = { channels: 1, fsyncEverySec: 5, ...definedOnly(options) };
    if (typeof o.dir !== 'string' || o.dir === '') throw new InvalidArgumentError('`dir` must be a non-empty path');
    validateFormat(o.sampleRate, o.channels);
    if (!Number.isFinite(o.fsyncEverySec) || o.fsyncEverySec <= 0) {
      throw new InvalidArgumentError(`\`fsyncEverySec\` must be a finite number > 0, got ${o.fsyncEverySec}`);
    }
    await mkdir(o.dir, { recursive: true }).catch((e: unknown) => {
      throw spoolError(e, 'create the spool folder', o.dir);
    });
    const lock = await lockSpool(o.dir);
    let fh: FileHandle | undefined;
    let commitsFh: FileHandle | undefined;
    try {
      const exists = await stat(join(o.dir, SPOOL_JOURNAL_FILE)).then(() => true, () => false);
      if (exists) {
        throw new InvalidArgumentError(`\`spoolDir\` ${o.dir} already holds a spool; recover it or pick an empty folder`);
      }
      fh = await open(join(o.dir, SPOOL_AUDIO_FILE), 'w+').catch((e: unknown) => {
        throw spoolError(e, 'create the spool audio', join(o.dir, SPOOL_AUDIO_FILE));
      });
      await fh.write(wavHeader(o.sampleRate, o.channels, 0), 0, WAV_HEADER_BYTES, 0);
      commitsFh = await open(join(o.dir, SPOOL_COMMITS_FILE), 'w').catch((e: unknown) => {
        throw spoolError(e, 'create the commit log', join(o.dir, SPOOL_COMMITS_FILE));
      });
    } catch (e) {
      await fh?.close();
      await lock.release();
      throw spoolError(e, 'create the spool in', o.dir);
    }
    const journal: SpoolJournal = {
      version: 1,
      format: 'pcm16',
      sampleRate: o.sampleRate,
      channels: o.channels,
      bytesDurable: 0,
      lastProcessedByte: 0,
      committedUntilSec: 0,
      emittedWords: 0,
      ticks: 0,
      finalized: false,
    };
    const spool = new PcmSpool(o.dir, journal, fh, commitsFh, 0, o.fsyncEverySec, lock);
    try {
      await fh.sync();
      await spool.writeJournal({});
      await fsyncDir(o.dir);
    } catch (e) {
      await spool.abandon();
      throw e;
    }
    return spool;
  }

  /**
   * Reopens a spool after a crash, as its one owner (a lock file; a live owner is a
   * {@link SpoolLockedError}, a dead one's lock is taken over). Recovers what is consistent: cuts a
   * torn last audio frame and a torn last commit line, trusts the audio file's length over the
   * journal (bytes the OS had accepted before a `kill -9` are on disk even if never fsync'd), cuts
   * the journal back to the audio on disk when that is shorter, skips commit-log lines that are
   * not commit records and drops commits past the end of the audio — each reported in
   * {@link SpoolRecovery.warnings}.
   * @throws SpoolError when a spool file can't be read or written; InvalidArgumentError when the
   *   folder holds no spool.
   */
  static async open(dir: string, options: { readonly fsyncEverySec?: number | undefined } = {}): Promise<{ spool: PcmSpool; recovery: SpoolRecovery }> {
    const fsyncEverySec = options.fsyncEverySec ?? 5;
    const journal = await readSpoolJournal(dir);
    const lock = await lockSpool(dir);
    const files: RepairedFiles = {};
    try {
      const repaired = await repairSpool(dir, journal, files);
      const { fh, commitsFh } = files as Required<RepairedFiles>;
      const spool = new PcmSpool(dir, repaired.journal, fh, commitsFh, repaired.audioBytes, fsyncEverySec, lock);
      await fh.sync();
      await commitsFh.sync();
      await spool.writeJournal({});
      return { spool, recovery: repaired.recovery };
    } catch (e) {
      await files.fh?.close().catch(() => undefined);
      await files.commitsFh?.close().catch(() => undefined);
      await lock.release();
      throw spoolError(e, 'recover the spool in', dir);
    }
  }

  /**
   * Appends interleaved 16-bit little-endian PCM. A trailing partial frame is held back until its
   * rest arrives, so the file always holds whole frames. Writes are serialised.
   */
  append(pcm: Uint8Array): Promise<void> {
    const p = this.#writeChain.then(() => this.#doAppend(pcm));
    this.#writeChain = p.catch(() => undefined);
    return p;
  }

  async #doAppend(pcm: Uint8Array): Promise<void> {
    const fh = this.#requireOpen();
    let buf = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    if (this.#carry.length > 0) buf = Buffer.concat([this.#carry, buf]);
    const whole = buf.length - (buf.length % this.frameBytes);
    if (whole > 0) {
      try {
        for (let done = 0; done < whole; ) {
          const { bytesWritten } = await fh.write(buf, done, whole - done, WAV_HEADER_BYTES + this.#written + done);
          if (bytesWritten === 0) throw Object.assign(new Error('the write made no progress'), { code: 'ENOSPC' });
          done += bytesWritten;
        }
      } catch (e) {
        // Nothing of this chunk counts; the file keeps whole frames up to `written` (a torn tail is cut on recovery).
        throw spoolError(e, 'write the spool audio', this.audioPath);
      }
    }
    this.#carry = Buffer.from(buf.subarray(whole));
    if (whole === 0) return;
    this.#written += whole;
    if (this.#written - this.#durable >= this.#fsyncEveryBytes) await this.sync();
  }

  /** fsyncs the audio written so far. */
  async sync(): Promise<void> {
    const fh = this.#requireOpen();
    const upTo = this.#written;
    try {
      await fh.sync();
    } catch (e) {
      throw spoolError(e, 'sync the spool audio', this.audioPath);
    }
    this.#durable = Math.max(this.#durable, upTo);
  }

  /** Reads PCM bytes `[start, end)` (clamped to what was written and aligned down to frames). */
  async read(start: number, end: number): Promise<Buffer> {
    const fh = this.#requireOpen();
    const s = Math.max(0, Math.min(this.align(start), this.#written));
    const e = Math.max(s, Math.min(this.align(end), this.#written));
    const buf = Buffer.allocUnsafe(e - s);
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, WAV_HEADER_BYTES + s + off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === buf.length ? buf : buf.subarray(0, off);
  }

  /** Rounds a byte offset down to a frame boundary. */
  align(byte: number): number {
    const b = Math.max(0, Math.floor(byte));
    return b - (b % this.frameBytes);
  }

  /** Byte offset (frame-aligned) of a time in seconds. */
  byteAt(sec: number): number {
    return this.align(Math.round(Math.max(0, sec) * this.sampleRate) * this.frameBytes);
  }

  /** Appends one commit record to the log and fsyncs it (before the journal that counts it). */
  async appendCommit(record: CommitRecord): Promise<void> {
    const fh = this.#commitsFh;
    if (fh === undefined) throw new InvalidArgumentError('The spool is closed');
    try {
      await fh.appendFile(`${JSON.stringify(record)}\n`);
      await fh.sync();
    } catch (e) {
      throw spoolError(e, 'append to the commit log', join(this.dir, SPOOL_COMMITS_FILE));
    }
  }

  /**
   * fsyncs the audio, then replaces the journal atomically (temp file + fsync + rename), merging
   * `patch` into it. Returns the new journal.
   */
  writeJournal(patch: Partial<Omit<SpoolJournal, 'version' | 'format' | 'sampleRate' | 'channels' | 'bytesDurable'>>): Promise<SpoolJournal> {
    // Journal writes are serialised: they share one temp file.
    const p = this.#journalChain.then(() =>
      this.#doWriteJournal(patch).catch((e: unknown) => {
        throw spoolError(e, 'write the spool journal in', this.dir);
      }),
    );
    this.#journalChain = p.catch(() => undefined);
    return p;
  }

  async #doWriteJournal(patch: Partial<SpoolJournal>): Promise<SpoolJournal> {
    await this.#writeChain;
    if (this.#fh !== undefined) {
      // Keep the file a valid WAV at every checkpoint, for readers outside this process.
      await this.#fh.write(wavHeader(this.sampleRate, this.channels, this.#written), 0, WAV_HEADER_BYTES, 0);
      await this.sync();
    }
    const next: SpoolJournal = { ...this.#journal, ...patch, bytesDurable: this.#durable };
    const tmp = join(this.dir, `${SPOOL_JOURNAL_FILE}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(next));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, SPOOL_JOURNAL_FILE));
    this.#journal = next;
    return next;
  }

  /** Patches the WAV header with the current length, so the file is a valid WAV for `transcribe()`. */
  async patchHeader(): Promise<void> {
    await this.#writeChain;
    const fh = this.#requireOpen();
    await fh.write(wavHeader(this.sampleRate, this.channels, this.#written), 0, WAV_HEADER_BYTES, 0);
    await fh.sync();
  }

  /** Patches the header, fsyncs and closes the files, and gives up the spool's lock. Idempotent. */
  async close(): Promise<void> {
    if (this.#fh === undefined) return;
    try {
      await this.patchHeader().catch((e: unknown) => {
        throw spoolError(e, 'finish the spool audio', this.audioPath);
      });
    } finally {
      await this.abandon();
    }
  }

  /** Closes the files as they are (no header patch, no sync) and gives up the lock. Idempotent. */
  async abandon(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close().catch(() => undefined);
    await this.#commitsFh?.close().catch(() => undefined);
    this.#commitsFh = undefined;
    await this.#lock.release();
  }

  #requireOpen(): FileHandle {
    if (this.#fh === undefined) throw new InvalidArgumentError('The spool is closed');
    return this.#fh;
  }
}
