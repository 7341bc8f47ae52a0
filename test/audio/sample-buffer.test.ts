import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SampleBuffer } from '../../src/audio/sample-buffer.js';

const ramp = (from: number, n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => from + i);

describe('SampleBuffer', () => {
  it('addresses samples by absolute index across pieces', () => {
    const b = new SampleBuffer();
    b.append(ramp(0, 3));
    b.append(ramp(3, 4));
    b.append(new Float32Array(0));
    expect([b.start, b.end, b.length]).toEqual([0, 7, 7]);
    expect(Array.from(b.slice(2, 5).samples)).toEqual([2, 3, 4]);
    expect(b.slice(2, 5).start).toBe(2);
  });

  it('a slice inside one piece is a view; across pieces a copy', () => {
    const piece = ramp(0, 5);
    const b = new SampleBuffer();
    b.append(piece);
    b.append(ramp(5, 5));
    expect(b.slice(1, 4).samples.buffer).toBe(piece.buffer);
    expect(b.slice(3, 7).samples.buffer).not.toBe(piece.buffer);
  });

  it('dropBefore drops whole pieces only; slices clamp to what is kept', () => {
    const b = new SampleBuffer();
    b.append(ramp(0, 4));
    b.append(ramp(4, 4));
    b.dropBefore(5); // the first piece ends at 4 <= 5: dropped; the second (4..8) is kept whole
    expect([b.start, b.end, b.length]).toEqual([4, 8, 4]);
    const s = b.slice(0, 6);
    expect(s.start).toBe(4);
    expect(Array.from(s.samples)).toEqual([4, 5]);
    expect(b.slice(9, 12).samples.length).toBe(0);
    expect(b.slice(6, 2).samples.length).toBe(0);
    b.clear();
    expect([b.start, b.end, b.length]).toEqual([8, 8, 0]);
  });

  it('pieceAt walks the buffer piece by piece', () => {
    const b = new SampleBuffer();
    b.append(ramp(0, 3));
    b.append(ramp(3, 2));
    const out: number[] = [];
    let at = 1;
    for (let p = b.pieceAt(at); p !== undefined; p = b.pieceAt(at)) {
      expect(p.start).toBe(at);
      out.push(...p.samples);
      at = p.start + p.samples.length;
    }
    expect(out).toEqual([1, 2, 3, 4]);
    expect(b.pieceAt(5)).toBeUndefined();
  });

  it('any slice equals the same range of the concatenated audio (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 12 }), fc.nat(60), fc.nat(60), fc.nat(60), (sizes, drop, from, len) => {
        const b = new SampleBuffer();
        let total = 0;
        for (const n of sizes) {
          b.append(ramp(total, n));
          total += n;
        }
        b.dropBefore(drop);
        expect(b.end).toBe(total);
        expect(b.start).toBeLessThanOrEqual(Math.max(drop, 0) > total ? total : Math.max(b.start, 0));
        const s = b.slice(from, from + len);
        const a = Math.max(from, b.start);
        const e = Math.max(a, Math.min(from + len, total));
        expect(s.start).toBe(a);
        expect(Array.from(s.samples)).toEqual(Array.from(ramp(a, e - a)));
      }),
    );
  });
});
