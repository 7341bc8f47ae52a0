import { describe, expect, it } from 'vitest';
import { HybridManager, MemorySettingsStore, NoBackendError, selectBackend, type UpgradeRequiredEvent } from '../../src/hybrid/index.js';
import type { BackendCapabilities, TranscriptionWarning } from '../../src/spec/index.js';
import { TestBackend } from '../../src/testing/index.js';
import { silenceWav } from './helpers.js';

const script = [{ word: 'hello', start: 0.2, end: 0.6 }];

function make(opts: {
  tier?: string;
  native?: Partial<BackendCapabilities> | false;
  remote?: Partial<BackendCapabilities> | false;
  nativeAvailable?: boolean;
  mode?: 'auto' | 'native' | 'remote' | 'dual';
  allowDual?: boolean;
}) {
  const native =
    opts.native === false
      ? undefined
      : new TestBackend({ id: 'native', script, available: opts.nativeAvailable ?? true, capabilities: { languages: ['en'], ...(opts.native ?? {}) } });
  const remote =
    opts.remote === false
      ? undefined
      : new TestBackend({ id: 'remote', script, capabilities: { offline: false, languages: 'any', ...(opts.remote ?? {}) } });
  const hybrid = new HybridManager({
    ...(native ? { native } : {}),
    ...(remote ? { remote } : {}),
    tier: opts.tier ?? 'pro-cloud',
    settings: new MemorySettingsStore(),
    ...(opts.mode ? { mode: opts.mode } : {}),
    ...(opts.allowDual !== undefined ? { allowDual: opts.allowDual } : {}),
  });
  const upgrades: UpgradeRequiredEvent[] = [];
  const warnings: TranscriptionWarning[] = [];
  hybrid.on('upgrade-required', (e) => upgrades.push(e));
  hybrid.on('warning', (w) => warnings.push(w));
  return { hybrid, native, remote, upgrades, warnings };
}

const wav = silenceWav(1);

