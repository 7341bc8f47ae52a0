import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors/index.js';
import { NoBackendError } from '../../src/hybrid/selection.js';
import { SettingsError } from '../../src/hybrid/settings.js';
import { toAbortError } from '../../src/errors/index.js';

// Names and guards come from explicit registration, so they survive the CJS build and minifiers
// (the consumer test in test/consumer checks the built package, ESM and CJS, across copies).
const classes = Object.entries(errors).filter(
  ([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof Error,
) as [string, typeof errors.ASRError][];

describe('error identity', () => {
  it('every exported class has its own name, code and guard', () => {
    expect(classes.length).toBeGreaterThan(15);
    for (const [exportName, C] of classes) {
      const e = Object.create(C.prototype) as errors.ASRError;
      expect(e.name, exportName).toBe(exportName);
      expect(C.isInstance(e), exportName).toBe(true);
      expect(errors.ASRError.isInstance(e), exportName).toBe(true);
      // No guard answers yes for a sibling class.
      for (const [otherName, O] of classes) {
        if (O.prototype instanceof C || O === C) continue;
        if (C.prototype instanceof O) continue;
        expect(O.isInstance(e), `${otherName}.isInstance(${exportName})`).toBe(false);
      }
    }
  });

  it('guards reject plain errors and non-objects, and classes outside src/errors are registered', () => {
    for (const [, C] of classes) {
      expect(C.isInstance(new Error('x'))).toBe(false);
      expect(C.isInstance(null)).toBe(false);
      expect(C.isInstance('InvalidAudioError')).toBe(false);
    }
    const nb = new NoBackendError('no', 'offline-error', false);
    expect(nb.name).toBe('NoBackendError');
    expect(NoBackendError.isInstance(nb)).toBe(true);
    expect(errors.BackendUnavailableError.isInstance(nb)).toBe(true);
    expect(NoBackendError.isInstance(new errors.BackendUnavailableError('x'))).toBe(false);
    const se = new SettingsError('x');
    expect(se.name).toBe('SettingsError');
    expect(String(se)).toBe('SettingsError: x');
  });

  it('a caller deadline on local work is a TimeoutError (an AbortedError), not a ConnectionTimeoutError', async () => {
    const signal = AbortSignal.timeout(1);
    await new Promise((r) => setTimeout(r, 20));
    const e = toAbortError(signal);
    expect(errors.TimeoutError.isInstance(e)).toBe(true);
    expect(errors.AbortedError.isInstance(e)).toBe(true);
    expect(errors.ConnectionTimeoutError.isInstance(e)).toBe(false);
    expect((e as errors.ASRError).isRetryable).toBe(false);
    const c = new AbortController();
    c.abort();
    const a = toAbortError(c.signal);
    expect(errors.AbortedError.isInstance(a)).toBe(true);
    expect(errors.TimeoutError.isInstance(a)).toBe(false);
  });
});
