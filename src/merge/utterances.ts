/**
 * Words grouped into utterances: {@link groupUtterances}.
 * @module
 */
import { InvalidArgumentError } from '../errors/index.js';
import type { Segment, Word } from '../spec/index.js';
import { checkArray, checkNonNegative, checkOptions, checkSpan, GROUP_DEFAULTS, type GroupUtterancesOptions } from './options.js';

/**
 * Groups words into utterances: a new one starts when the speaker changes, when the pause since
 * the previous word exceeds `gapThreshold`, or when the utterance would exceed `maxSegmentSec`.
 * Words are taken in time order (sorted by start, stably, when they are not).
 *
 * @param words - words, usually from {@link assignSpeakers}.
 * @param options - see {@link GroupUtterancesOptions}.
 * @returns segments whose text is their words joined by single spaces, with `speaker` when the
 *   words have one.
 * @throws InvalidArgumentError for a word without finite `start` <= `end`, or a bad option.
 */
export function groupUtterances(words: readonly Word[], options?: GroupUtterancesOptions): Segment[] {
  const o = { ...GROUP_DEFAULTS, ...checkOptions(options, 'options') };
  const gap = checkNonNegative('gapThreshold', o.gapThreshold, true);
  const maxLen = checkNonNegative('maxSegmentSec', o.maxSegmentSec, true);
  if (!(maxLen > 0)) throw new InvalidArgumentError(`\`maxSegmentSec\` must be a number > 0, got ${maxLen}`);
  checkArray('words', words);
  words.forEach((w, i) => checkSpan('words', i, w?.start, w?.end));
  let ordered = words;
  for (let i = 1; i < words.length; i++) {
    if (words[i]!.start < words[i - 1]!.start) {
      ordered = words.map((w, j) => ({ w, j })).sort((a, b) => a.w.start - b.w.start || a.j - b.j).map((x) => x.w);
      break;
    }
  }
  const out: Segment[] = [];
  let cur: Word[] = [];
  let curEnd = -Infinity;
  const flush = (): void => {
    if (cur.length === 0) return;
    out.push(makeSegment(cur));
    cur = [];
  };
  for (const w of ordered) {
    const first = cur[0];
    if (
      first !== undefined &&
      (w.speaker !== first.speaker || w.start - curEnd > gap || Math.max(curEnd, w.end) - first.start > maxLen)
    ) {
      flush();
    }
    if (cur.length === 0) curEnd = w.end;
    cur.push(w);
    curEnd = Math.max(curEnd, w.end);
  }
  flush();
  return out;
}

/** A segment of `words` (in order): their span, text joined by spaces, the first word's speaker. @internal */
export function makeSegment(words: readonly Word[], extra?: { confidence?: number | undefined }): Segment {
  const first = words[0]!;
  let end = first.end;
  for (const w of words) end = Math.max(end, w.end);
  const seg: { -readonly [K in keyof Segment]: Segment[K] } = {
    start: first.start,
    end,
    text: words.map((w) => w.word).join(' '),
    words: [...words],
  };
  if (extra?.confidence !== undefined) seg.confidence = extra.confidence;
  if (first.speaker !== undefined) seg.speaker = first.speaker;
  return seg;
}

