import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideCommit, type CommitPolicyOptions } from '../../src/chunking/index.js';
import type { Word } from '../../src/spec/index.js';

const policy: CommitPolicyOptions = { provisionalSec: 2, minPauseSec: 0.3, maxTailSec: 30, agreeToleranceSec: 0.3 };
const w = (word: string, start: number, end: number): Word => ({ word, start, end });

describe('decideCommit', () => {
  it('commits up to the latest pause before the provisional tail and starts the next window there', () => {
    const words = [w('a', 10.1, 10.4), w('b', 10.5, 10.9), w('c', 11.6, 12), w('d', 12.05, 12.5), w('e', 13.4, 13.9)];
    const d = decideCommit({ words, previous: [], frontier: 10, windowEnd: 14, final: false }, policy);
    expect(d.reason).toBe('pause');
    expect(d.commit.map((x) => x.word)).toEqual(['a', 'b']);
    expect(d.provisional.map((x) => x.word)).toEqual(['c', 'd', 'e']);
    expect(d.frontier).toBeCloseTo(11.25);
  });

  it('commits every word when the tail after the last word is silent', () => {
    const d = decideCommit({ words: [w('a', 1, 1.5)], previous: [], frontier: 0, windowEnd: 15, final: false }, policy);
    expect(d.commit).toHaveLength(1);
    expect(d.frontier).toBe(13);
  });

  it('falls back to LocalAgreement with the previous hypothesis inside continuous speech', () => {
    const words = [w('one', 0, 0.4), w('two', 0.45, 0.9), w('three', 0.95, 1.3), w('four', 1.35, 1.8)];
    const prev = [w('one', 0.02, 0.4), w('two', 0.44, 0.9), w('tree', 0.95, 1.3)];
    const d = decideCommit({ words, previous: prev, frontier: 0, windowEnd: 2.5, final: false }, { ...policy, provisionalSec: 0.6 });
    expect(d.reason).toBe('agreement');
    expect(d.commit.map((x) => x.word)).toEqual(['one', 'two']);
    expect(d.frontier).toBeGreaterThanOrEqual(0.9);
    expect(d.frontier).toBeLessThanOrEqual(0.95);
  });

  it('forces a commit when the uncommitted tail would exceed maxTailSec', () => {
    const words = Array.from({ length: 40 }, (_, i) => w(`w${i}`, i, i + 0.95));
    const d = decideCommit({ words, previous: [], frontier: 0, windowEnd: 40, final: false }, { ...policy, maxTailSec: 10 });
    expect(d.reason).toBe('forced');
    expect(d.frontier).toBeGreaterThanOrEqual(29.95);
    expect(d.commit.at(-1)!.end).toBeLessThanOrEqual(d.frontier);
  });

  it('commits everything on the final window', () => {
    const d = decideCommit({ words: [w('a', 1, 2), w('b', 2, 3)], previous: [], frontier: 0, windowEnd: 3.1, final: true }, policy);
    expect(d.commit).toHaveLength(2);
    expect(d.frontier).toBe(3.1);
  });

  it('property: a run of windows over one fixed word timeline commits each word exactly once, in order', () => {
    const timeline = fc
      .array(fc.record({ dur: fc.double({ min: 0.1, max: 1, noNaN: true }), gap: fc.double({ min: 0.02, max: 2, noNaN: true }) }), { minLength: 1, maxLength: 120 })
      .map((parts) => {
        let t = 0.1;
        return parts.map((p, i) => {
          const word = w(`w${i}`, t, t + p.dur);
          t += p.dur + p.gap;
          return word;
        });
      });
    fc.assert(
      fc.property(timeline, fc.double({ min: 3, max: 20, noNaN: true }), (truth, interval) => {
        const total = truth.at(-1)!.end + 1;
        let frontier = 0;
        let previous: Word[] = [];
        const committed: Word[] = [];
        for (let end = interval; ; end += interval) {
          const windowEnd = Math.min(end, total);
          const final = windowEnd >= total;
          // An ideal recogniser: the words that lie (mostly) inside [frontier, windowEnd].
          const words = truth.filter((x) => (x.start + x.end) / 2 >= frontier && x.end <= windowEnd);
          const d = decideCommit({ words, previous, frontier, windowEnd, final }, { ...policy, maxTailSec: 12 });
          expect(d.frontier).toBeGreaterThanOrEqual(frontier);
          for (const c of d.commit) expect(c.end).toBeLessThanOrEqual(d.frontier + 1e-9);
          committed.push(...d.commit);
          frontier = d.frontier;
          previous = [...d.provisional];
          if (final) break;
        }
        expect(committed.map((x) => x.word)).toEqual(truth.map((x) => x.word));
      }),
      { numRuns: 200 },
    );
  });
});
