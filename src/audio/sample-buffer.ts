/**
 * The one replay buffer of the package: mono float audio addressed by absolute sample index
 * (sample 0 is the first sample ever appended), kept as the pieces it was appended in so that
 * appending never copies. Owners drop what they no longer need with {@link SampleBuffer.dropBefore}.
 * @internal
 */
export class SampleBuffer {
  #pieces: Float32Array[] = [];
  /** Absolute index of the first kept sample. */
  #start = 0;
  #kept = 0;

  /** Absolute index of the first sample still kept. */
  get start(): number {
    return this.#start;
  }

  /** Absolute index one past the last sample appended (samples appended in all). */
  get end(): number {
    return this.#start + this.#kept;
  }

  /** Samples kept. */
  get length(): number {
    return this.#kept;
  }

  /** Appends samples (kept by reference: the caller must not reuse the array). Empty arrays are ignored. */
  append(samples: Float32Array): void {
    if (samples.length === 0) return;
    this.#pieces.push(samples);
    this.#kept += samples.length;
  }

  /** Drops the pieces that end at or before absolute sample `index` (whole pieces only). */
  dropBefore(index: number): void {
    while (this.#pieces.length > 0) {
      const first = this.#pieces[0]!;
      if (this.#start + first.length > index) break;
      this.#pieces.shift();
      this.#start += first.length;
      this.#kept -= first.length;
    }
  }

  /** Drops everything kept; `end` stays where it is. */
  clear(): void {
    this.dropBefore(this.end);
  }

  /**
   * Samples `[from, to)` that are still kept (clamped to what is kept), and the absolute index they
   * start at. A range inside one piece is a view (no copy); otherwise a new array.
   */
  slice(from: number, to: number = this.end): { samples: Float32Array; start: number } {
    const a = Math.max(from, this.#start);
    const b = Math.max(a, Math.min(to, this.end));
    let pos = this.#start;
    for (const p of this.#pieces) {
      if (a >= pos && b <= pos + p.length) return { samples: p.subarray(a - pos, b - pos), start: a };
      if (pos + p.length > a) break;
      pos += p.length;
    }
    const out = new Float32Array(b - a);
    pos = this.#start;
    for (const p of this.#pieces) {
      const ps = pos;
      const pe = pos + p.length;
      pos = pe;
      if (pe <= a) continue;
      if (ps >= b) break;
      const s = Math.max(a, ps);
      const e = Math.min(b, pe);
      out.set(p.subarray(s - ps, e - ps), s - a);
    }
    return { samples: out, start: a };
  }

  /**
   * From absolute sample `from` to the end of the piece that holds it (a view), and where it
   * starts: the natural unit for a reader that walks the buffer. `undefined` when `from` is at or
   * past the end. A `from` before `start` reads from `start`.
   */
  pieceAt(from: number): { samples: Float32Array; start: number } | undefined {
    const a = Math.max(from, this.#start);
    let pos = this.#start;
    for (const p of this.#pieces) {
      if (a < pos + p.length) return { samples: p.subarray(a - pos), start: a };
      pos += p.length;
    }
    return undefined;
  }
}
