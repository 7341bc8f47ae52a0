import { InvalidArgumentError } from '../errors/index.js';

/** Options of {@link Resampler}. */
export interface ResamplerOptions {
  /**
   * Half-width of the windowed-sinc kernel in input samples at the lower of the two rates' Nyquist.
   * Larger is sharper (and slower).
   * @defaultValue 16
   */
  readonly halfTaps?: number;
  /**
   * Cut-off as a fraction of the lower Nyquist frequency.
   * @defaultValue 0.95
   */
  readonly rolloff?: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function checkRate(name: string, rate: number): void {
  if (!Number.isInteger(rate) || rate <= 0 || rate > 768_000) {
    throw new InvalidArgumentError(`\`${name}\` must be a whole number of Hz in 1..768000, got ${rate}`);
  }
}

/**
 * Streaming band-limited resampler (polyphase windowed sinc, Kaiser window). Anti-aliased: when
 * downsampling, the kernel's cut-off sits below the output Nyquist frequency, so content above it
 * is removed rather than folded back. Stateful: feeding a signal in chunks gives the same output
 * as feeding it whole (`process()` calls, then `flush()`).
 */
export class Resampler {
  /** Input rate in Hz. */
  readonly fromRate: number;
  /** Output rate in Hz. */
  readonly toRate: number;
  private readonly up: number;
  private readonly down: number;
  private readonly half: number;
  /** filters[phase][k], k = 0..2*half-1, for input index base - half + 1 + k. */
  private readonly filters: Float32Array[];
  private buf: Float32Array;
  /** Absolute input index of buf[0]. */
  private bufStart = 0;
  /** Input samples received so far. */
  private received = 0;
  /** Output samples produced so far. */
  private produced = 0;
  private readonly identity: boolean;

  /**
   * @param fromRate - input sample rate, Hz.
   * @param toRate - output sample rate, Hz.
   * @param options - kernel size and cut-off.
   */
  constructor(fromRate: number, toRate: number, options: ResamplerOptions = {}) {
    checkRate('fromRate', fromRate);
    checkRate('toRate', toRate);
    const halfTaps = options.halfTaps ?? 16;
    const rolloff = options.rolloff ?? 0.95;
    if (!Number.isInteger(halfTaps) || halfTaps < 2 || halfTaps > 256) {
      throw new InvalidArgumentError(`\`halfTaps\` must be a whole number in 2..256, got ${halfTaps}`);
    }
    if (!(rolloff > 0 && rolloff <= 1)) {
      throw new InvalidArgumentError(`\`rolloff\` must be in (0, 1], got ${rolloff}`);
    }
    this.fromRate = fromRate;
    this.toRate = toRate;
    const g = gcd(fromRate, toRate);
    this.up = toRate / g;
    this.down = fromRate / g;
    this.identity = fromRate === toRate;
    // Cut-off relative to the input rate's Nyquist: below the lower of the two Nyquists.
    const cutoff = Math.min(1, toRate / fromRate) * rolloff;
    // Kernel half-width in input samples: wider when the cut-off is lower.
    this.half = Math.ceil(halfTaps / Math.min(1, toRate / fromRate));
    const beta = 8.6;
    const i0 = (x: number): number => {
      let sum = 1;
      let term = 1;
      for (let k = 1; k < 50; k++) {
        term *= (x / (2 * k)) ** 2;
        sum += term;
        if (term < 1e-12 * sum) break;
      }
      return sum;
    };
    const i0b = i0(beta);
    this.filters = [];
    const phases = this.identity ? 0 : this.up;
    for (let p = 0; p < phases; p++) {
      // Output time t = base + frac, frac = p / up (in input samples).
      const frac = p / this.up;
      const f = new Float32Array(2 * this.half);
      let sum = 0;
      for (let k = 0; k < 2 * this.half; k++) {
        const x = k - this.half + 1 - frac; // distance from the output instant, in input samples
        const arg = Math.PI * cutoff * x;
        const sinc = x === 0 ? 1 : Math.sin(arg) / arg;
        const r = x / this.half;
        const w = Math.abs(r) >= 1 ? 0 : i0(beta * Math.sqrt(1 - r * r)) / i0b;
        f[k] = cutoff * sinc * w;
        sum += f[k]!;
      }
      // Normalise DC gain to exactly 1.
      for (let k = 0; k < f.length; k++) f[k]! /= sum;
      this.filters.push(f);
    }
    this.buf = new Float32Array(0);
  }

  /** Resamples the next chunk; returns the output samples that are complete so far. */
  process(input: Float32Array): Float32Array {
    if (this.identity) return input.slice();
    // Append input to the buffer.
    const merged = new Float32Array(this.buf.length + input.length);
    merged.set(this.buf, 0);
    merged.set(input, this.buf.length);
    this.buf = merged;
    this.received += input.length;
    return this.emit(this.received);
  }

  /** Ends the stream: returns the remaining output (the signal is taken as zero after its end). */
  flush(): Float32Array {
    if (this.identity) return new Float32Array(0);
    // Output samples whose instants fall inside the input; samples past the end read as zero.
    const total = Math.ceil((this.received * this.up) / this.down);
    return this.emit(Number.POSITIVE_INFINITY, total);
  }

  /** Emits every output whose kernel needs only input indices below `inputLimit`. */
  private emit(inputLimit: number, maxOutputs = Number.POSITIVE_INFINITY): Float32Array {
    const out: number[] = [];
    const half = this.half;
    for (;;) {
      if (this.produced >= maxOutputs) break;
      const num = this.produced * this.down;
      const base = Math.floor(num / this.up);
      const phase = num - base * this.up;
      // Needs inputs base - half + 1 .. base + half.
      if (base + half >= inputLimit) break;
      const f = this.filters[phase]!;
      let acc = 0;
      const start = base - half + 1 - this.bufStart;
      for (let k = 0; k < f.length; k++) {
        const idx = start + k;
        if (idx >= 0 && idx < this.buf.length) acc += f[k]! * this.buf[idx]!;
      }
      // Band-limiting full-scale input rings slightly past ±1 (Gibbs); keep the [-1, 1] contract.
      out.push(acc > 1 ? 1 : acc < -1 ? -1 : acc);
      this.produced++;
    }
    // Drop input no longer needed by future outputs.
    const nextBase = Math.floor((this.produced * this.down) / this.up);
    const keepFrom = nextBase - half + 1 - this.bufStart;
    if (keepFrom > 0) {
      const drop = Math.min(keepFrom, this.buf.length);
      this.buf = this.buf.slice(drop);
      this.bufStart += drop;
    }
    return Float32Array.from(out);
  }
}

/** One-shot anti-aliased resampling of a whole signal (same output as a {@link Resampler}). */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  const r = new Resampler(fromRate, toRate);
  if (fromRate === toRate) return samples.slice();
  const a = r.process(samples);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
