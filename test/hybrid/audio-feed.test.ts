import { describe, expect, it } from 'vitest';
import { InvalidAudioError } from '../../src/errors/index.js';
import { AudioFeed } from '../../src/hybrid/audio-feed.js';
import type { AudioChunk } from '../../src/spec/index.js';

async function* chunks(list: readonly AudioChunk[], thenThrow?: { value: unknown }): AsyncGenerator<AudioChunk> {
  for (const c of list) yield c;
  if (thenThrow !== undefined) throw thenThrow.value;
}

function ramp(from: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (from + i) / 1000);
}

async function readAll(it: AsyncIterable<AudioChunk>): Promise<number[]> {
  const out: number[] = [];
  for await (const c of it) out.push(...(c.samples as Float32Array));
  return out;
}

describe('AudioFeed (the hybrid stream replay buffer, over SampleBuffer)', () => {
  it('a second reader replays from the committed point; audio before it is dropped, audio after it never is', async () => {
    const feed = new AudioFeed(chunks([0, 100, 200, 300].map((s) => ({ samples: ramp(s, 100), sampleRate: 1000 }))));
    let active = true;
    const first: number[] = [];
    for await (const c of feed.reader(0, () => active)) {
      first.push(...(c.samples as Float32Array));
      if (first.length === 200) feed.commit(0.15); // a final up to sample 150: the first piece (0..100) may go
    }
    expect(first).toHaveLength(400);
    expect(feed.totalSec).toBeCloseTo(0.4);
    expect(feed.replayFrom()).toBe(150);
    active = true;
    // Replaying from 0 starts at what is still kept: the piece holding sample 150 (100..200) on.
    const replay = await readAll(feed.reader(0, () => active));
    expect(replay).toEqual(Array.from(ramp(100, 300)));
  });

  it('chunks handed to a reader are copies: a backend that changes them does not change the replay', async () => {
    const feed = new AudioFeed(chunks([{ samples: ramp(0, 50), sampleRate: 1000 }]));
    for await (const c of feed.reader(0, () => true)) (c.samples as Float32Array).fill(9);
    expect(await readAll(feed.reader(0, () => true))).toEqual(Array.from(ramp(0, 50)));
  });

  it('a source that fails makes every reader throw what it threw, even a non-Error value (never a quiet end)', async () => {
    const boom = new Error('microphone gone');
    const feed = new AudioFeed(chunks([{ samples: ramp(0, 10), sampleRate: 1000 }], { value: boom }));
    await expect(readAll(feed.reader(0, () => true))).rejects.toBe(boom);
    expect(feed.sourceError).toBe(boom);
    const odd = new AudioFeed(chunks([{ samples: ramp(0, 10), sampleRate: 1000 }], { value: undefined }));
    let threw = false;
    try {
      await readAll(odd.reader(0, () => true));
    } catch {
      threw = true;
    }
    expect(threw).toBe(true);
    expect(odd.sourceFailed).toBe(true);
  });

  it('a chunk whose format changes mid-stream is an InvalidAudioError naming both formats', async () => {
    const feed = new AudioFeed(chunks([{ samples: ramp(0, 10), sampleRate: 1000 }, { samples: ramp(0, 10), sampleRate: 2000 }]));
    await expect(readAll(feed.reader(0, () => true))).rejects.toThrow(InvalidAudioError);
    expect((feed.sourceError as Error).message).toMatch(/2000 Hz × 1 ch after 1000 Hz × 1 ch/);
  });
});
