/**
 * Diarization error rate, computed the way NIST md-eval does it, on a 10 ms frame grid:
 *
 * - Each frame has a set of reference speakers (more than one where reference turns overlap) and a
 *   set of hypothesis speakers. With R and H the set sizes and C the number of reference speakers
 *   whose mapped hypothesis speaker is also active in the frame:
 *   missed = max(0, R − H), false alarm = max(0, H − R), confusion = min(R, H) − C.
 *   Overlapped reference speech therefore counts each of its speakers (scored time = Σ R).
 * - The speaker mapping is one-to-one and optimal: it maximises Σ C over the whole recording
 *   (Hungarian algorithm on the frame co-occurrence matrix). Unmapped speakers are never correct.
 * - A collar excludes frames within ±`collar` seconds of every reference turn boundary (start and
 *   end) from scoring, as md-eval's `-c` does.
 */
import { readFileSync } from 'node:fs';
import type { SpeakerTurn } from '../../src/spec/index.js';
import { maxWeightAssignment } from '../../src/diarization/hungarian.js';

/** Result of {@link diarizationErrorRate}; times in seconds. */
export interface DerResult {
  readonly der: number;
  readonly missed: number;
  readonly falseAlarm: number;
  readonly confusion: number;
  /** Scored reference speech (Σ R over scored frames). */
  readonly total: number;
  /** Reference speaker → hypothesis speaker of the optimal mapping. */
  readonly mapping: ReadonlyMap<string, string>;
  readonly refSpeakers: number;
  readonly hypSpeakers: number;
}

const FRAME = 0.01;

/** Reads RTTM SPEAKER lines as turns. */
export function readRttm(path: string): SpeakerTurn[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('SPEAKER'))
    .map((l) => {
      const f = l.trim().split(/\s+/);
      const start = Number(f[3]);
      return { speaker: f[7]!, start, end: start + Number(f[4]) };
    });
}

function frameSets(turns: readonly SpeakerTurn[], nFrames: number, ids: Map<string, number>): number[][] {
  const sets: number[][] = Array.from({ length: nFrames }, () => []);
  for (const t of turns) {
    let id = ids.get(t.speaker);
    if (id === undefined) {
      id = ids.size;
      ids.set(t.speaker, id);
    }
    const a = Math.max(0, Math.round(t.start / FRAME));
    const b = Math.min(nFrames, Math.round(t.end / FRAME));
    for (let f = a; f < b; f++) if (!sets[f]!.includes(id)) sets[f]!.push(id);
  }
  return sets;
}

/** DER of `hyp` against `ref`; see the module comment for the exact rules. */
export function diarizationErrorRate(
  ref: readonly SpeakerTurn[],
  hyp: readonly SpeakerTurn[],
  options: { readonly collar?: number } = {},
): DerResult {
  const collar = options.collar ?? 0;
  const end = Math.max(0, ...ref.map((t) => t.end), ...hyp.map((t) => t.end));
  const n = Math.ceil(end / FRAME) + 1;
  const refIds = new Map<string, number>();
  const hypIds = new Map<string, number>();
  const r = frameSets(ref, n, refIds);
  const h = frameSets(hyp, n, hypIds);
  const scored = new Uint8Array(n).fill(1);
  if (collar > 0) {
    for (const t of ref) {
      for (const b of [t.start, t.end]) {
        const lo = Math.max(0, Math.round((b - collar) / FRAME));
        const hi = Math.min(n, Math.round((b + collar) / FRAME));
        for (let f = lo; f < hi; f++) scored[f] = 0;
      }
    }
  }
  const co: number[][] = Array.from({ length: refIds.size }, () => new Array<number>(hypIds.size).fill(0));
  for (let f = 0; f < n; f++) {
    if (!scored[f]) continue;
    for (const a of r[f]!) for (const b of h[f]!) co[a]![b]!++;
  }
  const assign = maxWeightAssignment(co);
  let missed = 0;
  let fa = 0;
  let conf = 0;
  let total = 0;
  for (let f = 0; f < n; f++) {
    if (!scored[f]) continue;
    const R = r[f]!.length;
    const H = h[f]!.length;
    let C = 0;
    for (const a of r[f]!) if (assign[a]! >= 0 && h[f]!.includes(assign[a]!)) C++;
    total += R;
    missed += Math.max(0, R - H);
    fa += Math.max(0, H - R);
    conf += Math.min(R, H) - C;
  }
  const refNames = [...refIds.keys()];
  const hypNames = [...hypIds.keys()];
  const mapping = new Map<string, string>();
  assign.forEach((b, a) => {
    if (b >= 0) mapping.set(refNames[a]!, hypNames[b]!);
  });
  return {
    der: total === 0 ? 0 : (missed + fa + conf) / total,
    missed: missed * FRAME,
    falseAlarm: fa * FRAME,
    confusion: conf * FRAME,
    total: total * FRAME,
    mapping,
    refSpeakers: refIds.size,
    hypSpeakers: hypIds.size,
  };
}
