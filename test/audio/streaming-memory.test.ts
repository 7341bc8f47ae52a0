import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openAudio } from '../../src/index.js';

/**
 * A never-materialised 1-hour streamed WAV (data size 0xFFFFFFFF), produced 4 KiB at a time.
 * Counts how far the reader pulls ahead of what its consumer has taken.
 */
function longWav(seconds: number, rate: number, piece = 4096) {
  const state = { produced: 0 };
  const total = seconds * rate * 2;
  async function* gen(): AsyncGenerator<Uint8Array> {
    const h = Buffer.alloc(44);
    h.write('RIFF', 0, 'latin1');
    h.writeUInt32LE(0xffffffff, 4);
    h.write('WAVEfmt ', 8, 'latin1');
    h.writeUInt32LE(16, 16);
    h.writeUInt16LE(1, 20);
    h.writeUInt16LE(1, 22);
    h.writeUInt32LE(rate, 24);
    h.writeUInt32LE(rate * 2, 28);
    h.writeUInt16LE(2, 32);
    h.writeUInt16LE(16, 34);
    h.write('data', 36, 'latin1');
    h.writeUInt32LE(0xffffffff, 40);
    yield h;
    let left = total;
    while (left > 0) {
      const n = Math.min(piece, left);
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i += 2) b.writeInt16LE(((state.produced + i) / 2) % 2000 - 1000, i);
      state.produced += n;
      left -= n;
      yield b;
    }
  }
  return { gen, state };
}

describe('incremental reading', () => {
  it('pulls a bounded amount ahead of the consumer on a 1-hour stream (memory does not grow with length)', async () => {
    const rate = 16000;
    const { gen, state } = longWav(3600, rate, 4000);
    const reader = await openAudio(gen(), { chunkFrames: 8192 });
    expect(reader.durationSec).toBeUndefined();
    let consumedBytes = 0;
    let maxAhead = 0;
    for await (const chunk of reader) {
      consumedBytes += chunk.length * 2;
      maxAhead = Math.max(maxAhead, state.produced - consumedBytes);
    }
    expect(consumedBytes).toBe(3600 * rate * 2);
    console.log(`1-hour stream: at most ${maxAhead} bytes pulled ahead of the consumer`);
    // At most one output chunk (16 KiB) plus one source chunk (4 KiB) in flight.
    expect(maxAhead).toBeLessThanOrEqual(8192 * 2 + 4096);
  }, 60_000);

  it('stays bounded through a byte-mode Readable and while resampling 48 kHz → 16 kHz', async () => {
    const rate = 48_000;
    const seconds = 600; // 10 minutes (55 MB never held): the bound does not depend on length
    const { gen, state } = longWav(seconds, rate, 6000);
    const it = gen();
    // A classic pull-based Readable: _read() is called only when its 16 KiB buffer has room.
    const readable = new Readable({
      highWaterMark: 16 * 1024,
      read() {
        it.next().then(
          (r) => this.push(r.done ? null : r.value),
          (e: Error) => this.destroy(e),
        );
      },
    });
    const reader = await openAudio(readable, { sampleRate: 16_000, chunkFrames: 4800 });
    expect(reader.sampleRate).toBe(16_000);
    let outSamples = 0;
    let maxAhead = 0;
    for await (const chunk of reader) {
      outSamples += chunk.length;
      // Source bytes the consumer has been given the equivalent of: 3 input frames per output.
      maxAhead = Math.max(maxAhead, state.produced - outSamples * 3 * 2);
    }
    expect(outSamples).toBe(seconds * 16_000);
    console.log(`48 kHz Readable → 16 kHz: at most ${maxAhead} source bytes pulled ahead of the consumer`);
    // One reader chunk (9.6 KB) + the Readable's buffer (16 KiB) + one source piece (6 KB) +
    // the resampler's look-ahead (a few hundred samples).
    expect(maxAhead).toBeLessThanOrEqual(4800 * 2 + 16 * 1024 + 6000 + 2 * 1024);
  }, 120_000);

  it('stops reading and closes the source when the consumer breaks out', async () => {
    const { gen, state } = longWav(3600, 16000);
    let returned = false;
    const it = gen();
    const wrapped: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: () => it.next(),
        return: async () => {
          returned = true;
          return it.return(undefined);
        },
      }),
    };
    const reader = await openAudio(wrapped, { chunkFrames: 4096 });
    let n = 0;
    for await (const _ of reader) {
      if (++n === 3) break;
    }
    expect(returned).toBe(true);
    expect(state.produced).toBeLessThan(64 * 1024);
  });
});
