import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChunkedLiveProcessor, readCommittedWords, type LiveEvent, type TickEvent } from '../../src/chunking/index.js';
import { AbortedError, BackendUnavailableError, ConnectionError, InvalidArgumentError, InvalidAudioError } from '../../src/errors/index.js';
import type { Word } from '../../src/spec/index.js';
import { TestBackend } from '../../src/testing/index.js';
import { PROJECT_ROOT } from '../helpers/shared.js';
import { hearBursts, makeBursts, RATE } from './bursts.js';
import { asIfOwnerDied } from './owner-death.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'live-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const BPS = RATE * 2;

/** Pushes PCM in `chunkSec` pieces; with `paced`, waits for each tick (like --speed max). */
async function feed(p: ChunkedLiveProcessor, pcm: Uint8Array, chunkSec = 0.5, paced = true): Promise<void> {
  const step = Math.round(chunkSec * RATE) * 2;
  for (let o = 0; o < pcm.length; o += step) {
    await p.push(pcm.subarray(o, Math.min(pcm.length, o + step)));
    if (paced) await p.onIdle();
  }
}

function collect(p: ChunkedLiveProcessor): { finals: Word[]; ticks: TickEvent[]; events: LiveEvent[] } {
  const out = { finals: [] as Word[], ticks: [] as TickEvent[], events: [] as LiveEvent[] };
  p.on('final', (e) => out.finals.push(...e.segment.words));
  p.on('tick', (e) => out.ticks.push(e));
  for (const t of ['partial', 'final', 'tick', 'lag', 'speaker-remap', 'error', 'end'] as const) {
    p.on(t, (e: LiveEvent) => out.events.push(e));
  }
  return out;
}

function expectExactlyOnce(committed: readonly Word[], truth: readonly { word: string }[]): void {
  expect(committed.map((w) => w.word)).toEqual(truth.map((w) => w.word));
  for (let i = 1; i < committed.length; i++) expect(committed[i]!.start).toBeGreaterThanOrEqual(committed[i - 1]!.end);
}

