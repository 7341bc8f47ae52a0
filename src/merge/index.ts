/**
 * Merging recognised words with speaker turns: who said each word, utterances grouped by speaker
 * changes and pauses, and per-speaker speaking time.
 *
 * Everything here is pure and runs in O((N + M) log M) for N words and M turns (a sort of the
 * turns unless they come sorted, a sweep, then a look-up per word that sorted words skip), never
 * O(N·M).
 *
 * @module
 */
import { InvalidArgumentError } from '../errors/index.js';
import type { Segment, SpeakerInfo, SpeakerTurn, Transcription, Word } from '../spec/index.js';
import { type Complete, definedOnly } from '../internal/options.js';

/** Options of {@link assignSpeakers}. */
export interface AssignSpeakersOptions {
  /**
   * A word that overlaps no turn takes the speaker of the nearest turn when that turn is at most
   * this many seconds away; farther words get no speaker.
   * @defaultValue 0.5
   */
  readonly gapThreshold?: number | undefined;
  /**
   * When the two speakers that overlap a word most differ by less than this many seconds of
   * overlap, the word goes to the speaker whose turn contains the word's midpoint (then to the
   * earlier-labelled speaker), instead of to a speaker that wins by a hair.
   * @defaultValue 0.02
   */
  readonly speakerTolerance?: number | undefined;
}

/** Options of {@link groupUtterances}. */
export interface GroupUtterancesOptions {
  /**
   * A pause between two words longer than this many seconds starts a new utterance.
   * @defaultValue 0.8
   */
  readonly gapThreshold?: number | undefined;
  /**
   * An utterance never grows longer than this many seconds (a new one starts at the next word).
   * `Infinity` means no limit.
   * @defaultValue Infinity
   */
  readonly maxSegmentSec?: number | undefined;
}

/** Options of {@link applyDiarization}. */
export interface ApplyDiarizationOptions extends AssignSpeakersOptions {}

const ASSIGN_DEFAULTS = { gapThreshold: 0.5, speakerTolerance: 0.02 } as const;
const GROUP_DEFAULTS = { gapThreshold: 0.8, maxSegmentSec: Infinity } as const;

function checkNonNegative(name: string, v: unknown, allowInfinity = false): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (!allowInfinity && !Number.isFinite(v))) {
    throw new InvalidArgumentError(
      `\`${name}\` must be a ${allowInfinity ? '' : 'finite '}number >= 0, got ${String(v)}`,
    );
  }
  return v;
}

function checkOptions(options: unknown, name: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`\`${name}\` must be an object, got ${String(options)}`);
  }
  return options as Record<string, unknown>;
}

function checkSpan(kind: string, i: number, start: unknown, end: unknown): void {
  if (typeof start !== 'number' || typeof end !== 'number' || !Number.isFinite(start) || !Number.isFinite(end) || end < start) {
    throw new InvalidArgumentError(
      `\`${kind}[${i}]\` must have finite \`start\` <= \`end\`, got start=${String(start)} end=${String(end)}`,
    );
  }
}

/**
 * The turns of each speaker united (overlapping or touching turns of one speaker become one), cut
 * into elementary intervals between consecutive boundaries, each with the speakers active in it.
 * Speakers are numbered by first appearance (earliest turn start; equal starts by label).
 *
 * Some speaker starts or stops at every boundary, so an interval without speakers is never the
 * first or the last one, nor next to another empty one: its neighbours on both sides have speakers.
 */
interface Timeline {
  /** Boundaries, ascending; interval k is [bounds[k], bounds[k+1]). */
  readonly bounds: Float64Array;
  /**
   * The speakers active in interval k are `speakers[first[k]]` … `speakers[first[k + 1] - 1]`,
   * ascending (so the first-appearing one comes first).
   */
  readonly first: Int32Array;
  /** Active speaker indices of all intervals, one after the other. */
  readonly speakers: Int32Array;
  /** Speaker labels by index. */
  readonly labels: readonly string[];
}

