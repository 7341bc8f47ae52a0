import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors/index.js';
import type { Segment, Word } from '../spec/index.js';
import { parseCommitLog, SPOOL_COMMITS_FILE, type CommitRecord } from './spool-format.js';

/** Gap (seconds) between committed words that starts a new `final` segment. @internal */
export const SEGMENT_GAP_SEC = 0.8;

/** Seconds rounded to the millisecond, as events and the commit log carry them. @internal */
export const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Reads the words committed live from a spool's commit log (a torn last line is ignored). */
export async function readCommittedWords(spoolDir: string): Promise<Word[]> {
  const text = await readFile(join(spoolDir, SPOOL_COMMITS_FILE), 'utf8').catch((e: unknown) => {
    throw new InvalidArgumentError(`\`spoolDir\` ${spoolDir} has no commit log`, { cause: e });
  });
  // The same reader as recovery: lines that are not commit records are skipped, a torn tail ignored.
  return parseCommitLog(text).records.flatMap((r) => r.record.words.map(recordToWord));
}

/** One word of a commit record as a {@link Word}. @internal */
export function recordToWord(w: CommitRecord['words'][number]): Word {
  const base: Word = { word: w[0], start: w[1], end: w[2] };
  return w.length > 3 ? { ...base, speaker: (w as readonly [string, number, number, string])[3] } : base;
}

/** Groups committed words into `final` segments at pauses and speaker changes. @internal */
export function toSegments(words: readonly Word[]): Segment[] {
  const out: Segment[] = [];
  let cur: Word[] = [];
  const flush = (): void => {
    if (cur.length === 0) return;
    const sp = cur[0]!.speaker;
    const seg: Segment = {
      start: cur[0]!.start,
      end: cur[cur.length - 1]!.end,
      text: cur.map((w) => w.word).join(' '),
      words: cur,
    };
    out.push(sp === undefined ? seg : { ...seg, speaker: sp });
    cur = [];
  };
  for (const w of words) {
    const prev = cur[cur.length - 1];
    if (prev && (w.start - prev.end >= SEGMENT_GAP_SEC || w.speaker !== prev.speaker)) flush();
    cur.push(w);
  }
  flush();
  return out;
}