describe('ChunkedLiveProcessor (windowed, TestBackend)', () => {
  it('commits every word exactly once across tick boundaries, reading only bounded windows', async () => {
    const { pcm, words, durationSec } = makeBursts(500, 7);
    const backend = new TestBackend({ script: hearBursts, capabilities: { streaming: false } });
    const p = new ChunkedLiveProcessor({ backend, spoolDir: dir, intervalSec: 10, contextSec: 20 });
    const got = collect(p);
    const iterated: LiveEvent[] = [];
    const iterating = (async () => {
      for await (const e of p.events()) iterated.push(e);
    })();
    await p.start();
    await feed(p, pcm);
    const final = await p.stop();
    await iterating;

    expectExactlyOnce(got.finals, words);
    // Every tick read at most (interval + context) of audio, and started no earlier than the look-back.
    expect(got.ticks.length).toBeGreaterThanOrEqual(Math.floor(durationSec / 10));
    for (const t of got.ticks.slice(0, -1)) expect(t.bytesRead).toBeLessThanOrEqual((10 + 20) * BPS);
    const s = p.summary();
    expect(s.committedWords).toBe(words.length);
    expect(s.decodedRatio).toBeLessThan(1.6);
    expect(s.bytesRead).toBe(got.ticks.reduce((n, t) => n + t.bytesRead, 0));
    // Partials were shown for the provisional tail, and the async iterator saw the same events, ending with `end`.
    expect(got.events.some((e) => e.type === 'partial')).toBe(true);
    expect(iterated.map((e) => e.type)).toEqual(got.events.map((e) => e.type));
    expect(iterated.at(-1)?.type).toBe('end');
    // The final pass ran once over the whole spooled file.
    const last = backend.calls.at(-1)!;
    expect(last.method).toBe('transcribe');
    expect(final.durationSec).toBeCloseTo(durationSec, 1);
    expect(final.segments.flatMap((x) => x.words).map((w) => w.word)).toEqual(words.map((w) => w.word));
    // The commit log and the journal on disk agree with what was emitted.
    expect((await readCommittedWords(dir)).map((w) => w.word)).toEqual(words.map((w) => w.word));
    const journal = JSON.parse(await readFile(join(dir, 'journal.json'), 'utf8'));
    expect(journal).toMatchObject({ finalized: true, emittedWords: words.length, bytesDurable: pcm.length - (pcm.length % 2) });
  });

  it('splits windows to the model limit (capabilities.maxWindowSec)', async () => {
    const { pcm, words } = makeBursts(150, 3);
    const backend = new TestBackend({ script: hearBursts, capabilities: { streaming: false, maxWindowSec: 8 } });
    const p = new ChunkedLiveProcessor({ backend, spoolDir: dir, intervalSec: 15, contextSec: 30, provisionalSec: 1.5 });
    const got = collect(p);
    await p.start();
    await feed(p, pcm, 1);
    await p.stop();
    expectExactlyOnce(got.finals, words);
    const live = backend.calls.slice(0, -1).filter((c) => c.method === 'transcribe');
    expect(live.length).toBeGreaterThan(got.ticks.length);
    for (const c of live) expect(c.audio!.durationSec).toBeLessThanOrEqual(8 + 1e-6);
    expect(got.ticks.some((t) => t.backendCalls > 1)).toBe(true);
  });

  it('coalesces ticks that fall behind and emits lag events, without losing or repeating words', async () => {
    const { pcm, words } = makeBursts(200, 11);
    const backend = new TestBackend({ script: hearBursts, capabilities: { streaming: false }, latencyMs: 150 });
    const p = new ChunkedLiveProcessor({ backend, spoolDir: dir, intervalSec: 5, contextSec: 10 });
    const got = collect(p);
    const lags: unknown[] = [];
    p.on('lag', (e) => lags.push(e));
    await p.start();
    await feed(p, pcm, 0.5, false); // audio arrives much faster than ticks finish
    await p.stop();
    expectExactlyOnce(got.finals, words);
    expect(lags.length).toBeGreaterThan(0);
    expect(got.ticks.some((t) => t.coalesced)).toBe(true);
    // Ticks were not queued one per interval: far fewer ticks than intervals of audio.
    const intervals = pcm.length / BPS / 5;
    expect(got.ticks.length).toBeLessThan(intervals / 2);
    expect(p.summary().lagEvents).toBe(lags.length);
  });

  it('keeps the spool when a window fails, reports a recoverable error, and retries it next tick', async () => {
    const { pcm, words } = makeBursts(120, 5);
    const backend = new TestBackend({
      script: hearBursts,
      capabilities: { streaming: false },
      failFirst: { count: 1, error: () => new ConnectionError('server went away') },
    });
    const p = new ChunkedLiveProcessor({ backend, spoolDir: dir, intervalSec: 5 });
    const got = collect(p);
    await p.start();
    await feed(p, pcm);
    await p.stop();
    const errors = got.events.filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ recoverable: true, error: { code: 'connection_error' } });
    expectExactlyOnce(got.finals, words);
  });

  it('recovers from an abandoned (crashed) session: keeps the audio and the words, finalizes without repeats', async () => {
    const { pcm, words } = makeBursts(300, 9);
    const backend = new TestBackend({ script: hearBursts, capabilities: { streaming: false } });
    const cut = Math.floor((pcm.length * 0.6) / 2) * 2;
    // A real crash: a child process runs the same session up to `cut` and dies by SIGKILL (no
    // stop(), the WAV header unpatched, nothing flushed, its lock left behind).
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'test', 'chunking', 'fixtures', 'crash-windowed.ts'), dir, '300', '9', String(cut), '8'],
      { cwd: PROJECT_ROOT, encoding: 'utf8' },
    );
    expect(child.signal, child.stderr).toBe('SIGKILL');
    const before = { finals: JSON.parse(child.stdout) as Word[] };
    expect(before.finals.length).toBeGreaterThan(0);

    const r = await ChunkedLiveProcessor.recover(dir, { backend, intervalSec: 8 });
    expect(r.recovered!.audioSec).toBeCloseTo(cut / BPS, 3);
    expect(r.recovered!.committedWords).toBe(before.finals.length);
    const after = collect(r);
    await feed(r, pcm.subarray(cut)); // the meeting goes on
    await r.stop();
    expectExactlyOnce([...before.finals, ...after.finals], words);
    expect((await readCommittedWords(dir)).map((w) => w.word)).toEqual(words.map((w) => w.word));
  });

  it('validates options and call order with typed errors', async () => {
    const backend = new TestBackend({ script: hearBursts });
    expect(() => new ChunkedLiveProcessor({ backend, spoolDir: dir, intervalSec: -1 })).toThrow(/`intervalSec` must be a finite number > 0, got -1/);
    expect(() => new ChunkedLiveProcessor({ backend, spoolDir: dir, contextSec: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => new ChunkedLiveProcessor({ backend, spoolDir: '' })).toThrow(/spoolDir/);
    expect(() => new ChunkedLiveProcessor({ backend: {} as never, spoolDir: dir })).toThrow(/backend/);
    expect(() => new ChunkedLiveProcessor({ backend, spoolDir: dir, mode: 'fast' as never })).toThrow(/mode/);
    const p = new ChunkedLiveProcessor({ backend, spoolDir: dir });
    await expect(p.push(new Uint8Array(4))).rejects.toThrow(/before start/);
    await p.start();
    await expect(p.push({ samples: new Int16Array(10), sampleRate: 8000 })).rejects.toBeInstanceOf(InvalidAudioError);
    await expect(p.push({ samples: new Float32Array([0, Number.NaN]), sampleRate: RATE })).rejects.toBeInstanceOf(InvalidAudioError);
    await p.stop();
    await expect(p.push(new Uint8Array(4))).rejects.toThrow(/after stop/);
    // The spool folder is not reused by accident.
    await expect(new ChunkedLiveProcessor({ backend, spoolDir: dir }).start()).rejects.toBeInstanceOf(InvalidArgumentError);
    // An unavailable backend, or streaming asked of a non-streaming model.
    const down = new TestBackend({ available: false });
    await expect(new ChunkedLiveProcessor({ backend: down, spoolDir: join(dir, 'a') }).start()).rejects.toBeInstanceOf(BackendUnavailableError);
    const offline = new TestBackend({ capabilities: { streaming: false } });
    await expect(new ChunkedLiveProcessor({ backend: offline, spoolDir: join(dir, 'b'), mode: 'streaming' }).start()).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
  });

  it('honours an AbortSignal: an aborted processor rejects pushes and stop()', async () => {
    const controller = new AbortController();
    const backend = new TestBackend({ script: hearBursts, capabilities: { streaming: false }, latencyMs: 50 });
    const p = new ChunkedLiveProcessor({ backend, spoolDir: dir, intervalSec: 1, abortSignal: controller.signal });
    await p.start();
    await p.push(makeBursts(10).pcm);
    controller.abort();
    await expect(p.push(new Uint8Array(2))).rejects.toBeInstanceOf(AbortedError);
    await expect(p.stop()).rejects.toBeInstanceOf(AbortedError);
  });
});