function buildTimeline(turns: readonly SpeakerTurn[]): Timeline {
  const m = turns.length;
  // Validate, and see whether the turns already come sorted by start (ties by label).
  let sorted = true;
  for (let i = 0; i < m; i++) {
    const t = turns[i]!;
    checkSpan('turns', i, t?.start, t?.end);
    if (typeof t.speaker !== 'string' || t.speaker === '') {
      throw new InvalidArgumentError(`\`turns[${i}].speaker\` must be a non-empty string`);
    }
    if (sorted && i > 0) {
      const p = turns[i - 1]!;
      if (t.start < p.start || (t.start === p.start && t.speaker < p.speaker)) sorted = false;
    }
  }
  // Otherwise sort through an index array: no per-turn allocations.
  let order: Uint32Array | undefined;
  if (!sorted) {
    order = new Uint32Array(m);
    for (let i = 0; i < m; i++) order[i] = i;
    order.sort((a, b) => {
      const x = turns[a]!;
      const y = turns[b]!;
      return x.start - y.start || (x.speaker < y.speaker ? -1 : x.speaker > y.speaker ? 1 : 0);
    });
  }
  // Per speaker, unite its turns (taken in start order, so each speaker's unions come sorted).
  // Unions open in start order, so their starts come out sorted; their ends may need a sort.
  const index = new Map<string, number>();
  const labels: string[] = [];
  const curEnd: number[] = [];
  const openT = new Float64Array(m);
  const openS = new Int32Array(m);
  const closeT = new Float64Array(m);
  const closeS = new Int32Array(m);
  let nOpen = 0;
  let nClose = 0;
  for (let k = 0; k < m; k++) {
    const t = turns[order === undefined ? k : order[k]!]!;
    const start = t.start;
    const end = t.end;
    if (!(end > start)) continue;
    let s = index.get(t.speaker);
    if (s === undefined) {
      s = labels.length;
      index.set(t.speaker, s);
      labels.push(t.speaker);
      curEnd.push(end);
    } else if (start <= curEnd[s]!) {
      if (end > curEnd[s]!) curEnd[s] = end;
      continue;
    } else {
      closeT[nClose] = curEnd[s]!;
      closeS[nClose++] = s;
      curEnd[s] = end;
    }
    openT[nOpen] = start;
    openS[nOpen++] = s;
  }
  for (let s = 0; s < labels.length; s++) {
    closeT[nClose] = curEnd[s]!;
    closeS[nClose++] = s;
  }
  let closeOrder: Uint32Array | undefined;
  for (let j = 1; j < nClose; j++) {
    if (closeT[j]! < closeT[j - 1]!) {
      closeOrder = new Uint32Array(nClose);
      for (let i = 0; i < nClose; i++) closeOrder[i] = i;
      closeOrder.sort((a, b) => closeT[a]! - closeT[b]!);
      break;
    }
  }
  // Sweep the starts and ends together; at equal times ends go first, so touching turns of two
  // speakers do not overlap.
  const live = new Int32Array(labels.length); // sorted; it holds the few speakers active at once
  let nLive = 0;
  const bounds = new Float64Array(nOpen + nClose);
  const first = new Int32Array(nOpen + nClose);
  let speakers = new Int32Array(nOpen + nClose + 16);
  let nB = 0;
  let nSp = 0;
  let a = 0;
  let c = 0;
  while (a < nOpen || c < nClose) {
    const ta = a < nOpen ? openT[a]! : Infinity;
    const tc = c < nClose ? closeT[closeOrder === undefined ? c : closeOrder[c]!]! : Infinity;
    const t = ta < tc ? ta : tc;
    for (; c < nClose; c++) {
      const j = closeOrder === undefined ? c : closeOrder[c]!;
      if (closeT[j] !== t) break;
      const s = closeS[j]!;
      let p = 0;
      while (live[p] !== s) p++;
      for (nLive--; p < nLive; p++) live[p] = live[p + 1]!;
    }
    for (; a < nOpen && openT[a] === t; a++) {
      const s = openS[a]!;
      let p = nLive++;
      while (p > 0 && live[p - 1]! > s) {
        live[p] = live[p - 1]!;
        p--;
      }
      live[p] = s;
    }
    bounds[nB] = t;
    first[nB++] = nSp;
    if (nSp + nLive > speakers.length) {
      const grown = new Int32Array(Math.max(2 * speakers.length, nSp + nLive));
      grown.set(speakers.subarray(0, nSp));
      speakers = grown;
    }
    for (let p = 0; p < nLive; p++) speakers[nSp++] = live[p]!;
  }
  // Interval k < nB - 1 ends where interval k + 1 begins: first[k + 1]. Nobody is active after the
  // last boundary, so first[nB - 1] === nSp.
  return { bounds: bounds.subarray(0, nB), first: first.subarray(0, nB), speakers: speakers.subarray(0, nSp), labels };
}

/**
 * Overlaps, and distances to turns, that differ by at most this many seconds count as equal, so
 * that rounding (in doubles, 0.1 + 0.2 > 0.3) does not break ties that the times themselves make.
 */
const TIE_EPS = 1e-9;

/**
 * Finds the last boundary <= x (-1 before the first). An even grid of buckets over the boundaries
 * narrows the binary search to a bucket, so evenly spread boundaries take O(1) per look-up (words
 * out of order, midpoints), and O(log n) at worst.
 */
function makeLocate(bounds: Float64Array): (x: number) => number {
  const n = bounds.length;
  if (n < 2) return (x) => (n === 1 && bounds[0]! <= x ? 0 : -1);
  const lo0 = bounds[0]!;
  const hi0 = bounds[n - 1]!;
  const nBk = n;
  const scale = nBk / (hi0 - lo0);
  // bucket[j]: the last boundary <= the start of bucket j.
  const bucket = new Int32Array(nBk + 1);
  for (let j = 0, p = 0; j <= nBk; j++) {
    const edge = lo0 + j / scale;
    while (p + 1 < n && bounds[p + 1]! <= edge) p++;
    bucket[j] = p;
  }
  return (x) => {
    if (!(x >= lo0)) return -1;
    if (x >= hi0) return n - 1;
    let j = Math.floor((x - lo0) * scale);
    if (!(j < nBk)) j = nBk - 1;
    let lo = bucket[j]!;
    let hi = bucket[j + 1]! + 1;
    if (hi > n - 1) hi = n - 1;
    // Rounding may put x in a neighbouring bucket: then search everything.
    if (!(bounds[lo]! <= x && x < bounds[hi]!)) {
      lo = 0;
      hi = n - 1;
    }
    // bounds[lo] <= x < bounds[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (bounds[mid]! <= x) lo = mid;
      else hi = mid;
    }
    return lo;
  };
}

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
  if (!Array.isArray(words)) throw new InvalidArgumentError('`words` must be an array');
  if (!Array.isArray(turns)) throw new InvalidArgumentError('`turns` must be an array');
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
  if (!Array.isArray(words)) throw new InvalidArgumentError('`words` must be an array');
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

