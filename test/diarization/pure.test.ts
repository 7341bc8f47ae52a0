import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agglomerativeCluster, l2normalize } from '../../src/diarization/clustering.js';
import { clusterEmbeddings } from '../../src/diarization/diarizer.js';
import { maxWeightAssignment } from '../../src/diarization/hungarian.js';
import { reconcileSpeakers } from '../../src/diarization/index.js';
import { makeWindows, windowsToTurns } from '../../src/diarization/windows.js';
import { InvalidArgumentError } from '../../src/errors/index.js';
import { diarizationErrorRate } from '../helpers/der.js';

function bruteForce(w: number[][]): number {
  const rows = w.length;
  const cols = w[0]?.length ?? 0;
  let best = 0;
  const used = new Array<boolean>(cols).fill(false);
  const go = (r: number, acc: number): void => {
    if (r === rows) {
      best = Math.max(best, acc);
      return;
    }
    go(r + 1, acc); // row unassigned
    for (let c = 0; c < cols; c++) {
      if (used[c]) continue;
      used[c] = true;
      go(r + 1, acc + w[r]![c]!);
      used[c] = false;
    }
  };
  go(0, 0);
  return best;
}

describe('maxWeightAssignment', () => {
  it('property: matches brute force on small non-negative matrices, one-to-one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((r) =>
          fc.integer({ min: 1, max: 5 }).chain((c) => fc.array(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: c, maxLength: c }), { minLength: r, maxLength: r })),
        ),
        (w) => {
          const a = maxWeightAssignment(w);
          const cols = a.filter((c) => c >= 0);
          expect(new Set(cols).size).toBe(cols.length);
          const sum = a.reduce((s, c, r) => s + (c >= 0 ? w[r]![c]! : 0), 0);
          expect(sum).toBe(bruteForce(w));
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** Unit vectors around `k` random directions in 32-d, `n` each, with noise. */
function blobs(k: number, n: number, noise: number, seed = 1): { vecs: Float32Array[]; truth: number[] } {
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
  const centers = Array.from({ length: k }, () => l2normalize(Float32Array.from({ length: 32 }, rnd)));
  const vecs: Float32Array[] = [];
  const truth: number[] = [];
  for (let i = 0; i < n * k; i++) {
    const c = i % k;
    vecs.push(l2normalize(centers[c]!.map((x) => x + noise * rnd())));
    truth.push(c);
  }
  return { vecs, truth };
}

describe('agglomerative clustering', () => {
  it('recovers well-separated clusters by threshold and by count, labels in order of first appearance', () => {
    const { vecs, truth } = blobs(4, 20, 0.1);
    const byThreshold = agglomerativeCluster(vecs, { threshold: 0.5 });
    expect([...byThreshold]).toEqual(truth);
    const byCount = agglomerativeCluster(vecs, { threshold: 0.99, numClusters: 4 });
    expect([...byCount]).toEqual(truth);
    expect(new Set(agglomerativeCluster(vecs, { threshold: 0.5, numClusters: 2 })).size).toBe(2);
    expect(new Set(agglomerativeCluster(vecs, { threshold: 0.5, maxClusters: 3 })).size).toBe(3);
  });

  it('absorbs tiny clusters and samples long inputs', () => {
    const { vecs } = blobs(3, 2000, 0.1, 7); // 6000 windows: beyond the exact limit
    const labels = clusterEmbeddings(vecs, { threshold: 0.5 });
    expect(labels.length).toBe(6000);
    expect(new Set(labels).size).toBe(3);
    expect([...labels.slice(0, 6)]).toEqual([0, 1, 2, 0, 1, 2]);
  });
});

describe('windows', () => {
  it('cuts spans into hop-spaced windows, last aligned to the end; short spans get none', () => {
    const w = makeWindows([{ start: 0, end: 4.5 }, { start: 5, end: 6 }, { start: 7, end: 7.2 }], 2, 1, 0.5);
    expect(w.map((x) => [x.span, x.start, x.end])).toEqual([
      [0, 0, 2],
      [0, 1, 3],
      [0, 2, 4],
      [0, 2.5, 4.5],
      [1, 5, 6],
    ]);
    const turns = windowsToTurns([{ start: 0, end: 4.5 }, { start: 5, end: 6 }, { start: 7, end: 7.2 }], w, [0, 0, 1, 1, 1], (i) => `S${i + 1}`);
    expect(turns).toEqual([
      { speaker: 'S1', start: 0, end: 2.5 }, // midway between the centres of the last S1 and first S2 window
      { speaker: 'S2', start: 2.5, end: 4.5 },
      { speaker: 'S2', start: 5, end: 6 },
      { speaker: 'S2', start: 7, end: 7.2 },
    ]);
  });
});

describe('reconcileSpeakers', () => {
  it('maps provisional labels onto final ones by maximum overlap, one-to-one first', () => {
    const provisional = [
      { speaker: 'S1', start: 0, end: 10 },
      { speaker: 'S2', start: 10, end: 20 },
      { speaker: 'S3', start: 20, end: 22 }, // a split-off piece of the final S2
      { speaker: 'S4', start: 100, end: 101 }, // overlaps nothing final
    ];
    const final = [
      { speaker: 'S2', start: 0, end: 9 },
      { speaker: 'S1', start: 9, end: 22 },
    ];
    expect(reconcileSpeakers(provisional, final)).toEqual({ S1: 'S2', S2: 'S1', S3: 'S1' });
  });

  it('rejects malformed turns', () => {
    expect(() => reconcileSpeakers([{ speaker: 'S1', start: 2, end: 1 }], [])).toThrow(InvalidArgumentError);
    expect(() => reconcileSpeakers(null as never, [])).toThrow(/`provisional`/);
  });
});

describe('DER helper', () => {
  const ref = [
    { speaker: 'A', start: 0, end: 10 },
    { speaker: 'B', start: 10, end: 20 },
    { speaker: 'A', start: 18, end: 20 }, // overlap: 2 s of two speakers
  ];
  it('is 0 for a relabelled perfect hypothesis', () => {
    const hyp = ref.map((t) => ({ ...t, speaker: t.speaker === 'A' ? 'x' : 'y' }));
    expect(diarizationErrorRate(ref, hyp).der).toBe(0);
  });
  it('counts missed overlap, false alarm and confusion with the optimal mapping', () => {
    const hyp = [
      { speaker: 'x', start: 0, end: 9 }, // 1 s missed of A
      { speaker: 'y', start: 10, end: 20 }, // overlap A 18-20 missed (2 s)
      { speaker: 'y', start: 25, end: 26 }, // 1 s false alarm
      { speaker: 'y', start: 9, end: 10 }, // 1 s confusion (A labelled y)
    ];
    const r = diarizationErrorRate(ref, hyp);
    expect(r.total).toBeCloseTo(22, 5);
    expect(r.missed).toBeCloseTo(2, 5);
    expect(r.falseAlarm).toBeCloseTo(1, 5);
    expect(r.confusion).toBeCloseTo(1, 5);
    expect(r.mapping.get('A')).toBe('x');
  });
  it('excludes ±collar around reference boundaries', () => {
    const hyp = [
      { speaker: 'x', start: 0.2, end: 10.2 },
      { speaker: 'y', start: 10.2, end: 20 },
    ];
    expect(diarizationErrorRate([{ speaker: 'A', start: 0, end: 10 }, { speaker: 'B', start: 10, end: 20 }], hyp, { collar: 0.25 }).der).toBe(0);
    expect(diarizationErrorRate([{ speaker: 'A', start: 0, end: 10 }, { speaker: 'B', start: 10, end: 20 }], hyp).der).toBeGreaterThan(0.01);
  });
});
