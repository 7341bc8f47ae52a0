import { constants as fsc } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, InvalidAudioError } from '../errors/index.js';
import { liveSampleRateProblem } from '../audio/limits.js';
import { definedOnly } from '../internal/options.js';
import { spoolError } from './spool-errors.js';
import { lockSpool, type SpoolLock } from './spool-lock.js';

/** Name of the spooled audio file inside a spool folder (a WAV file whose header is patched as it grows). */
export const SPOOL_AUDIO_FILE = 'audio.wav';
/** Name of the journal inside a spool folder. */
export const SPOOL_JOURNAL_FILE = 'journal.json';
/** Name of the append-only commit log (one JSON line per commit of live words). */
export const SPOOL_COMMITS_FILE = 'commits.jsonl';

/** Bytes of the canonical WAV header that precedes the PCM in {@link SPOOL_AUDIO_FILE}. */
export const WAV_HEADER_BYTES = 44;

/**
 * The spool's journal: a small JSON file, replaced atomically (temp file, fsync, rename, fsync of
 * the folder), that says how far the audio and the live transcript have durably got.
 */
export interface SpoolJournal {
  /** Journal format version. */
  readonly version: 1;
  /** Sample format of the spooled PCM. */
  readonly format: 'pcm16';
  /** Samples per second per channel. */
  readonly sampleRate: number;
  /** Interleaved channels. */
  readonly channels: number;
  /** PCM bytes (after the WAV header) known to be on disk (fsync'd). Always a whole number of frames. */
  readonly bytesDurable: number;
  /** PCM byte up to which the live processor has decoded audio. */
  readonly lastProcessedByte: number;
  /** Seconds up to which live words are committed (the commit frontier). */
  readonly committedUntilSec: number;
  /** Committed words so far (the lines of {@link SPOOL_COMMITS_FILE} hold them). */
  readonly emittedWords: number;
  /** Ticks run so far. */
  readonly ticks: number;
  /** Whether `stop()` completed (the spool holds a finished recording). */
  readonly finalized: boolean;
}

/** One line of {@link SPOOL_COMMITS_FILE}: words committed at once, and the frontier after them. */
export interface CommitRecord {
  /** Commit frontier (seconds) after this commit; nothing before it is decoded again. */
  readonly frontier: number;
  /** PCM byte up to which audio had been decoded when this commit was made. */
  readonly processedByte: number;
  /** The words, `[word, start, end, speaker?]`, on the recording's timeline. */
  readonly words: readonly (readonly [string, number, number] | readonly [string, number, number, string])[];
}

/** Options of {@link PcmSpool.create}. */
export interface PcmSpoolOptions {
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
 * Something {@link PcmSpool.open} could not recover and dropped, so that the rest could be: the
 * session goes on from what is consistent, and this says what was lost.
 */
export interface SpoolRecoveryWarning {
  /** Discriminator. */
  readonly type: 'recovery';
  /**
   * `audio-truncated`: the audio file is shorter than the journal says was made durable (the
   * journal was cut back to the audio on disk); `bad-commit-lines`: lines of the commit log that
   * are not commit records were skipped; `commits-beyond-audio`: commits of words after the end
   * of the audio on disk were dropped.
   */
  readonly kind: 'audio-truncated' | 'bad-commit-lines' | 'commits-beyond-audio';
  /** What was dropped, in words. */
  readonly message: string;
  /** Seconds of audio (or of committed words) that were lost. */
  readonly droppedSec?: number | undefined;
  /** 1-based line numbers of the commit log that were skipped or dropped. */
  readonly lines?: readonly number[] | undefined;
}

/** What {@link PcmSpool.open} found and repaired. */
export interface SpoolRecovery {
  /** PCM bytes found in the audio file (after trimming a torn last frame). */
  readonly audioBytes: number;
  /** Bytes of a torn last frame that were cut off. */
  readonly tornAudioBytes: number;
  /** Commit records read back (complete, valid lines). */
  readonly commits: readonly CommitRecord[];
  /** Bytes of a torn last line of the commit log that were cut off. */
  readonly tornCommitBytes: number;
  /** What could not be recovered and was dropped (empty when everything was consistent). */
  readonly warnings: readonly SpoolRecoveryWarning[];
}

/** Whether `v` is a well-formed {@link CommitRecord}. */
function isCommitRecord(v: unknown): v is CommitRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<CommitRecord>;
  return (
    typeof r.frontier === 'number' &&
    Number.isFinite(r.frontier) &&
    typeof r.processedByte === 'number' &&
    Number.isFinite(r.processedByte) &&
    Array.isArray(r.words) &&
    r.words.every(
      (w) =>
        Array.isArray(w) &&
        (w.length === 3 || w.length === 4) &&
        typeof w[0] === 'string' &&
        typeof w[1] === 'number' &&
        Number.isFinite(w[1]) &&
        typeof w[2] === 'number' &&
        Number.isFinite(w[2]) &&
        (w.length === 3 || typeof w[3] === 'string'),
    )
  );
}

