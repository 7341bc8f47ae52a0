/**
 * The on-disk format of a live spool: its file names, the WAV header of the audio, the journal and
 * the commit log (and the one reader of that log).
 * @module
 */
import { constants as fsc } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { InvalidArgumentError } from '../errors/index.js';
import { liveSampleRateProblem } from '../audio/index.js';

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

/** One line of the spool's commit log (`commits.jsonl`): words committed at once, and the frontier after them. */
export interface CommitRecord {
  /** Commit frontier (seconds) after this commit; nothing before it is decoded again. */
  readonly frontier: number;
  /** PCM byte up to which audio had been decoded when this commit was made. */
  readonly processedByte: number;
  /** The words, `[word, start, end, speaker?]`, on the recording's timeline. */
  readonly words: readonly (readonly [string, number, number] | readonly [string, number, number, string])[];
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
interface ParsedCommitLog {
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

/** The canonical 44-byte WAV header of `dataBytes` of 16-bit PCM. @internal */
export function wavHeader(sampleRate: number, channels: number, dataBytes: number): Buffer {
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

/** Checks a spool's sample format (the live limits); throws InvalidArgumentError. @internal */
export function validateFormat(sampleRate: unknown, channels: unknown): void {
  const rateProblem = liveSampleRateProblem(sampleRate, '`sampleRate`');
  if (rateProblem !== undefined) throw new InvalidArgumentError(rateProblem);
  if (typeof channels !== 'number' || !Number.isInteger(channels) || channels < 1 || channels > 32) {
    throw new InvalidArgumentError(`\`channels\` must be a whole number in [1, 32], got ${String(channels)}`);
  }
}

/** fsyncs a folder (after a rename in it), where the file system can. @internal */
export async function fsyncDir(dir: string): Promise<void> {
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
