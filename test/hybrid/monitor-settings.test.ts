import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HybridManager, JsonFileSettingsStore, NetworkMonitor, SettingsError } from '../../src/hybrid/index.js';
import { TestBackend } from '../../src/testing/index.js';

describe('NetworkMonitor (fake timers)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A probe whose answers the test controls; counts concurrent calls. */
  function controllable() {
    const state = { up: true, inFlight: 0, maxInFlight: 0, calls: 0, delayMs: 10 };
    const probe = async (signal: AbortSignal): Promise<boolean> => {
      state.calls++;
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      try {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, state.delayMs);
          signal.addEventListener('abort', () => (clearTimeout(t), reject(new Error('aborted'))), { once: true });
        });
        return state.up;
      } finally {
        state.inFlight--;
      }
    };
    return { state, probe };
  }

  it('probes periodically while online and emits state changes once', async () => {
    const { state, probe } = controllable();
    const m = new NetworkMonitor({ probe, intervalMs: 1000 });
    const events: string[] = [];
    m.on('online', () => events.push('online'));
    m.on('offline', () => events.push('offline'));
    expect(state.calls).toBe(0); // constructing starts nothing
    m.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(m.state).toBe('online');
    await vi.advanceTimersByTimeAsync(3050);
    expect(state.calls).toBe(4); // t=0, 1010, 2020, 3030
    expect(events).toEqual(['online']);
    m.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(state.calls).toBe(4);
  });

  it('no probe storm: many failure reports give one probe in flight', async () => {
    const { state, probe } = controllable();
    state.delayMs = 500;
    const m = new NetworkMonitor({ probe, intervalMs: 60_000 });
    m.start();
    for (let i = 0; i < 100; i++) m.reportFailure();
    const all = Promise.all([m.check(), m.check(), m.check()]);
    await vi.advanceTimersByTimeAsync(600);
    const answers = await all;
    expect(answers).toEqual([true, true, true]);
    expect(state.calls).toBe(1);
    expect(state.maxInFlight).toBe(1);
  });

  it('backs off exponentially while down, up to the maximum, and recovers', async () => {
    const { state, probe } = controllable();
    state.up = false;
    state.delayMs = 1;
    const m = new NetworkMonitor({ probe, intervalMs: 60_000, backoffInitialMs: 1000, backoffMaxMs: 8000 });
    const offline = vi.fn();
    const online = vi.fn();
    m.on('offline', offline);
    m.on('online', online);
    m.start();
    expect(state.calls).toBe(1); // start() probes at once
    const times: number[] = [Date.now()];
    for (let i = 0; i < 6; i++) {
      const before = state.calls;
      while (state.calls === before) await vi.advanceTimersByTimeAsync(100);
      times.push(Date.now());
    }
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 1 s, 2 s, 4 s, 8 s, 8 s, 8 s (± one 100 ms step and the 1 ms probe)
    expect(gaps.map((g) => Math.round(g / 1000))).toEqual([1, 2, 4, 8, 8, 8]);
    expect(offline).toHaveBeenCalledTimes(1);
    m.reportFailure(); // while offline: no extra probe
    await vi.advanceTimersByTimeAsync(50);
    expect(state.inFlight).toBe(0);
    state.up = true;
    await vi.advanceTimersByTimeAsync(8100);
    expect(m.state).toBe('online');
    expect(online).toHaveBeenCalledTimes(1);
    expect(m.nextDelayMs).toBe(60_000);
  });

  it('a probe that hangs past the timeout counts as down', async () => {
    const { state, probe } = controllable();
    state.delayMs = 100_000;
    const m = new NetworkMonitor({ probe, timeoutMs: 500 });
    const p = m.check();
    await vi.advanceTimersByTimeAsync(501);
    expect(await p).toBe(false);
    expect(m.state).toBe('offline');
  });

  it('the app pushes its own knowledge: offline pauses probing, online probes at once', async () => {
    const { state, probe } = controllable();
    const m = new NetworkMonitor({ probe, intervalMs: 1000 });
    m.start();
    await vi.advanceTimersByTimeAsync(20);
    m.setKnownState('offline');
    expect(m.state).toBe('offline');
    const calls = state.calls;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(state.calls).toBe(calls);
    m.setKnownState('online');
    await vi.advanceTimersByTimeAsync(20);
    expect(state.calls).toBe(calls + 1);
    expect(m.state).toBe('online');
  });

  it('validates options', () => {
    expect(() => new NetworkMonitor({} as never)).toThrow(/`probe`/);
    expect(() => new NetworkMonitor({ probe: async () => true, intervalMs: -1 })).toThrow(/`intervalMs` must be a finite number > 0, got -1/);
    expect(() => new NetworkMonitor({ probe: async () => true, backoffInitialMs: 10, backoffMaxMs: 5 })).toThrow(/backoffMaxMs/);
  });
});

describe('settings persistence', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'hybrid-settings-'))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('saves mode and preferred model to a JSON file atomically, and a new manager loads them', async () => {
    const path = join(dir, 'sub', 'settings.json');
    const a = new HybridManager({ native: new TestBackend({ id: 'native' }), remote: new TestBackend({ id: 'remote' }), tier: 'team', settings: new JsonFileSettingsStore({ path }) });
    await Promise.all([a.setMode('remote'), a.setPreferredModel('tiny-ctc-en-streaming')]);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ mode: 'remote', preferredModel: 'tiny-ctc-en-streaming' });
    expect((await readdir(join(dir, 'sub'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const b = new HybridManager({ native: new TestBackend({ id: 'native' }), remote: new TestBackend({ id: 'remote' }), tier: 'team', settings: new JsonFileSettingsStore({ path }) });
    expect(b.mode).toBe('auto');
    await b.loadSettings();
    expect(b.mode).toBe('remote');
    expect(b.preferredModel).toBe('tiny-ctc-en-streaming');
  });

  it('a missing file is "nothing saved"; a malformed one is a SettingsError naming the file', async () => {
    const path = join(dir, 'settings.json');
    const store = new JsonFileSettingsStore({ path });
    expect(await store.load()).toBeUndefined();
    await writeFile(path, '{ nope');
    await expect(store.load()).rejects.toThrow(SettingsError);
    await writeFile(path, JSON.stringify({ mode: 'turbo' }));
    await expect(store.load()).rejects.toThrow(/`mode` must be one of auto, native, remote, dual, got "turbo"/);
  });

  it('an injected store (Electron, browser) is used instead of the file', async () => {
    const saved: unknown[] = [];
    const hybrid = new HybridManager({
      native: new TestBackend({ id: 'native' }),
      settings: { load: async () => ({ mode: 'native' }), save: async (s) => void saved.push(s) },
    });
    await hybrid.loadSettings();
    expect(hybrid.mode).toBe('native');
    await hybrid.setMode('auto');
    expect(saved).toEqual([{ mode: 'auto' }]);
    await expect(hybrid.setMode('warp' as never)).rejects.toThrow(/`mode`/);
  });
});
