/**
 * Who said each word: {@link assignSpeakers}.
 * @module
 */
import type { SpeakerTurn, Word } from '../spec/index.js';
import { ASSIGN_DEFAULTS, type AssignSpeakersOptions, checkArray, checkNonNegative, checkOptions, checkSpan } from './options.js';
import { buildTimeline, makeLocate, TIE_EPS } from './timeline.js';

/**
 * Labels every word with the speaker whose turns overlap it most.
 *
 * - Overlap is measured against the union of each speaker's turns (turns may overlap, touch, be
 *   split into pieces, and come in any order).
 * - Near-ties (within `speakerTolerance` seconds of overlap, when it is above 0) go to the speaker
 *   active at the word's midpoint.
 * - A zero-length word takes the speaker active at its position.
 * - A word that overlaps no turn takes the speaker of the nearest turn when that turn ends at most
 *   `gapThreshold` seconds before the word starts, or starts at most that long after it ends; else
 *   it gets no `speaker` (any `speaker` it had is removed).
 * - Every remaining tie (equal overlap, several speakers at the midpoint or position, turns on both
 *   sides of a gap equally near) goes to the speaker whose first turn starts first, then to the
 *   lower label. Overlaps and distances within 1 ns of each other count as equal, so floating-point
 *   rounding does not break a tie (in doubles, 0.1 + 0.2 is a hair above 0.3).
 *   Turns without length count for nothing.
 *
 * Each word is labelled independently of the others, so the result does not depend on how the words
 * are split into calls. Words come back in their input order; they need not be sorted (sorted words
 * and turns are the fast case: no sort, and no search per word).
 * Runs in O(M log M + N log M + K) for M turns, N words and K elementary turn intervals crossed by
 * the words (K ≤ N + 2M when words do not overlap one another).
 *
 * @param words - recognised words, any order.
 * @param turns - speaker turns, any order.
 * @param options - see {@link AssignSpeakersOptions}.
 * @returns new word objects, in input order, with `speaker` set (or absent when none applies).
 * @throws InvalidArgumentError for a word or turn without finite `start` <= `end`, or a bad option.
 */
export function assignSpeakers(
  words: readonly Word[],
  turns: readonly SpeakerTurn[],
  options?: AssignSpeakersOptions,
): Word[] {
  const o = { ...ASSIGN_DEFAULTS, ...checkOptions(options, 'options') };
  const gapThreshold = checkNonNegative('gapThreshold', o.gapThreshold, true);
  const tolerance = checkNonNegative('speakerTolerance', o.speakerTolerance);
  checkArray('words', words);
  checkArray('turns', turns);
  const n = words.length;
  for (let i = 0; i < n; i++) {
    const w = words[i];
    checkSpan('words', i, w?.start, w?.end);
  }
  const { bounds, first, speakers, labels } = buildTimeline(turns);
  const nB = bounds.length;
  const nIv = nB - 1; // number of intervals (-1 without turns)
  const locate = makeLocate(bounds);
  const overlap = new Float64Array(labels.length);
  const touched = new Int32Array(labels.length);
  const out = new Array<Word>(n);
  let k = -1; // last boundary <= the current word's start; words usually come sorted, so try the last one first
  for (let i = 0; i < n; i++) {
    const w = words[i]!;
    const start = w.start;
    const end = w.end;
    let sp = -1;
    if (nIv > 0) {
      if (k < 0 || bounds[k]! > start || (k + 1 < nB && bounds[k + 1]! <= start)) {
        if (k >= 0 && k + 2 < nB && bounds[k + 1]! <= start && start < bounds[k + 2]!) k++;
        else k = locate(start);
      }
      // Fast path: the word lies inside one interval with a single speaker.
      sp =
        k >= 0 && k < nIv && end <= bounds[k + 1]! && first[k + 1]! - first[k]! === 1
          ? speakers[first[k]!]!
          : pick(start, end, k);
    }
    const label = sp < 0 ? undefined : labels[sp];
    const c = w.confidence;
    // One literal per shape: much faster than adding fields one by one, or rest/spread.
    out[i] =
      label === undefined
        ? c === undefined
          ? { word: w.word, start, end }
          : { word: w.word, start, end, confidence: c }
        : c === undefined
          ? { word: w.word, start, end, speaker: label }
          : { word: w.word, start, end, confidence: c, speaker: label };
  }
  return out;

  /** Whether speaker `s` is active in interval `iv`. */
  function activeIn(iv: number, s: number): boolean {
    if (iv < 0 || iv >= nIv) return false;
    for (let j = first[iv]!, e = first[iv + 1]!; j < e; j++) if (speakers[j] === s) return true;
    return false;
  }

  /** The speaker of a word [start, end], k being the last boundary <= start; -1 for none. */
  function pick(start: number, end: number, k: number): number {
    let nT = 0;
    for (let iv = Math.max(0, k); iv < nIv && bounds[iv]! < end; iv++) {
      const a = Math.max(start, bounds[iv]!);
      const b = Math.min(end, bounds[iv + 1]!);
      if (b <= a) continue;
      for (let j = first[iv]!, e = first[iv + 1]!; j < e; j++) {
        const s = speakers[j]!;
        if (overlap[s] === 0) touched[nT++] = s;
        overlap[s]! += b - a;
      }
    }
    if (nT > 0) {
      let max = 0;
      for (let j = 0; j < nT; j++) if (overlap[touched[j]!]! > max) max = overlap[touched[j]!]!;
      // The first-appearing speaker among those tied for the most overlap, and how many are near it.
      let winner = -1;
      let nNear = 0;
      for (let j = 0; j < nT; j++) {
        const s = touched[j]!;
        const behind = max - overlap[s]!;
        if (behind <= TIE_EPS && (winner < 0 || s < winner)) winner = s;
        if (behind <= TIE_EPS || behind < tolerance) nNear++;
      }
      if (tolerance > 0 && nNear > 1) {
        // Near-tie: the first-appearing candidate active at the midpoint, else the first-appearing one.
        const km = locate((start + end) / 2);
        let any = -1;
        let atMid = -1;
        for (let j = 0; j < nT; j++) {
          const s = touched[j]!;
          const behind = max - overlap[s]!;
          if (!(behind <= TIE_EPS || behind < tolerance)) continue;
          if (any < 0 || s < any) any = s;
          if ((atMid < 0 || s < atMid) && activeIn(km, s)) atMid = s;
        }
        winner = atMid >= 0 ? atMid : any;
      }
      for (let j = 0; j < nT; j++) overlap[touched[j]!] = 0;
      return winner;
    }
    // No overlap. A zero-length word inside a turn takes the speaker active there.
    if (k >= 0 && k < nIv && first[k + 1]! > first[k]!) return speakers[first[k]!]!;
    // Else the word is in a gap: before the first boundary (k = -1), in an empty interval (whose
    // neighbours have speakers), or at or after the last boundary (k = nIv).
    const left = k < 0 ? -1 : k === nIv ? nIv - 1 : k - 1;
    const right = k < nIv ? k + 1 : -1; // k = -1: interval 0
    const dLeft = left >= 0 ? start - bounds[left + 1]! : Infinity;
    const dRight = right >= 0 ? bounds[right]! - end : Infinity;
    const d = Math.min(dLeft, dRight);
    if (!(d <= gapThreshold + TIE_EPS)) return -1;
    // The first-appearing speaker of the nearer side; of both sides when equally near.
    const l = dLeft - d <= TIE_EPS ? speakers[first[left]!]! : Infinity;
    const r = dRight - d <= TIE_EPS ? speakers[first[right]!]! : Infinity;
    return Math.min(l, r);
  }
}

