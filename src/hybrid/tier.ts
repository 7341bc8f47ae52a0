import { InvalidArgumentError } from '../errors/index.js';

/** The two kinds of backend the hybrid manager chooses between. */
export type BackendRole = 'native' | 'remote';

/** Features a tier may or may not include, besides the backends themselves. */
export type TierFeature = 'diarization' | 'hotwords';

/** Something a tier may allow: a backend, a feature, or dual mode (both backends side by side). */
export type TierRequirement = BackendRole | TierFeature | 'dual';

/**
 * What one subscription tier may use. Supplied by the app (its billing decides), queried through one
 * function ({@link TierPolicyFn}).
 */
export interface TierPolicy {
  /** Backends the tier may use. */
  readonly backends: readonly BackendRole[];
  /** Features the tier may use. A requested feature the tier lacks is dropped with a warning. */
  readonly features: readonly TierFeature[];
  /**
   * The tier to name in an `upgrade-required` event when this tier lacks a requirement. When the
   * policy comes from a table ({@link tierPolicyFromTable}) missing entries are filled with the
   * first later tier of the table that has the requirement.
   */
  readonly upgrades?: Readonly<Partial<Record<TierRequirement, string>>> | undefined;
}

/**
 * The one function through which the manager asks what a tier may do. Returns `undefined` for a tier
 * it does not know (the manager rejects it with an `InvalidArgumentError`).
 */
export type TierPolicyFn = (tier: string) => TierPolicy | undefined;

/**
 * Default tiers, cheapest first: `free` and `pro` run on-device only (pro adds diarization and
 * hotwords); `pro-cloud` and `team` may also use the remote backend.
 */
export const DEFAULT_TIER_POLICIES: Readonly<Record<string, TierPolicy>> = Object.freeze({
  free: { backends: ['native'], features: [] },
  pro: { backends: ['native'], features: ['diarization', 'hotwords'] },
  'pro-cloud': { backends: ['native', 'remote'], features: ['diarization', 'hotwords'] },
  team: { backends: ['native', 'remote'], features: ['diarization', 'hotwords'] },
});

/** Whether `policy` allows `req`. Dual mode needs both backends. */
export function tierAllows(policy: TierPolicy, req: TierRequirement): boolean {
  if (req === 'native' || req === 'remote') return policy.backends.includes(req);
  if (req === 'dual') return policy.backends.includes('native') && policy.backends.includes('remote');
  return policy.features.includes(req);
}

/**
 * Turns a table of tiers (in order, cheapest first) into a {@link TierPolicyFn}. Each tier's
 * `upgrades` is completed with the first later tier that has the requirement.
 *
 * @throws InvalidArgumentError when an entry is malformed.
 */
export function tierPolicyFromTable(table: Readonly<Record<string, TierPolicy>>): TierPolicyFn {
  if (typeof table !== 'object' || table === null) throw new InvalidArgumentError('`tiers` must be an object of tier policies');
  const names = Object.keys(table);
  if (names.length === 0) throw new InvalidArgumentError('`tiers` must name at least one tier');
  const resolved = new Map<string, TierPolicy>();
  for (const name of names) checkPolicy(name, table[name]);
  names.forEach((name, i) => {
    const p = table[name]!;
    const upgrades: Partial<Record<TierRequirement, string>> = {};
    for (const req of ['native', 'remote', 'diarization', 'hotwords', 'dual'] as const) {
      if (tierAllows(p, req)) continue;
      const given = p.upgrades?.[req];
      const later = names.slice(i + 1).find((n) => tierAllows(table[n]!, req));
      const pick = given ?? later;
      if (pick !== undefined) upgrades[req] = pick;
    }
    resolved.set(name, Object.freeze({ backends: [...p.backends], features: [...p.features], upgrades: Object.freeze(upgrades) }));
  });
  return (tier) => resolved.get(tier);
}

/** Validates one policy, naming the tier. @internal */
export function checkPolicy(tier: string, p: unknown): asserts p is TierPolicy {
  const o = p as Partial<TierPolicy> | null;
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError(`tier "${tier}": the policy must be an object`);
  if (!Array.isArray(o.backends) || o.backends.some((b) => b !== 'native' && b !== 'remote')) {
    throw new InvalidArgumentError(`tier "${tier}": \`backends\` must be an array of 'native' | 'remote'`);
  }
  if (!Array.isArray(o.features) || o.features.some((f) => f !== 'diarization' && f !== 'hotwords')) {
    throw new InvalidArgumentError(`tier "${tier}": \`features\` must be an array of 'diarization' | 'hotwords'`);
  }
}
