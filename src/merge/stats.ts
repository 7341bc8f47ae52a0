/**
 * Speaking time per speaker: {@link speakerStats}.
 * @module
 */
import type { SpeakerInfo, SpeakerTurn } from '../spec/index.js';
import { checkArray, checkSpan } from './options.js';

/**
 * Total speaking time per speaker. Overlapping spans of one speaker are counted once.
 *
 * @param spans - turns or segments; those without a `speaker` are ignored.
 * @returns one entry per speaker, in order of first appearance (earliest start).
 */
export function speakerStats(spans: readonly { readonly speaker?: string | undefined; readonly start: number; readonly end: number }[]): SpeakerInfo[] {
  checkArray('spans', spans);
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

