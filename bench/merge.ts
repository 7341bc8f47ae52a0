/**
 * Merge speed: assignSpeakers on 1,000,000 words × 100,000 turns, beside the naive nested loop
 * (every word against every turn) on a smaller input.
 *
 *   node --import tsx bench/merge.ts [--json]
 */
import { assignSpeakers } from '../src/merge/index.js';
import type { SpeakerTurn, Word } from '../src/spec/index.js';

function makeInput(nWords: number, nTurns: number): { words: Word[]; turns: SpeakerTurn[] } {
  const duration = nWords * 0.4; // 2.5 words per second
  const turnLen = duration / nTurns;
  const turns: SpeakerTurn[] = [];
  for (let i = 0; i < nTurns; i++) {
    // 4 speakers, small overlaps at turn changes.
    turns.push({ speaker: `S${(i % 4) + 1}`, start: i * turnLen, end: Math.min(duration, (i + 1) * turnLen + 0.2) });
  }
  const words: Word[] = [];
  for (let i = 0; i < nWords; i++) words.push({ word: `w${i}`, start: i * 0.4, end: i * 0.4 + 0.3 });
  return { words, turns };
}

function naive(words: readonly Word[], turns: readonly SpeakerTurn[]): (string | undefined)[] {
  return words.map((w) => {
    const ov = new Map<string, number>();
    for (const t of turns) {
      const o = Math.min(w.end, t.end) - Math.max(w.start, t.start);
      if (o > 0) ov.set(t.speaker, (ov.get(t.speaker) ?? 0) + o);
    }
    let best: string | undefined;
    let bestO = 0;
    for (const [s, o] of ov) if (o > bestO) [best, bestO] = [s, o];
    return best;
  });
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, (performance.now() - t0) / 1000];
}

const results: Record<string, number | string> = {};
{
  const { words, turns } = makeInput(1_000_000, 100_000);
  assignSpeakers(words.slice(0, 1000), turns); // warm-up
  const runs: number[] = [];
  let out: Word[] = [];
  for (let r = 0; r < 5; r++) {
    const [o, sec] = time(() => assignSpeakers(words, turns));
    out = o;
    runs.push(sec);
  }
  runs.sort((a, b) => a - b);
  results['assignSpeakers 1,000,000 words × 100,000 turns, best of 5 (s)'] = Number(runs[0]!.toFixed(3));
  results['assignSpeakers 1,000,000 words × 100,000 turns, median of 5 (s)'] = Number(runs[2]!.toFixed(3));
  if (out.some((w) => w.speaker === undefined)) throw new Error('bench: unassigned word');
}
{
  const { words, turns } = makeInput(20_000, 2_000);
  const [fast, fastSec] = time(() => assignSpeakers(words, turns));
  const [slow, slowSec] = time(() => naive(words, turns));
  results['assignSpeakers 20,000 words × 2,000 turns (s)'] = Number(fastSec.toFixed(4));
  results['naive nested loop 20,000 words × 2,000 turns (s)'] = Number(slowSec.toFixed(3));
  const differ = fast.filter((w, i) => w.speaker !== slow[i]).length;
  results['words labelled differently by the two (near-ties)'] = differ;
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
else for (const [k, v] of Object.entries(results)) console.log(`${k}: ${v}`);
