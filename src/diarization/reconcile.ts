/**
 * Provisional (live) speaker labels → final labels, by maximum overlap.
 * @module
 */
import { InvalidArgumentError } from '../errors/index.js';
import type { SpeakerTurn } from '../spec/index.js';
import { maxWeightAssignment } from './hungarian.js';

function checkTurns(name: string, turns: readonly SpeakerTurn[]): void {
  const list: unknown = turns;
  if (!Array.isArray(list)) throw new InvalidArgumentError(`\`${name}\` must be an array of speaker turns`);
  list.forEach((item: unknown, i) => {
    const t = item as Partial<SpeakerTurn> | null | undefined;
    if (typeof t?.speaker !== 'string' || !Number.isFinite(t.start) || !Number.isFinite(t.end) || t.end! < t.start!) {
      throw new InvalidArgumentError(`\`${name}[${i}]\` must be a speaker turn with a string \`speaker\` and finite \`start\` <= \`end\``);
    }
  });
}

/**
 * Seconds of overlap between every speaker of `a` and every speaker of `b`.
 * @returns labels of `a` and `b` (in order of first appearance) and `matrix[i][j]`.
 */
function overlapMatrix(
  a: readonly SpeakerTurn[],
  b: readonly SpeakerTurn[],
): { aLabels: string[]; bLabels: string[]; matrix: number[][] } {
  const sa = [...a].sort((x, y) => x.start - y.start);
  const sb = [...b].sort((x, y) => x.start - y.start);
  const aLabels = [...new Set(sa.map((t) => t.speaker))];
  const bLabels = [...new Set(sb.map((t) => t.speaker))];
  const ai = new Map(aLabels.map((l, i) => [l, i]));
  const bi = new Map(bLabels.map((l, i) => [l, i]));
  const matrix = aLabels.map(() => new Array<number>(bLabels.length).fill(0));
  // prefix max of ends lets each turn of `a` scan back only over turns of `b` that can reach it.
  const maxEnd = new Float64Array(sb.length);
  sb.forEach((t, i) => (maxEnd[i] = Math.max(t.end, i > 0 ? maxEnd[i - 1]! : -Infinity)));
  for (const t of sa) {
    // last turn of b starting before t.end
    let lo = 0;
    let hi = sb.length - 1;
    let last = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sb[mid]!.start < t.end) {
        last = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (let j = last; j >= 0 && maxEnd[j]! > t.start; j--) {
      const u = sb[j]!;
      const ov = Math.min(t.end, u.end) - Math.max(t.start, u.start);
      if (ov > 0) matrix[ai.get(t.speaker)!]![bi.get(u.speaker)!]! += ov;
    }
  }
  return { aLabels, bLabels, matrix };
}

/**
 * Maps provisional speaker labels (from live diarization) onto final ones (from re-clustering the
 * whole recording), so that an app can relabel what it already showed.
 *
 * Speakers are paired one-to-one to maximise the total overlapping time (Hungarian algorithm);
 * a provisional speaker left without a partner (there were more provisional speakers than final
 * ones, e.g. one voice split in two live) maps to the final speaker it overlaps most. Provisional
 * speakers that overlap no final speech at all are left out of the mapping.
 *
 * @param provisional - turns with the labels shown live.
 * @param final - turns of the final pass, on the same timeline.
 * @returns `{ [provisionalLabel]: finalLabel }`.
 * @throws InvalidArgumentError when either list holds something other than speaker turns.
 */
export function reconcileSpeakers(
  provisional: readonly SpeakerTurn[],
  final: readonly SpeakerTurn[],
): Record<string, string> {
  checkTurns('provisional', provisional);
  checkTurns('final', final);
  const { aLabels, bLabels, matrix } = overlapMatrix(provisional, final);
  const assign = maxWeightAssignment(matrix);
  const out: Record<string, string> = {};
  aLabels.forEach((label, i) => {
    const row = matrix[i]!;
    let j = assign[i]!;
    if (j < 0 || row[j]! <= 0) {
      j = -1;
      for (let k = 0; k < row.length; k++) if (row[k]! > 0 && (j < 0 || row[k]! > row[j]!)) j = k;
    }
    if (j >= 0) out[label] = bLabels[j]!;
  });
  return out;
}
