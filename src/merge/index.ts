/**
 * Merging recognised words with speaker turns: who said each word, utterances grouped by speaker
 * changes and pauses, and per-speaker speaking time.
 *
 * Everything here is pure and runs in O((N + M) log M) for N words and M turns (a sort of the
 * turns, a binary search per word, then a sweep), never O(N·M).
 *
 * @module
 */
import { InvalidArgumentError } from '../errors/index.js';
import type { Segment, SpeakerInfo, SpeakerTurn, Transcription, Word } from '../spec/index.js';

/** Options of {@link assignSpeakers}. */
export interface AssignSpeakersOptions {
  /**
   * A word that overlaps no turn takes the speaker of the nearest turn when that turn is at most
   * this many seconds away; farther words get no speaker.
   * @defaultValue 0.5
   */
  readonly gapThreshold?: number;
  /**
   * When the two speakers that overlap a word most differ by less than this many seconds of
   * overlap, the word goes to the speaker whose turn contains the word's midpoint (then to the
   * earlier-labelled speaker), instead of to a speaker that wins by a hair.
   * @defaultValue 0.02
   */
  readonly speakerTolerance?: number;
}

/** Options of {@link groupUtterances}. */
export interface GroupUtterancesOptions {
  /**
   * A pause between two words longer than this many seconds starts a new utterance.
   * @defaultValue 0.8
   */
  readonly gapThreshold?: number;
  /**
   * An utterance never grows longer than this many seconds (a new one starts at the next word).
   * `Infinity` means no limit.
   * @defaultValue Infinity
   */
  readonly maxSegmentSec?: number;
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
 */
interface Timeline {
  /** Boundaries, ascending; interval k is [bounds[k], bounds[k+1]). */
  readonly bounds: Float64Array;
  /** Active speaker indices per interval. */
  readonly active: readonly (readonly number[])[];
  /** Speaker labels by index. */
  readonly labels: readonly string[];
}

function buildTimeline(turns: readonly SpeakerTurn[]): Timeline {
  const m = turns.length;
  for (let i = 0; i < m; i++) {
    const t = turns[i]!;
    checkSpan('turns', i, t?.start, t?.end);
    if (typeof t.speaker !== 'string' || t.speaker === '') {
      throw new InvalidArgumentError(`\`turns[${i}].speaker\` must be a non-empty string`);
    }
  }
  // Sort by start (ties by label) through an index array: no per-turn allocations.
  const order = new Uint32Array(m);
  for (let i = 0; i < m; i++) order[i] = i;
  order.sort((a, b) => {
    const x = turns[a]!;
    const y = turns[b]!;
    return x.start - y.start || (x.speaker < y.speaker ? -1 : x.speaker > y.speaker ? 1 : 0);
  });
  const index = new Map<string, number>();
  const labels: string[] = [];
  // Per speaker: union of its turns (taken in start order, so each speaker's list is sorted).
  const curStart: number[] = [];
  const curEnd: number[] = [];
  const evT: number[] = [];
  const evCode: number[] = []; // speaker * 2 + (1 for start, 0 for end)
  for (let k = 0; k < m; k++) {
    const t = turns[order[k]!]!;
    if (!(t.end > t.start)) continue;
    let s = index.get(t.speaker);
    if (s === undefined) {
      s = labels.length;
      index.set(t.speaker, s);
      labels.push(t.speaker);
      curStart.push(t.start);
      curEnd.push(t.end);
      continue;
    }
    if (t.start <= curEnd[s]!) {
      if (t.end > curEnd[s]!) curEnd[s] = t.end;
    } else {
      evT.push(curStart[s]!, curEnd[s]!);
      evCode.push(s * 2 + 1, s * 2);
      curStart[s] = t.start;
      curEnd[s] = t.end;
    }
  }
  for (let s = 0; s < labels.length; s++) {
    evT.push(curStart[s]!, curEnd[s]!);
    evCode.push(s * 2 + 1, s * 2);
  }
  const n = evT.length;
  const times = Float64Array.from(evT);
  const codes = Int32Array.from(evCode);
  const ev = new Uint32Array(n);
  for (let i = 0; i < n; i++) ev[i] = i;
  // Ends before starts at the same time, so touching turns of two speakers do not overlap.
  ev.sort((a, b) => times[a]! - times[b]! || (codes[a]! & 1) - (codes[b]! & 1));
  const bounds: number[] = [];
  const active: number[][] = [];
  const live: number[] = [];
  let i = 0;
  while (i < n) {
    const t = times[ev[i]!]!;
    while (i < n && times[ev[i]!] === t) {
      const c = codes[ev[i]!]!;
      const s = c >> 1;
      if (c & 1) {
        // keep `live` sorted (it holds the few speakers active at once)
        let p = live.length;
        live.push(s);
        while (p > 0 && live[p - 1]! > s) {
          live[p] = live[p - 1]!;
          p--;
        }
        live[p] = s;
      } else {
        const p = live.indexOf(s);
        if (p >= 0) live.splice(p, 1);
      }
      i++;
    }
    bounds.push(t);
    active.push(live.length === 0 ? EMPTY : live.slice());
  }
  // The last boundary closes the last interval; drop its (empty) trailing set.
  active.pop();
  return { bounds: Float64Array.from(bounds), active, labels };
}

const EMPTY: number[] = [];

/** Index of the last boundary <= x, or -1. */
function lastAtOrBefore(bounds: Float64Array, x: number): number {
  let lo = 0;
  let hi = bounds.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (bounds[mid]! <= x) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/**
 * Labels every word with the speaker whose turns overlap it most.
 *
 * - Overlap is measured against the union of each speaker's turns (turns may overlap, touch, be
 *   split into pieces, and come in any order).
 * - A word that overlaps no turn takes the nearest turn's speaker within `gapThreshold`, else it
 *   gets no `speaker` (any `speaker` it had is removed).
 * - Near-ties (within `speakerTolerance` seconds of overlap) go to the speaker active at the word's
 *   midpoint, then to the speaker whose first turn comes first.
 *
 * Each word is labelled independently of the others, so the result does not depend on how the words
 * are split into calls. Words come back in their input order; they need not be sorted.
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
  words.forEach((w, i) => checkSpan('words', i, w?.start, w?.end));
  const tl = buildTimeline(turns);
  const { bounds, active, labels } = tl;
  const nIv = active.length;
  // Nearest non-empty interval to the left / right of each interval, for gap filling.
  const prevNonEmpty = new Int32Array(nIv);
  const nextNonEmpty = new Int32Array(nIv);
  for (let k = 0, last = -1; k < nIv; k++) {
    if (active[k]!.length > 0) last = k;
    prevNonEmpty[k] = last;
  }
  for (let k = nIv - 1, next = -1; k >= 0; k--) {
    if (active[k]!.length > 0) next = k;
    nextNonEmpty[k] = next;
  }
  const overlap = new Float64Array(labels.length);
  const touched: number[] = [];
  let hint = 0;
  const out = new Array<Word>(words.length);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const speaker = nIv === 0 ? undefined : pick(w.start, w.end);
    // Built field by field: much faster than rest/spread on millions of words.
    const o: { -readonly [K in keyof Word]: Word[K] } = { word: w.word, start: w.start, end: w.end };
    if (w.confidence !== undefined) o.confidence = w.confidence;
    if (speaker !== undefined) o.speaker = speaker;
    out[i] = o;
  }
  return out;

  function pick(start: number, end: number): string | undefined {
    // Words usually come sorted: walk on from the previous word's interval, else binary search.
    let k: number;
    if (hint < bounds.length && bounds[hint]! <= start && (hint + 1 >= bounds.length || bounds[hint + 1]! > start)) k = hint;
    else if (hint + 2 < bounds.length && bounds[hint + 1]! <= start && bounds[hint + 2]! > start) k = hint + 1;
    else k = Math.max(0, lastAtOrBefore(bounds, start));
    hint = k;
    touched.length = 0;
    for (; k < nIv && bounds[k]! < end; k++) {
      const a = Math.max(start, bounds[k]!);
      const b = Math.min(end, bounds[k + 1]!);
      if (b <= a) continue;
      for (const s of active[k]!) {
        if (overlap[s] === 0) touched.push(s);
        overlap[s]! += b - a;
      }
    }
    if (touched.length > 0) {
      let best = -1;
      let second = -1;
      for (const s of touched) {
        if (best < 0 || overlap[s]! > overlap[best]! || (overlap[s] === overlap[best] && s < best)) {
          second = best;
          best = s;
        } else if (second < 0 || overlap[s]! > overlap[second]! || (overlap[s] === overlap[second] && s < second)) {
          second = s;
        }
      }
      let winner = best;
      if (second >= 0 && overlap[best]! - overlap[second]! < tolerance) {
        const mid = (start + end) / 2;
        const km = lastAtOrBefore(bounds, mid);
        const here = km >= 0 && km < nIv ? active[km]! : [];
        const candidates = touched.filter((s) => overlap[best]! - overlap[s]! < tolerance);
        const atMid = candidates.filter((s) => here.includes(s));
        winner = Math.min(...(atMid.length > 0 ? atMid : candidates));
      }
      for (const s of touched) overlap[s] = 0;
      return labels[winner];
    }
    // No overlap (a zero-length word inside a turn counts as overlap via its position).
    const km = lastAtOrBefore(bounds, start);
    if (km >= 0 && km < nIv && active[km]!.length > 0) {
      return labels[Math.min(...active[km]!)];
    }
    let bestDist = Infinity;
    let bestLabel: number | undefined;
    const left = km < 0 ? -1 : prevNonEmpty[Math.min(km, nIv - 1)]!;
    if (left >= 0) {
      const d = start - bounds[left + 1]!;
      if (d < bestDist) {
        bestDist = d;
        bestLabel = Math.min(...active[left]!);
      }
    }
    const rightFrom = km + 1;
    const right = rightFrom < nIv ? nextNonEmpty[rightFrom]! : -1;
    if (right >= 0) {
      const d = bounds[right]! - end;
      if (d < bestDist) {
        bestDist = d;
        bestLabel = Math.min(...active[right]!);
      }
    }
    return bestLabel !== undefined && bestDist <= gapThreshold ? labels[bestLabel] : undefined;
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
  const o = { ...ASSIGN_DEFAULTS, ...checkOptions(options, 'options') } as Required<AssignSpeakersOptions>;
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