describe('decision table (through HybridManager with TestBackends)', () => {
  it('row 1 offline-native: remote known unreachable, native can do it → native', async () => {
    const { hybrid, remote } = make({});
    hybrid.setNetworkState('offline');
    const r = await hybrid.transcribe(wav);
    expect(r.backend).toBe('native');
    expect(r.text).toBe('hello');
    expect(remote!.calls).toHaveLength(0);
    expect(hybrid.currentBackend).toBe('native');
  });

  it('row 1 offline-native keeps soft gaps as warnings (diarization the native model lacks)', async () => {
    const { hybrid } = make({ remote: { diarization: true } });
    hybrid.setNetworkState('offline');
    const r = await hybrid.transcribe(wav, { diarization: true });
    expect(r.backend).toBe('native');
    expect(r.warnings).toContainEqual(expect.objectContaining({ type: 'unsupported', feature: 'diarization' }));
  });

  it('row 2 offline-error: offline and the native model lacks the language → typed error saying why', async () => {
    const { hybrid } = make({});
    hybrid.setNetworkState('offline');
    const err = await hybrid.transcribe(wav, { language: 'de' }).catch((e: unknown) => e);
    expect(NoBackendError.isInstance(err)).toBe(true);
    expect((err as NoBackendError).row).toBe('offline-error');
    expect((err as Error).message).toMatch(/unreachable.*language 'de'/);
  });

  it('row 2 offline-error: offline and native unavailable', async () => {
    const { hybrid } = make({ nativeAvailable: false });
    hybrid.setNetworkState('offline');
    const err = await hybrid.transcribe(wav).catch((e: unknown) => e);
    expect((err as NoBackendError).row).toBe('offline-error');
    expect((err as Error).message).toMatch(/native backend is unavailable/);
  });

  it('row 3 remote-capability: a language only the remote has → remote', async () => {
    const { hybrid, native } = make({});
    const r = await hybrid.transcribe(wav, { language: 'de' });
    expect(r.backend).toBe('remote');
    expect(native!.calls).toHaveLength(0);
  });

  it('row 3 remote-capability: diarization only the remote has → remote', async () => {
    const { hybrid } = make({ remote: { diarization: true } });
    const r = await hybrid.transcribe(wav, { diarization: true });
    expect(r.backend).toBe('remote');
    expect(r.segments[0]!.speaker).toBe('S1');
  });

  it('row 3 remote-capability: audio longer than the native model accepts → remote', async () => {
    const { hybrid } = make({ native: { maxAudioDurationSec: 2 } });
    const r = await hybrid.transcribe(silenceWav(3));
    expect(r.backend).toBe('remote');
    expect((await hybrid.transcribe(silenceWav(1))).backend).toBe('native');
  });

  it('row 4 native-capable: native available and supports the language → native', async () => {
    const { hybrid, remote } = make({});
    const r = await hybrid.transcribe(wav, { language: 'en' });
    expect(r.backend).toBe('native');
    expect(remote!.calls).toHaveLength(0);
  });

  it('row 4 with a tier lacking remote: diarization only remote has → native with a warning and upgrade-required', async () => {
    const { hybrid, upgrades } = make({ tier: 'pro', remote: { diarization: true } });
    const r = await hybrid.transcribe(wav, { diarization: true });
    expect(r.backend).toBe('native');
    expect(r.warnings).toContainEqual(expect.objectContaining({ type: 'unsupported', feature: 'diarization' }));
    expect(upgrades).toContainEqual(expect.objectContaining({ requested: 'remote', tier: 'pro', requiredTier: 'pro-cloud' }));
  });

  it('row 5 remote-fallback: native unavailable, tier allows remote → remote', async () => {
    const { hybrid } = make({ nativeAvailable: false });
    expect((await hybrid.transcribe(wav)).backend).toBe('remote');
  });

  it('row 6 native-with-warnings: tier has no remote, native lacks the language → native, language dropped, warning, upgrade-required', async () => {
    const { hybrid, upgrades, remote } = make({ tier: 'free' });
    const r = await hybrid.transcribe(wav, { language: 'de' });
    expect(r.backend).toBe('native');
    expect(r.warnings).toContainEqual(expect.objectContaining({ type: 'unsupported', feature: 'language' }));
    expect(upgrades).toContainEqual(expect.objectContaining({ requested: 'remote', tier: 'free', requiredTier: 'pro-cloud' }));
    expect(remote!.calls).toHaveLength(0);
  });

  it('row 7 no-backend: native unavailable and the tier has no remote → typed error', async () => {
    const { hybrid } = make({ tier: 'free', nativeAvailable: false });
    const err = await hybrid.transcribe(wav).catch((e: unknown) => e);
    expect((err as NoBackendError).row).toBe('no-backend');
    expect((err as Error).message).toMatch(/native backend is unavailable.*tier does not include the remote/);
  });

  it('row 7 no-backend: a language neither backend has → typed error (an impossible request)', async () => {
    const { hybrid } = make({ remote: { languages: ['en', 'fr'] } });
    const err = await hybrid.transcribe(wav, { language: 'xx' }).catch((e: unknown) => e);
    expect((err as NoBackendError).row).toBe('no-backend');
    expect((err as Error).message).toMatch(/language 'xx'/);
  });

  it('row 7 no-backend: no native backend at all, remote-only app on a native-only tier', async () => {
    const { hybrid } = make({ tier: 'free', native: false });
    const err = await hybrid.transcribe(wav).catch((e: unknown) => e);
    expect((err as NoBackendError).row).toBe('no-backend');
  });
});

