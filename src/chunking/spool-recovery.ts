/**
 * Recovering a spool after a crash: reading its journal back and repairing what a `kill -9` can
 * leave (a torn audio frame, a torn or bad commit line, commits past the audio on disk), each
 * loss reported as a {@link SpoolRecoveryWarning}.
 * @module
 */
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, InvalidAudioError } from '../errors/index.js';
import { spoolError } from './spool-errors.js';
import {
  parseCommitLog,
  SPOOL_AUDIO_FILE,
  SPOOL_COMMITS_FILE,
  SPOOL_JOURNAL_FILE,
  validateFormat,
  WAV_HEADER_BYTES,
  type CommitRecord,
  type SpoolJournal,
} from './spool-format.js';

/**
 * Something `PcmSpool.open()` could not recover and dropped, so that the rest could be: the
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

/** What `PcmSpool.open()` found and repaired. */
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

/**
 * Reads a spool's journal and checks its version and sample format.
 * @throws InvalidArgumentError when the folder holds no spool or the format is out of range;
 *   InvalidAudioError when the journal is not a spool journal.
 * @internal
 */
export async function readSpoolJournal(dir: string): Promise<SpoolJournal> {
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
  return journal;
}

/** The files a repair opened (set as they are opened, so the caller can close them on failure). @internal */
export interface RepairedFiles {
  /** The audio file, opened for reading and writing. */
  fh?: FileHandle;
  /** The commit log, opened for appending. */
  commitsFh?: FileHandle;
}

/**
 * Repairs the spool files of a crashed session (the caller owns the spool's lock): cuts a torn
 * last audio frame and commit line, cuts the journal back to the audio on disk, rewrites the
 * commit log without bad lines and commits past the audio. Opens the audio and the commit log
 * into `files`. Returns the journal to go on from, the PCM bytes on disk and what was found.
 * @internal
 */
export async function repairSpool(
  dir: string,
  journal: SpoolJournal,
  files: RepairedFiles,
): Promise<{ readonly journal: SpoolJournal; readonly audioBytes: number; readonly recovery: SpoolRecovery }> {
  await rm(join(dir, `${SPOOL_JOURNAL_FILE}.tmp`), { force: true });
  const warnings: SpoolRecoveryWarning[] = [];
  const frameBytes = 2 * journal.channels;
  const bytesPerSec = journal.sampleRate * frameBytes;
  const audioPath = join(dir, SPOOL_AUDIO_FILE);
  const fh = await open(audioPath, 'r+').catch((e: unknown) => {
    throw spoolError(e, 'open the spool audio', audioPath);
  });
  files.fh = fh;
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
  const commitsFh = await open(commitsPath, 'a+');
  files.commitsFh = commitsFh;
  if (log.tornBytes > 0 && log.badLines.length === 0 && beyond.length === 0) {
    await commitsFh.truncate(Buffer.byteLength(text) - log.tornBytes);
  }
  return { journal: fixed, audioBytes: whole, recovery: { audioBytes: whole, tornAudioBytes: pcm - whole, commits, tornCommitBytes: log.tornBytes, warnings } };
}
