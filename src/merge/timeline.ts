/**
 * The speaker timeline that {@link assignSpeakers} sweeps: each speaker's turns united, cut into
 * elementary intervals, and a fast look-up of the interval holding a time.
 * @module
 */
import { InvalidArgumentError } from '../errors/index.js';
import type { SpeakerTurn } from '../spec/index.js';
import { checkSpan } from './options.js';

/**
 * The turns of each speaker united (overlapping or touching turns of one speaker become one), cut
 * into elementary intervals between consecutive boundaries, each with the speakers active in it.
 * Speakers are numbered by first appearance (earliest turn start; equal starts by label).
 *
 * Some speaker starts or stops at every boundary, so an interval without speakers is never the
 * first or the last one, nor next to another empty one: its neighbours on both sides have speakers.
 * @internal
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

/**
 * The {@link Timeline} of `turns` (validated here), in O(M log M), O(M) when they come sorted.
 * @throws InvalidArgumentError for a turn without finite `start` <= `end` or a non-empty `speaker`.
 * @internal
 */
export function buildTimeline(turns: readonly SpeakerTurn[]): Timeline {
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
/** @internal */
export const TIE_EPS = 1e-9;

/**
 * Finds the last boundary <= x (-1 before the first). An even grid of buckets over the boundaries
 * narrows the binary search to a bucket, so evenly spread boundaries take O(1) per look-up (words
 * out of order, midpoints), and O(log n) at worst.
 */
/** @internal */
export function makeLocate(bounds: Float64Array): (x: number) => number {
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

