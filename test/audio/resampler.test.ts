import { describe, expect, it } from 'vitest';
import { ChunkNormalizer, InvalidArgumentError, InvalidAudioError, Resampler, chunkToMono, resample } from '../../src/index.js';

function tone(freq: number, rate: number, n: number, amp = 0.5): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return a;
}
/** Level in dB relative to a 0.5-amplitude sine, away from the edges. */
function levelDb(a: Float32Array, margin = 512): number {
  let s = 0;
  for (let i = margin; i < a.length - margin; i++) s += a[i]! ** 2;
  return 20 * Math.log10(Math.sqrt(s / (a.length - 2 * margin)) / (0.5 / Math.SQRT2));
}
function chunked(r: Resampler, x: Float32Array, sizes: number[]): Float32Array {
  const parts: Float32Array[] = [];
  let i = 0;
  for (let k = 0; i < x.length; k++) {
    const n = sizes[k % sizes.length]!;
    parts.push(r.process(x.subarray(i, i + n)));
    i += n;
  }
  parts.push(r.flush());
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('Resampler', () => {
  it('removes content above the new Nyquist instead of folding it back (> 40 dB), and keeps the pass band', () => {
    for (const [from, to] of [
      [48_000, 16_000],
      [44_100, 16_000],
      [22_050, 16_000],
      [16_000, 8_000],
    ] as const) {
      const nyq = to / 2;
      // Just above the new Nyquist, half-way, and far above (each would alias into the band).
      for (const f of [nyq * 1.02, nyq * 1.3, Math.min(from / 2 - 100, nyq * 2.5)]) {
        expect(levelDb(resample(tone(f, from, from), from, to)), `${f} Hz, ${from} → ${to}`).toBeLessThan(-40);
      }
      // In band: speech frequencies pass within 0.1 dB.
      for (const f of [300, 1000, nyq * 0.8]) {
        expect(Math.abs(levelDb(resample(tone(f, from, from), from, to))), `${f} Hz, ${from} → ${to}`).toBeLessThan(0.1);
      }
    }
  });

  it('the test can tell: sample dropping keeps the aliased tone at full level', () => {
    const dropped = tone(11_000, 48_000, 48_000).filter((_, i) => i % 3 === 0);
    expect(levelDb(dropped)).toBeGreaterThan(-1);
  });

  it('up-sampling creates no images above the old Nyquist', () => {
    // A 3 kHz tone at 8 kHz, taken to 48 kHz: naive repetition would put images at 5, 11, 13 kHz…
    const y = resample(tone(3000, 8000, 8000), 8000, 48_000);
    expect(y.length).toBe(48_000);
    // Remove the 3 kHz tone by projecting it out; what remains is images + error.
    let c = 0;
    let s = 0;
    for (let i = 0; i < y.length; i++) {
      c += y[i]! * Math.cos((2 * Math.PI * 3000 * i) / 48_000);
      s += y[i]! * Math.sin((2 * Math.PI * 3000 * i) / 48_000);
    }
    const residual = y.map((v, i) => v - (2 / y.length) * (c * Math.cos((2 * Math.PI * 3000 * i) / 48_000) + s * Math.sin((2 * Math.PI * 3000 * i) / 48_000)));
    expect(levelDb(residual, 2048)).toBeLessThan(-60);
  });

  it('output of process() over any chunking + flush() equals the one-shot output exactly', () => {
    const x = new Float32Array(12_000);
    for (let i = 0; i < x.length; i++) x[i] = 0.4 * Math.sin(i / 9) + 0.2 * Math.sin(i / 2.1);
    // 767999 → 16000 is co-prime with a huge phase count: it uses the interpolated table.
    for (const [from, to] of [
      [44_100, 16_000],
      [8_000, 16_000],
      [16_001, 16_000],
      [767_999, 16_000],
      [11_025, 48_000],
    ] as const) {
      const whole = resample(x, from, to);
      expect(whole.length).toBe(Math.ceil((x.length * to) / from));
      for (const sizes of [[1], [7, 1000, 3], [4096]]) {
        const parts = chunked(new Resampler(from, to), x, sizes);
        expect(parts.length).toBe(whole.length);
        expect(parts).toEqual(whole);
      }
    }
  });

  it('the interpolated table (huge co-prime ratios) is still anti-aliased and in tune', () => {
    expect(levelDb(resample(tone(9_000, 767_999, 767_999), 767_999, 16_000), 64)).toBeLessThan(-40);
    expect(Math.abs(levelDb(resample(tone(1_000, 767_999, 767_999), 767_999, 16_000), 64))).toBeLessThan(0.1);
  });

  it('keeps samples in [-1, 1] (Gibbs ringing of full-scale square waves is clipped)', () => {
    const sq = Float32Array.from({ length: 4800 }, (_, i) => (Math.floor(i / 30) % 2 ? 1 : -1));
    const y = resample(sq, 48_000, 16_000);
    expect(Math.max(...y)).toBeLessThanOrEqual(1);
    expect(Math.min(...y)).toBeGreaterThanOrEqual(-1);
  });

  it('rejects bad rates and options with InvalidArgumentError naming them', () => {
    expect(() => new Resampler(0, 16_000)).toThrow(/`fromRate`/);
    expect(() => new Resampler(16_000, 1.5)).toThrow(/`toRate`/);
    expect(() => new Resampler(16_000, 16_000, { halfTaps: 1 })).toThrow(/`halfTaps`/);
    expect(() => new Resampler(16_000, 16_000, { stopbandDb: 5 })).toThrow(/`stopbandDb`/);
    expect(() => new Resampler(768_000, 100)).toThrow(InvalidArgumentError);
  });
});

describe('chunkToMono / ChunkNormalizer', () => {
  it('scales Int16 by 1/32768 and averages channels', () => {
    const stereo = new Int16Array([16384, -16384, 8192, 8192, -32768, -32768]);
    expect(Array.from(chunkToMono({ samples: stereo, sampleRate: 8000, channels: 2 }))).toEqual([0, 0.25, -1]);
    expect(Array.from(chunkToMono({ samples: Float32Array.from([0.5, 0.25, 1, 0]), sampleRate: 16000, channels: 2 }))).toEqual([0.375, 0.5]);
  });

  it('rejects malformed chunks with messages naming the problem', () => {
    const bad: [unknown, RegExp][] = [
      [{ samples: Float32Array.from([0, Number.NaN]), sampleRate: 16000 }, /NaN sample at frame 1/],
      [{ samples: Float32Array.from([Number.POSITIVE_INFINITY]), sampleRate: 16000 }, /infinite/],
      [{ samples: new Int16Array(3), sampleRate: 16000, channels: 2 }, /not a whole number of 2-channel frames/],
      [{ samples: new Int16Array(4), sampleRate: 0 }, /`sampleRate`/],
      [{ samples: new Int16Array(4), sampleRate: Number.NaN }, /`sampleRate`/],
      [{ samples: new Int16Array(4), sampleRate: 16000, channels: 0 }, /`channels`/],
      [{ samples: [1, 2, 3], sampleRate: 16000 }, /Float32Array or an Int16Array/],
      [null, /must be an object/],
    ];
    for (const [chunk, msg] of bad) {
      expect(() => chunkToMono(chunk as never)).toThrow(InvalidAudioError);
      expect(() => chunkToMono(chunk as never)).toThrow(msg);
    }
  });

  it('resamples statefully: pushing in pieces equals one-shot resampling', () => {
    const x = tone(440, 48_000, 48_000);
    const n = new ChunkNormalizer(16_000);
    const parts: number[] = [];
    for (let i = 0; i < x.length; i += 480) parts.push(...n.push({ samples: x.subarray(i, i + 480), sampleRate: 48_000 }));
    parts.push(...n.flush());
    expect(Float32Array.from(parts)).toEqual(resample(x, 48_000, 16_000));
    expect(n.durationSec).toBe(1);
  });

  it('requires a constant rate and channel count', () => {
    const n = new ChunkNormalizer(16_000);
    n.push({ samples: new Int16Array(160), sampleRate: 8000 });
    expect(() => n.push({ samples: new Int16Array(160), sampleRate: 48_000 })).toThrow(/format changed mid-stream: 48000 Hz × 1 ch after 8000 Hz × 1 ch/);
    expect(() => n.push({ samples: new Int16Array(160), sampleRate: 8000, channels: 2 })).toThrow(InvalidAudioError);
    expect(() => new ChunkNormalizer(-1)).toThrow(InvalidArgumentError);
  });
});
