import type { TranscriptionConfig, TranscriptionWarning } from '../spec/index.js';
import type { EmitHybridEvent } from './events.js';
import type { RequestNeeds } from './selection.js';
import type { HybridMode } from './settings.js';
import { tierAllows, type TierPolicy, type TierRequirement } from './tier.js';

/**
 * What the tier means for each request, told once: `upgrade-required` when the tier lacks what was
 * asked for, a warning when a mode can't run, and the request's needs with the features the tier
 * lacks dropped (each with a warning).
 * @internal
 */
export class TierNotices {
  readonly #tier: string;
  readonly #policy: TierPolicy;
  readonly #emit: EmitHybridEvent;
  readonly #notified = new Set<string>();

  /**
   * @param tier - the tier's name.
   * @param policy - what it allows.
   * @param emit - the manager's `emit`.
   */
  constructor(tier: string, policy: TierPolicy, emit: EmitHybridEvent) {
    this.#tier = tier;
    this.#policy = policy;
    this.#emit = emit;
  }

  /**
   * The mode that runs for `mode`: one the tier does not allow falls back to `auto` and emits
   * `upgrade-required` (once per mode); `dual` without `allowDual`, or a mode whose backend is
   * missing, falls back to `auto` with a warning (once).
   *
   * @param present - whether the backends `mode` needs were given.
   */
  effectiveMode(mode: HybridMode, allowDual: boolean, present: boolean): HybridMode {
    if (mode === 'auto') return mode;
    if (mode === 'dual' && !allowDual) {
      this.#once(`dual-disabled`, () => this.#emit('warning', { type: 'other', message: 'dual mode is disabled in production (set allowDual); running in auto mode' }));
      return 'auto';
    }
    const req: TierRequirement = mode;
    if (!tierAllows(this.#policy, req)) {
      this.#once(`mode:${mode}`, () => this.upgrade(req, `mode '${mode}'`));
      return 'auto';
    }
    if (!present) {
      this.#once(`missing:${mode}`, () =>
        this.#emit('warning', { type: 'other', message: `mode '${mode}' needs ${mode === 'dual' ? 'both backends' : `a ${mode} backend`}; running in auto mode` }),
      );
      return 'auto';
    }
    return mode;
  }

  /** Emits `upgrade-required` for `requested` (`what` names it in the message). */
  upgrade(requested: TierRequirement, what: string): void {
    const requiredTier = this.#policy.upgrades?.[requested];
    this.#emit('upgrade-required', {
      requested,
      tier: this.#tier,
      requiredTier,
      message: `${what} is not included in the '${this.#tier}' tier${requiredTier !== undefined ? `; it needs '${requiredTier}'` : ''}`,
    });
  }

  /**
   * Tier-filtered needs of a request: diarization or hotwords the tier lacks are dropped from the
   * config, with a warning pushed to `warnings` and `upgrade-required`.
   */
  needs(config: TranscriptionConfig, durationSec: number | undefined, warnings: TranscriptionWarning[]): { needs: RequestNeeds; config: TranscriptionConfig } {
    let c: TranscriptionConfig = config;
    const wantsDiar = config.diarization !== undefined && config.diarization !== false;
    const wantsHot = (config.hotwords?.length ?? 0) > 0;
    if (wantsDiar && !tierAllows(this.#policy, 'diarization')) {
      warnings.push({ type: 'unsupported', feature: 'diarization', details: `not included in the '${this.#tier}' tier` });
      this.upgrade('diarization', 'diarization');
      const { diarization: _d, ...rest } = c;
      c = rest;
    }
    if (wantsHot && !tierAllows(this.#policy, 'hotwords')) {
      warnings.push({ type: 'unsupported', feature: 'hotwords', details: `not included in the '${this.#tier}' tier` });
      this.upgrade('hotwords', 'hotwords');
      const { hotwords: _h, ...rest } = c;
      c = rest;
    }
    const needs: RequestNeeds = {
      diarization: c.diarization !== undefined && c.diarization !== false,
      hotwords: (c.hotwords?.length ?? 0) > 0,
      ...(c.language !== undefined ? { language: c.language } : {}),
      ...(durationSec !== undefined ? { durationSec } : {}),
    };
    return { needs, config: c };
  }

  #once(key: string, fn: () => void): void {
    if (this.#notified.has(key)) return;
    this.#notified.add(key);
    fn();
  }
}
