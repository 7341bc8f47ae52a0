/** TrailingSilence: the frame-energy end-of-speech detector behind NativeBackend's fast endpoint. */
import { describe, expect, it } from 'vitest';
import { TrailingSilence } from '../../src/backends/native/endpoint.js';
import { mulberry32 } from '../helpers/prng.js';

const RATE = 16000;
const opts = { silenceSec: 0.1, dropDb: 35, minSpeechSec: 0.2 };

/** `sec` of a 200 Hz tone at `amp`, plus white noise at `noise` (peak). */
function signal(sec: number, amp: number, noise = 0, seed = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: Math.round(sec * RATE) }, (_, i) => amp * Math.sin((2 * Math.PI * 200 * i) / RATE) + noise * (2 * r() - 1));
}
const cat = (...xs: Float32Array[]): Float32Array => {
  const out = new Float32Array(xs.reduce((a, x) => a + x.length, 0));
  let o = 0;
  for (const x of xs) {
    out.set(x, o);
    o += x.length;
  }
  return out;
};

describe('TrailingSilence', () => {
  it('stops 0.1 s into the silence after speech, in any chunking, and starts over', () => {
    const x = cat(signal(0.5, 0.3), signal(0.5, 0), signal(0.5, 0.3), signal(0.3, 0));
    for (const chunk of [x.length, 1600, 333, 160]) {
      const d = new TrailingSilence(RATE, opts);
      const ends: number[] = [];
      let pos = 0;
      for (let i = 0; i < x.length; i += chunk) {
        let rest = x.subarray(i, i + chunk);
        while (rest.length) {
          const n = d.push(rest);
          pos += n;
          if (d.ended) ends.push(pos / RATE);
          rest = rest.subarray(n);
        }
      }
      expect(ends).toEqual([0.6, 1.6]);
    }
  });

  it('ignores pauses shorter than silenceSec and speech shorter than minSpeechSec', () => {
    const d = new TrailingSilence(RATE, opts);
    d.push(cat(signal(0.3, 0.3), signal(0.08, 0), signal(0.3, 0.3)));
    expect(d.ended).toBe(false);
    const e = new TrailingSilence(RATE, opts);
    e.push(cat(signal(0.15, 0.3), signal(0.5, 0)));
    expect(e.ended).toBe(false);
  });

  it('never fires when the noise floor is within dropDb of the speech (the VAD has to decide)', () => {
    const d = new TrailingSilence(RATE, opts);
    d.push(cat(signal(1, 0.3, 0.02, 2), signal(1, 0, 0.02, 3)));
    expect(d.ended).toBe(false);
    // The same speech over a floor 50 dB down does end.
    const e = new TrailingSilence(RATE, opts);
    const n = e.push(cat(signal(1, 0.3, 0.0003, 2), signal(1, 0, 0.0003, 3)));
    expect(e.ended).toBe(true);
    expect(n / RATE).toBeCloseTo(1.1, 2);
  });

  it('treats pure silence and very quiet input as no speech', () => {
    const d = new TrailingSilence(RATE, opts);
    d.push(cat(signal(2, 0), signal(1, 0.001), signal(1, 0)));
    expect(d.ended).toBe(false);
  });
});