describe('modes and tier policy', () => {
  it('mode remote pins the remote backend when the tier allows it', async () => {
    const { hybrid } = make({ mode: 'remote' });
    expect((await hybrid.transcribe(wav)).backend).toBe('remote');
  });

  it('mode native pins native; a request native cannot do (hard gap) goes through the table', async () => {
    const { hybrid } = make({ mode: 'native' });
    expect((await hybrid.transcribe(wav)).backend).toBe('native');
    expect((await hybrid.transcribe(wav, { language: 'de' })).backend).toBe('remote');
  });

  it('an explicit mode the tier does not allow runs as auto and emits upgrade-required naming the tier', async () => {
    const { hybrid, upgrades } = make({ tier: 'free', mode: 'remote' });
    expect(hybrid.effectiveMode()).toBe('auto');
    expect((await hybrid.transcribe(wav)).backend).toBe('native');
    expect(upgrades).toEqual([expect.objectContaining({ requested: 'remote', tier: 'free', requiredTier: 'pro-cloud' })]);
    await hybrid.transcribe(wav);
    expect(upgrades).toHaveLength(1); // once per mode, not per request
  });

  it('dual is refused in production (allowDual false) and on a tier without both backends', async () => {
    const prod = make({ mode: 'dual', allowDual: false });
    expect(prod.hybrid.effectiveMode()).toBe('auto');
    expect(prod.warnings).toContainEqual(expect.objectContaining({ type: 'other', message: expect.stringMatching(/dual mode is disabled/) }));
    const free = make({ tier: 'pro', mode: 'dual', allowDual: true });
    expect(free.hybrid.effectiveMode()).toBe('auto');
    expect(free.upgrades).toContainEqual(expect.objectContaining({ requested: 'dual', requiredTier: 'pro-cloud' }));
    const dev = make({ mode: 'dual', allowDual: true });
    expect(dev.hybrid.effectiveMode()).toBe('dual');
  });

  it('a tier feature the tier lacks is dropped with a warning and upgrade-required', async () => {
    const { hybrid, upgrades } = make({ tier: 'free', native: { diarization: true } });
    const r = await hybrid.transcribe(wav, { diarization: true });
    expect(r.warnings).toContainEqual(expect.objectContaining({ feature: 'diarization', details: expect.stringMatching(/'free' tier/) }));
    expect(r.segments[0]!.speaker).toBeUndefined();
    expect(upgrades).toContainEqual(expect.objectContaining({ requested: 'diarization', requiredTier: 'pro' }));
  });

  it('the app plugs its own billing through one function', async () => {
    const asked: string[] = [];
    const hybrid = new HybridManager({
      native: new TestBackend({ id: 'native', script }),
      remote: new TestBackend({ id: 'remote', script, capabilities: { languages: 'any' } }),
      tier: 'gold',
      settings: new MemorySettingsStore(),
      tiers: (t) => {
        asked.push(t);
        return t === 'gold' ? { backends: ['remote'], features: [] } : undefined;
      },
    });
    expect(asked).toEqual(['gold']);
    expect((await hybrid.transcribe(wav)).backend).toBe('remote');
    expect(() => new HybridManager({ native: new TestBackend(), tier: 'nope', tiers: () => undefined })).toThrow(/tier.*"nope"/);
  });

  it('validates options eagerly, naming the option', () => {
    expect(() => new HybridManager({ tier: 'free' })).toThrow(/needs `native`, `remote` or both/);
    expect(() => new HybridManager({ native: new TestBackend(), tier: 'platinum' })).toThrow(/"platinum"/);
    expect(() => new HybridManager({ native: new TestBackend(), mode: 'fast' as never })).toThrow(/`mode`/);
    expect(() => new HybridManager({ native: new TestBackend(), maxStreamBufferSec: -1 })).toThrow(/`maxStreamBufferSec` must be a finite number > 0, got -1/);
    expect(() => new HybridManager({ native: {} as never })).toThrow(/`native` must be an ASRBackend/);
  });
});

describe('selectBackend (pure)', () => {
  const caps = (c: Partial<BackendCapabilities> = {}): BackendCapabilities => ({
    streaming: true,
    diarization: false,
    offline: true,
    wordTimestamps: true,
    languages: ['en'],
    hotwords: false,
    ...c,
  });
  const base = {
    mode: 'auto' as const,
    allowed: ['native', 'remote'] as const,
    online: true,
    native: { available: true, capabilities: caps() },
    remote: { available: true, capabilities: caps({ languages: 'any', offline: false }) },
    needs: { diarization: false, hotwords: false },
  };
  it.each([
    ['offline-native', { online: false }, 'native'],
    ['remote-capability', { needs: { diarization: false, hotwords: false, language: 'fr' } }, 'remote'],
    ['native-capable', {}, 'native'],
    ['remote-fallback', { native: { available: false, capabilities: caps() } }, 'remote'],
    ['native-with-warnings', { allowed: ['native'] as const, needs: { diarization: false, hotwords: false, language: 'fr' } }, 'native'],
    ['pinned', { mode: 'remote' }, 'remote'],
  ] as const)('row %s', (row, patch, backend) => {
    const s = selectBackend({ ...base, ...patch });
    expect(s.row).toBe(row);
    expect(s.backend).toBe(backend);
  });
  it.each([
    ['offline-error', { online: false, needs: { diarization: false, hotwords: false, language: 'fr' } }],
    ['no-backend', { allowed: ['native'], native: { available: false, capabilities: caps() } }],
    ['no-backend', { needs: { diarization: false, hotwords: false, language: 'xx' }, remote: { available: true, capabilities: caps({ languages: ['en', 'fr'] }) } }],
  ] as const)('row %s throws', (row, patch) => {
    expect(() => selectBackend({ ...base, ...patch })).toThrow(expect.objectContaining({ row }));
  });
});