describe('ChunkedLiveProcessor (streaming model, TestBackend)', () => {
  it('feeds the audio once, with no re-reads, and commits the stream finals exactly once', async () => {
    const { pcm, words } = makeBursts(200, 13);
    const backend = new TestBackend({ script: words, capabilities: { streaming: true } });
    const p = new ChunkedLiveProcessor({ backend, spoolDir: dir, intervalSec: 5 });
    const got = collect(p);
    await p.start();
    expect(p.isStreamingMode).toBe(true);
    await feed(p, pcm, 0.2, false);
    await p.stop();
    expectExactlyOnce(got.finals, words);
    const s = p.summary();
    expect(s.mode).toBe('streaming');
    expect(s.bytesRead).toBe(pcm.length);
    expect(s.decodedRatio).toBeCloseTo(1, 5);
    expect(got.ticks.every((t) => t.mode === 'streaming' && t.bytesRead <= 5.2 * BPS)).toBe(true);
    const streamCalls = backend.calls.filter((c) => c.method === 'transcribeStream');
    expect(streamCalls).toHaveLength(1);
  });
});

describe('ChunkedLiveProcessor.recover (streaming model, TestBackend)', () => {
  it('re-feeds the spooled audio after the commit frontier to a new stream, then goes on', async () => {
    const { pcm, words } = makeBursts(250, 21);
    const backend = new TestBackend({ script: hearBursts, capabilities: { streaming: true } });
    const p = new ChunkedLiveProcessor({ backend, spoolDir: dir, intervalSec: 5 });
    await p.start();
    const cut = Math.floor((pcm.length * 0.5) / 2) * 2;
    await feed(p, pcm.subarray(0, cut), 0.5, false);
    await p.onIdle(); // its last journal write lands (a killed process would have none in flight)
    // "Crash" mid-stream: a function script only answers at the end of its stream, so nothing was committed.
    await asIfOwnerDied(dir);
    const r = await ChunkedLiveProcessor.recover(dir, { backend, intervalSec: 5 });
    expect(r.isStreamingMode).toBe(true);
    expect(r.recovered!.audioSec).toBeCloseTo(cut / BPS, 3);
    const got = collect(r);
    await feed(r, pcm.subarray(cut), 0.5, false);
    await r.stop();
    expectExactlyOnce(got.finals, words);
    const streams = backend.calls.filter((c) => c.method === 'transcribeStream');
    expect(streams).toHaveLength(2);
    expect(streams[1]!.receivedSec).toBeCloseTo(pcm.length / BPS, 1);
  });
});