function makeSegment(words: readonly Word[], extra?: { confidence?: number | undefined }): Segment {
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

/**
 * Total speaking time per speaker. Overlapping spans of one speaker are counted once.
 *
 * @param spans - turns or segments; those without a `speaker` are ignored.
 * @returns one entry per speaker, in order of first appearance (earliest start).
 */
export function speakerStats(spans: readonly { readonly speaker?: string | undefined; readonly start: number; readonly end: number }[]): SpeakerInfo[] {
  if (!Array.isArray(spans)) throw new InvalidArgumentError('`spans` must be an array');
  const labelled = spans.filter((s): s is SpeakerTurn => typeof s.speaker === 'string');
  labelled.forEach((s, i) => checkSpan('spans', i, s.start, s.end));
  const sorted = [...labelled].sort((a, b) => a.start - b.start || a.end - b.end);
  const acc = new Map<string, { total: number; curStart: number; curEnd: number }>();
  for (const s of sorted) {
    const a = acc.get(s.speaker);
    if (a === undefined) acc.set(s.speaker, { total: 0, curStart: s.start, curEnd: s.end });
    else if (s.start <= a.curEnd) a.curEnd = Math.max(a.curEnd, s.end);
    else {
      a.total += a.curEnd - a.curStart;
      a.curStart = s.start;
      a.curEnd = s.end;
    }
  }
  return [...acc].map(([id, a]) => ({ id, totalSec: round3(a.total + a.curEnd - a.curStart) }));
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Labels a transcription with speakers: every word gets the speaker of the turns that overlap it
 * most ({@link assignSpeakers}); a segment whose words change speaker is split at each change;
 * a segment without words takes the speaker overlapping its whole span most. `speakers` lists each
 * speaker of `turns` with its total speaking time (from the turns), `speakerTurns` the turns
 * themselves (sorted by start); `text` is rebuilt from the segments.
 *
 * @param transcription - a result without (or with stale) speaker labels.
 * @param turns - speaker turns on the same timeline.
 * @param options - see {@link ApplyDiarizationOptions}.
 * @returns a new transcription; the input is not modified.
 */
export function applyDiarization(
  transcription: Transcription,
  turns: readonly SpeakerTurn[],
  options?: ApplyDiarizationOptions,
): Transcription {
  const o = { ...ASSIGN_DEFAULTS, ...definedOnly(checkOptions(options, 'options')) } as Complete<AssignSpeakersOptions>;
  // Label all words (and word-less segments as pseudo-words) in one pass.
  const flat: Word[] = [];
  const owner: number[] = [];
  transcription.segments.forEach((seg, i) => {
    if (seg.words.length > 0) {
      for (const w of seg.words) {
        flat.push(w);
        owner.push(i);
      }
    } else {
      flat.push({ word: seg.text, start: seg.start, end: seg.end });
      owner.push(i);
    }
  });
  const labelled = assignSpeakers(flat, turns, o);
  const segments: Segment[] = [];
  let k = 0;
  transcription.segments.forEach((seg, i) => {
    const mine: Word[] = [];
    while (k < labelled.length && owner[k] === i) mine.push(labelled[k++]!);
    const { speaker: _old, ...base } = seg;
    if (seg.words.length === 0) {
      const sp = mine[0]?.speaker;
      segments.push(sp === undefined ? base : { ...base, speaker: sp });
      return;
    }
    let run: Word[] = [];
    const pieces: Word[][] = [];
    for (const w of mine) {
      if (run.length > 0 && run[0]!.speaker !== w.speaker) {
        pieces.push(run);
        run = [];
      }
      run.push(w);
    }
    if (run.length > 0) pieces.push(run);
    if (pieces.length === 1) {
      const sp = pieces[0]![0]!.speaker;
      const s = { ...base, words: pieces[0]! };
      segments.push(sp === undefined ? s : { ...s, speaker: sp });
    } else {
      for (const p of pieces) segments.push(makeSegment(p, { confidence: seg.confidence }));
    }
  });
  return {
    ...transcription,
    segments,
    text: segments.map((s) => s.text).filter((t) => t !== '').join(' '),
    speakers: speakerStats(turns),
    speakerTurns: [...turns]
      .filter((t) => t.end > t.start)
      .sort((a, b) => a.start - b.start || a.end - b.end)
      .map((t) => ({ speaker: t.speaker, start: t.start, end: t.end })),
  };
}
