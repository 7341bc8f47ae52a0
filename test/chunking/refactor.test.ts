import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChunkedLiveProcessor, PcmSpool, type LiveEvent } from '../../src/chunking/index.js';
import { InvalidArgumentError, InvalidAudioError } from '../../src/errors/index.js';
import { TestBackend } from '../../src/testing/index.js';
import { hearBursts, makeBursts, RATE } from './bursts.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'live-one-home-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('one set of live-audio limits (audio/limits.ts) for the processor and its spool', () => {
  it('an out-of-range `sampleRate` option is an InvalidArgumentError naming the shared limits', async () => {
    const backend = new TestBackend({ script: hearBursts });
    for (const sampleRate of [999, 384_001, 12.5]) {
      expect(() => new ChunkedLiveProcessor({ backend, spoolDir: dir, sampleRate })).toThrow(InvalidArgumentError);
      expect(() => new ChunkedLiveProcessor({ backend, spoolDir: dir, sampleRate })).toThrow(
        `\`sampleRate\` must be a whole number of Hz from 1000 to 384000, got ${sampleRate}`,
      );
      await expect(PcmSpool.create({ dir: join(dir, String(sampleRate)), sampleRate })).rejects.toThrow(
        `\`sampleRate\` must be a whole number of Hz from 1000 to 384000, got ${sampleRate}`,
      );
    }
    // The edges are allowed.
    expect(() => new ChunkedLiveProcessor({ backend, spoolDir: dir, sampleRate: 1000 })).not.toThrow();
    expect(() => new ChunkedLiveProcessor({ backend, spoolDir: dir, sampleRate: 384_000 })).not.toThrow();
  });

  it('`channels` has the package-wide limit (1 to 64), like a chunk', () => {
    const backend = new TestBackend({ script: hearBursts });
    expect(() => new ChunkedLiveProcessor({ backend, spoolDir: dir, channels: 64 })).not.toThrow();
    expect(() => new ChunkedLiveProcessor({ backend, spoolDir: dir, channels: 65 })).toThrow('`channels` must be a whole number from 1 to 64, got 65');
    expect(() => new ChunkedLiveProcessor({ backend, spoolDir: dir, channels: 0 })).toThrow(InvalidArgumentError);
  });

  it('a pushed chunk goes through the one chunk validator: a bad chunk is an InvalidAudioError saying what is wrong', async () => {
    const backend = new TestBackend({ script: hearBursts, capabilities: { streaming: false } });
    const p = new ChunkedLiveProcessor({ backend, spoolDir: dir });
    await p.start();
    await expect(p.push({ samples: new Int16Array(4), sampleRate: 500 })).rejects.toThrow(
      new InvalidAudioError('Audio chunk `sampleRate` must be a whole number of Hz from 1000 to 384000, got 500'),
    );
    await expect(p.push({ samples: [0, 0] as unknown as Float32Array, sampleRate: RATE })).rejects.toThrow(/Float32Array or an Int16Array/);
    await expect(p.push({ samples: new Int16Array(3), sampleRate: RATE, channels: 2 })).rejects.toThrow(/not a whole number of 2-channel frames/);
    await p.push({ samples: new Int16Array(RATE), sampleRate: RATE });
    await p.stop({ fullPass: false });
  });
});

describe('events(): one channel per subscriber', () => {
  it('a subscriber that breaks out stops only itself; the others get every event up to `end`; a late one ends at once', async () => {
    const { pcm } = makeBursts(120, 3);
    const backend = new TestBackend({ script: hearBursts, capabilities: { streaming: false } });
    const p = new ChunkedLiveProcessor({ backend, spoolDir: dir, intervalSec: 5 });
    const heard: LiveEvent[] = [];
    p.on('tick', (e) => heard.push(e));
    p.on('final', (e) => heard.push(e));
    p.on('end', (e) => heard.push(e));
    const quitter: LiveEvent[] = [];
    const stayer: LiveEvent[] = [];
    const quitting = (async () => {
      for await (const e of p.events()) {
        quitter.push(e);
        if (e.type === 'tick') break;
      }
    })();
    const staying = (async () => {
      for await (const e of p.events()) if (e.type === 'tick' || e.type === 'final' || e.type === 'end') stayer.push(e);
    })();
    await p.start();
    const step = Math.round(0.5 * RATE) * 2;
    for (let o = 0; o < pcm.length; o += step) {
      await p.push(pcm.subarray(o, Math.min(pcm.length, o + step)));
      await p.onIdle();
    }
    await p.stop();
    await Promise.all([quitting, staying]);
    expect(quitter.at(-1)?.type).toBe('tick');
    expect(quitter.length).toBeLessThan(stayer.length);
    expect(stayer).toEqual(heard);
    expect(stayer.at(-1)?.type).toBe('end');
    const late: LiveEvent[] = [];
    for await (const e of p.events()) late.push(e);
    expect(late).toEqual([]);
  });
});
