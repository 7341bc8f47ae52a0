import type { Word } from '../spec/index.js';

import { normalizeWord as norm } from '../metrics/index.js';
/** Settings of {@link decideCommit}. */
export interface CommitPolicyOptions {
  /** The newest seconds of a window stay provisional (revisable) until the next tick. */
  readonly provisionalSec: number;
  /** A gap between words at least this long is a pause where the transcript may be cut. */
  readonly minPauseSec: number;
  /** Longest uncommitted tail allowed after a commit; beyond it words are committed by force. */
  readonly maxTailSec: number;
  /** Two hypotheses agree on a word when the texts match and the starts differ by at most this. */
  readonly agreeToleranceSec: number;
}

/** What {@link decideCommit} looks at: one window's words and the previous tick's provisional words. */
interface CommitInput {
  /** The window's words on the recording's timeline, in order, all starting at or after `frontier`. */
  readonly words: readonly Word[];
  /** Provisional words of the previous tick (after the same frontier), for agreement. */
  readonly previous: readonly Word[];
  /** Commit frontier before this window: everything before it is committed. */
  readonly frontier: number;
  /** End of the window (seconds on the recording's timeline). */
  readonly windowEnd: number;
  /** Last window of the recording: commit everything. */
  readonly final: boolean;
  /** Finds the quietest instant in `[from, to]` (a cut point inside a pause); midpoint when absent. */
  readonly quietest?: (from: number, to: number) => number;
}

/** How a commit was decided. */
type CommitReason = 'final' | 'pause' | 'agreement' | 'forced' | 'silence' | 'none';

/** Outcome of {@link decideCommit}. */
interface CommitDecision {
  /** Words to commit now (each exactly once: they all lie before `frontier`). */
  readonly commit: readonly Word[];
  /** Words still revisable: they are decoded again next tick. */
  readonly provisional: readonly Word[];
  /** New commit frontier: the next window starts here; no committed word reaches past it. */
  readonly frontier: number;
  /** Which rule decided. */
  readonly reason: CommitReason;
}


/**
 * Cleans a window's words: drops empty ones, clamps them to start at or after `frontier`, sorts by
 * start and trims each end to the next word's start, so times never overlap.
 */
export function sanitizeWords(words: readonly Word[], frontier: number, windowEnd: number): Word[] {
  const ws = words
    .filter((w) => norm(w.word) !== '' && Number.isFinite(w.start) && Number.isFinite(w.end))
    .filter((w) => (w.start + w.end) / 2 >= frontier)
    .map((w) => ({ ...w, start: Math.max(w.start, frontier), end: Math.min(Math.max(w.end, w.start, frontier), windowEnd) }))
    .sort((a, b) => a.start - b.start);
  for (let i = 0; i + 1 < ws.length; i++) {
    const w = ws[i]!;
    const next = ws[i + 1]!;
    if (w.end > next.start) ws[i] = { ...w, end: Math.max(w.start, next.start) };
  }
  return ws;
}

/**
 * Decides which words of a window to commit (time-anchored at pauses, then LocalAgreement with the
 * previous tick's hypothesis, then by force when the uncommitted tail grows too long) and where the
 * next window starts. Committed words all end at or before the new frontier and the next window
 * starts exactly there, so nothing is committed twice and nothing between windows is skipped.
 */
export function decideCommit(input: CommitInput, o: CommitPolicyOptions): CommitDecision {
  const { frontier, windowEnd } = input;
  const ws = sanitizeWords(input.words, frontier, windowEnd);
  const n = ws.length;
  if (input.final) return { commit: ws, provisional: [], frontier: Math.max(frontier, windowEnd), reason: 'final' };
  const limit = windowEnd - o.provisionalSec;
  if (limit <= frontier) return { commit: [], provisional: ws, frontier, reason: 'none' };
  const mid = (a: number, b: number): number => (input.quietest ? input.quietest(a, b) : (a + b) / 2);
  const split = (k: number, cut: number, reason: CommitReason): CommitDecision => ({
    commit: ws.slice(0, k),
    provisional: ws.slice(k),
    frontier: Math.max(frontier, cut),
    reason,
  });

  if (n === 0) return split(0, limit, 'silence');

  // 1. Time-anchored: the latest pause that ends before the provisional tail.
  for (let i = n - 1; i >= 0; i--) {
    const gs = ws[i]!.end;
    if (i + 1 < n) {
      const ge = ws[i + 1]!.start;
      if (ge - gs >= o.minPauseSec) {
        const cut = Math.min(mid(gs, ge), ge);
        if (cut <= limit) return split(i + 1, cut, 'pause');
      }
    } else if (limit - gs >= o.minPauseSec / 2) {
      return split(n, limit, 'pause');
    }
  }
  // A pause before the first word: skip the leading silence without committing anything.
  const first = ws[0]!;
  let lead = frontier;
  if (first.start - frontier >= o.minPauseSec) lead = Math.min(mid(frontier, first.start), first.start, limit);

  // 2. LocalAgreement: the prefix two successive hypotheses agree on.
  let k = 0;
  while (
    k < n &&
    k < input.previous.length &&
    norm(ws[k]!.word) === norm(input.previous[k]!.word) &&
    Math.abs(ws[k]!.start - input.previous[k]!.start) <= o.agreeToleranceSec &&
    ws[k]!.end <= limit
  ) {
    k++;
  }
  if (k > 0) {
    const gs = ws[k - 1]!.end;
    const ge = k < n ? ws[k]!.start : windowEnd;
    return split(k, Math.max(gs, Math.min((gs + ge) / 2, limit)), 'agreement');
  }

  // 3. Forced: keep the uncommitted tail within maxTailSec.
  if (windowEnd - frontier > o.maxTailSec) {
    const target = windowEnd - o.maxTailSec;
    let j = -1;
    for (let i = 0; i < n; i++) if (ws[i]!.end <= target) j = i;
    if (j < 0) {
      if (first.start > frontier) return split(0, Math.min(first.start, target), 'forced');
      j = 0;
    }
    const gs = ws[j]!.end;
    const ge = j + 1 < n ? ws[j + 1]!.start : windowEnd;
    return split(j + 1, Math.max(gs, Math.min((gs + ge) / 2, limit)), 'forced');
  }
  return lead > frontier ? split(0, lead, 'silence') : split(0, frontier, 'none');
}

/**
 * Turns the words of a transcription's segments into one word list. Segments without word times
 * (backends without word timestamps) are split into words spread evenly over the segment.
 */
export function wordsOfSegments(segments: readonly { start: number; end: number; text: string; speaker?: string | undefined; words: readonly Word[] }[]): Word[] {
  const out: Word[] = [];
  for (const s of segments) {
    if (s.words.length > 0) {
      for (const w of s.words) {
        out.push(w.speaker === undefined && s.speaker !== undefined ? { ...w, speaker: s.speaker } : w);
      }
      continue;
    }
    const parts = s.text.split(/\s+/).filter((p) => p !== '');
    const step = parts.length > 0 ? (s.end - s.start) / parts.length : 0;
    parts.forEach((p, i) => {
      const w: Word = { word: p, start: s.start + i * step, end: s.start + (i + 1) * step };
      out.push(s.speaker === undefined ? w : { ...w, speaker: s.speaker });
    });
  }
  return out;
}