/** A commit log read back: the valid records, the lines that were not, and a torn tail. */
export interface ParsedCommitLog {
  /** Valid records, in order, with their 1-based line numbers. */
  readonly records: readonly { readonly line: number; readonly record: CommitRecord }[];
  /** 1-based numbers of complete lines that are not commit records (garbage, `null`, bad words). */
  readonly badLines: readonly number[];
  /** Bytes after the last newline (a line torn by a crash). */
  readonly tornBytes: number;
}

/** Parses the text of {@link SPOOL_COMMITS_FILE}; never throws. The one reader of the log. */
export function parseCommitLog(text: string): ParsedCommitLog {
  const records: { line: number; record: CommitRecord }[] = [];
  const badLines: number[] = [];
  const end = text.lastIndexOf('\n') + 1;
  const lines = text.slice(0, end).split('\n');
  lines.pop();
  lines.forEach((l, i) => {
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch {
      v = undefined;
    }
    if (isCommitRecord(v)) records.push({ line: i + 1, record: v });
    else badLines.push(i + 1);
  });
  return { records, badLines, tornBytes: Buffer.byteLength(text.slice(end)) };
}

function wavHeader(sampleRate: number, channels: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  const size = Math.min(dataBytes, 0xffffffff - 36);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + size, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(size, 40);
  return h;
}

