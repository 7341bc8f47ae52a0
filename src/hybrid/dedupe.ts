import { normalizeWord } from '../metrics/index.js';
import type { Segment, Word } from '../spec/index.js';

/** Words after a switch that repeat the last committed words are dropped when they start this close to the replay point. */
const OVERLAP_WINDOW_SEC = 1.5;
/** How many committed words are remembered for the comparison. */
const TAIL_WORDS = 8;
/** Most words an overlap may repeat. */
const MAX_OVERLAP = 4;

/**
 * The words of a stream that moved to another backend: the new backend hears again the audio after
 * the last final, so its first segments may repeat what was already committed. Keeps the end of the
 * committed audio and its last words, and drops what is heard twice.
 * @internal
 */
export class OverlapDedupe {
  #lastWords: string[] = [];
  #cutoffSec = 0;
  #dedupeUntil = -1;

  /** End of the last accepted final on the stream's timeline, seconds. */
  get cutoffSec(): number {
    return this.#cutoffSec;
  }

  /** After a switch: leading repeats of the committed tail are dropped from segments starting within the overlap window. */
  armAfterSwitch(): void {
    this.#dedupeUntil = this.#cutoffSec + OVERLAP_WINDOW_SEC;
  }

  /**
   * A final segment (on the stream's timeline) without what was already committed, or undefined
   * when nothing is left; what is returned counts as committed.
   */
  accept(seg: Segment): Segment | undefined {
    const kept = dedupe(seg, this.#cutoffSec, this.#lastWords, this.#dedupeUntil);
    if (kept === undefined) return undefined;
    this.#cutoffSec = Math.max(this.#cutoffSec, kept.end);
    this.#lastWords = [...this.#lastWords, ...wordsOf(kept)].slice(-TAIL_WORDS);
    return kept;
  }
}

function wordsOf(seg: Segment): string[] {
  const ws = seg.words.length > 0 ? seg.words.map((w) => w.word) : seg.text.split(/\s+/);
  return ws.map(normalizeWord).filter((w) => w !== '');
}

/**
 * Drops what a new backend heard again in the overlap: words ending at or before `cutoff` (already
 * committed), and, for segments starting before `dedupeUntil`, leading words that repeat the tail of
 * the committed words. Returns undefined when nothing is left.
 */
function dedupe(seg: Segment, cutoff: number, lastWords: readonly string[], dedupeUntil: number): Segment | undefined {
  let words: Word[] = [...seg.words];
  if (words.length === 0) {
    if (seg.end <= cutoff + 1e-6 && cutoff > 0) return undefined;
    if (seg.start < dedupeUntil) {
      const tokens = seg.text.split(/\s+/).filter((t) => t !== '');
      const k = overlapLength(lastWords, tokens.map(normalizeWord));
      if (k > 0) {
        const text = tokens.slice(k).join(' ');
        return text === '' ? undefined : { ...seg, text };
      }
    }
    return seg;
  }
  words = words.filter((w) => w.end > cutoff + 1e-6 || cutoff === 0);
  if (words.length > 0 && words[0]!.start < dedupeUntil) {
    const k = overlapLength(lastWords, words.map((w) => normalizeWord(w.word)));
    if (k > 0) words = words.slice(k);
  }
  if (words.length === 0) return undefined;
  if (words.length === seg.words.length) return seg;
  return {
    ...seg,
    start: Math.max(seg.start, words[0]!.start),
    text: words.map((w) => w.word).join(' '),
    words,
  };
}

/** Longest k such that the last k of `tail` equal the first k of `head` (k ≤ {@link MAX_OVERLAP}). */
function overlapLength(tail: readonly string[], head: readonly string[]): number {
  for (let k = Math.min(MAX_OVERLAP, tail.length, head.length); k > 0; k--) {
    let ok = true;
    for (let i = 0; i < k; i++) if (tail[tail.length - k + i] !== head[i]) ok = false;
    if (ok) return k;
  }
  return 0;
}
