import { describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors/index.js';
import { createHybridFromCli } from '../../src/cli/backend-factory.js';
import { TestBackend } from '../../src/testing/index.js';
import { silenceWav } from '../hybrid/helpers.js';

const script = [{ word: 'hi', start: 0.1, end: 0.4 }];

describe('createHybridFromCli (--backend auto --remote-url … --tier … --fallback …)', () => {
  it('prints which backend ran the request and why; an unreachable remote fails over to native', async () => {
    const lines: string[] = [];
    const hybrid = await createHybridFromCli({
      remoteUrl: 'http://127.0.0.1:1',
      createNative: async () => new TestBackend({ id: 'native', script }),
      log: (l) => lines.push(l),
    });
    // A language only the remote has: the remote is chosen, refused, and native takes over.
    const r = await hybrid.transcribe(silenceWav(1), { language: 'de' });
    expect(r.backend).toBe('native');
    expect(lines[0]).toMatch(/^hybrid-asr: transcribe on remote \(the native model lacks language 'de'/);
    expect(lines.some((l) => /^hybrid-asr: switched remote → native \(remote failed: /.test(l))).toBe(true);
    await hybrid.dispose();
  });

  it('--tier free keeps to native and says an upgrade is needed; --fallback none keeps the error', async () => {
    const lines: string[] = [];
    const free = await createHybridFromCli({ remoteUrl: 'http://127.0.0.1:1/v1', tier: 'free', createNative: async () => new TestBackend({ id: 'native', script }), log: (l) => lines.push(l) });
    expect((await free.transcribe(silenceWav(1), { language: 'de' })).backend).toBe('native');
    expect(lines).toContainEqual(expect.stringMatching(/not included in the 'free' tier; it needs 'pro-cloud'/));
    const strict = await createHybridFromCli({ remoteUrl: 'http://127.0.0.1:1', fallback: 'none', createNative: async () => new TestBackend({ id: 'native', script }), log: () => undefined });
    await expect(strict.transcribe(silenceWav(1), { language: 'de' })).rejects.toThrow();
  });

  it('rejects unknown flags values, naming the flag; no native model leaves it remote-only', async () => {
    const createNative = async () => new TestBackend({ id: 'native' });
    await expect(createHybridFromCli({ remoteUrl: 'http://x', tier: 'gold', createNative })).rejects.toThrow(/--tier must be one of free, pro, pro-cloud, team, got "gold"/);
    await expect(createHybridFromCli({ remoteUrl: 'http://x', fallback: 'remote', createNative })).rejects.toThrow(/--fallback must be native or none/);
    const lines: string[] = [];
    const h = await createHybridFromCli({ remoteUrl: 'http://127.0.0.1:1', createNative: async () => Promise.reject(new ModelError('No speech model found')), log: (l) => lines.push(l) });
    expect(h.native).toBeUndefined();
    expect(lines[0]).toMatch(/no native backend \(No speech model found\); using the remote only/);
    await expect(createHybridFromCli({ remoteUrl: 'http://x', tier: 'free', createNative: async () => Promise.reject(new ModelError('none')) })).rejects.toThrow('none');
  });
});