function validateFormat(sampleRate: unknown, channels: unknown): void {
  const rateProblem = liveSampleRateProblem(sampleRate, '`sampleRate`');
  if (rateProblem !== undefined) throw new InvalidArgumentError(rateProblem);
  if (typeof channels !== 'number' || !Number.isInteger(channels) || channels < 1 || channels > 32) {
    throw new InvalidArgumentError(`\`channels\` must be a whole number in [1, 32], got ${String(channels)}`);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, fsc.O_RDONLY);
    await fh.sync();
  } catch {
    // Some file systems can't fsync a folder; the rename is still atomic there.
  } finally {
    await fh?.close();
  }
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
    let raw: string;
    try {
      raw = await readFile(join(dir, SPOOL_JOURNAL_FILE), 'utf8');
    } catch (e) {
      throw new InvalidArgumentError(`\`spoolDir\` ${dir} holds no spool journal (${SPOOL_JOURNAL_FILE})`, { cause: e });
    }
    let journal: SpoolJournal;
    try {
      journal = JSON.parse(raw) as SpoolJournal;
    } catch (e) {
      throw new InvalidAudioError(`The spool journal ${join(dir, SPOOL_JOURNAL_FILE)} is not valid JSON`, { cause: e });
    }
    if (typeof journal !== 'object' || journal === null || journal.version !== 1 || journal.format !== 'pcm16') {
      throw new InvalidAudioError(`The spool journal in ${dir} has an unknown version or format`);
    }
    validateFormat(journal.sampleRate, journal.channels);
    const lock = await lockSpool(dir);
    let fh: FileHandle | undefined;
    let commitsFh: FileHandle | undefined;
    try {
      await rm(join(dir, `${SPOOL_JOURNAL_FILE}.tmp`), { force: true });
      const warnings: SpoolRecoveryWarning[] = [];
      const frameBytes = 2 * journal.channels;
      const bytesPerSec = journal.sampleRate * frameBytes;
      const audioPath = join(dir, SPOOL_AUDIO_FILE);
      fh = await open(audioPath, 'r+').catch((e: unknown) => {
        throw spoolError(e, 'open the spool audio', audioPath);
      });
      const size = (await fh.stat()).size;
      const pcm = Math.max(0, size - WAV_HEADER_BYTES);
      const whole = pcm - (pcm % frameBytes);
      if (whole !== pcm) await fh.truncate(WAV_HEADER_BYTES + whole);
      const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
      let fixed: SpoolJournal = {
        ...journal,
        lastProcessedByte: Math.min(num(journal.lastProcessedByte), whole),
        committedUntilSec: num(journal.committedUntilSec),
        emittedWords: num(journal.emittedWords),
        ticks: num(journal.ticks),
        finalized: false,
      };
      if (whole < num(journal.bytesDurable)) {
        const lost = (num(journal.bytesDurable) - whole) / bytesPerSec;
        warnings.push({
          type: 'recovery',
          kind: 'audio-truncated',
          droppedSec: lost,
          message: `The spool audio is ${lost.toFixed(2)} s shorter than its journal says was made durable; the session continues from the ${(whole / bytesPerSec).toFixed(2)} s on disk`,
        });
        fixed = { ...fixed, committedUntilSec: Math.min(fixed.committedUntilSec, whole / bytesPerSec) };
      }

      const commitsPath = join(dir, SPOOL_COMMITS_FILE);
      const text = await readFile(commitsPath, 'utf8').catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
        throw spoolError(e, 'read the commit log', commitsPath);
      });
      const log = parseCommitLog(text);
      if (log.badLines.length > 0) {
        warnings.push({
          type: 'recovery',
          kind: 'bad-commit-lines',
          lines: log.badLines,
          message: `Skipped ${log.badLines.length} line(s) of the commit log that are not commit records (line ${log.badLines.slice(0, 10).join(', ')}${log.badLines.length > 10 ? ', …' : ''})`,
        });
      }
      // Words are committed only from decoded audio: a commit past the audio on disk can't stand.
      const endSec = whole / bytesPerSec;
      const kept = log.records.filter((r) => r.record.processedByte <= whole);
      const beyond = log.records.filter((r) => r.record.processedByte > whole);
      if (beyond.length > 0) {
        const words = beyond.reduce((n, r) => n + r.record.words.length, 0);
        warnings.push({
          type: 'recovery',
          kind: 'commits-beyond-audio',
          lines: beyond.map((r) => r.line),
          droppedSec: Math.max(0, (beyond.at(-1)?.record.frontier ?? endSec) - endSec),
          message: `Dropped ${beyond.length} commit(s) (${words} words) made from audio that is no longer on disk`,
        });
      }
      const commits = kept.map((r) => r.record);
      if (log.badLines.length > 0 || beyond.length > 0) {
        // Rewrite the log with the records kept (atomically), so later readers agree.
        const tmp = `${commitsPath}.tmp`;
        const t = await open(tmp, 'w');
        try {
          await t.writeFile(commits.map((c) => `${JSON.stringify(c)}\n`).join(''));
          await t.sync();
        } finally {
          await t.close();
        }
        await rename(tmp, commitsPath);
      }
      commitsFh = await open(commitsPath, 'a+');
      if (log.tornBytes > 0 && log.badLines.length === 0 && beyond.length === 0) {
        await commitsFh.truncate(Buffer.byteLength(text) - log.tornBytes);
      }
      const spool = new PcmSpool(dir, fixed, fh, commitsFh, whole, fsyncEverySec, lock);
      await fh.sync();
      await commitsFh.sync();
      await spool.writeJournal({});
      return { spool, recovery: { audioBytes: whole, tornAudioBytes: pcm - whole, commits, tornCommitBytes: log.tornBytes, warnings } };
    } catch (e) {
      await fh?.close().catch(() => undefined);
      await commitsFh?.close().catch(() => undefined);
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
