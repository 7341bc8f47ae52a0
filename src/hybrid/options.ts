import { InvalidArgumentError } from '../errors/index.js';
import { definedOnly } from '../internal/options.js';
import type { ASRBackend } from '../spec/index.js';
import { defaultSettingsPath } from './config-paths.js';
import { NetworkMonitor, type NetworkMonitorOptions } from './network-monitor.js';
import { JsonFileSettingsStore, type HybridMode, type SettingsStore } from './settings.js';
import { checkPolicy, DEFAULT_TIER_POLICIES, tierPolicyFromTable, type TierPolicy, type TierPolicyFn } from './tier.js';

/** Options of {@link HybridManager}. */
export interface HybridManagerOptions {
  /** The on-device backend (normally a `NativeBackend`). */
  readonly native?: ASRBackend | undefined;
  /** The server backend (normally a `RemoteBackend`). */
  readonly remote?: ASRBackend | undefined;
  /**
   * The subscription tier.
   * @defaultValue 'free'
   */
  readonly tier?: string | undefined;
  /**
   * What each tier may use: a table (cheapest first) or one function the app's billing answers.
   * @defaultValue {@link DEFAULT_TIER_POLICIES}
   */
  readonly tiers?: Readonly<Record<string, TierPolicy>> | TierPolicyFn | undefined;
  /**
   * Mode until settings are loaded or {@link HybridManager.setMode} is called.
   * @defaultValue 'auto'
   */
  readonly mode?: HybridMode | undefined;
  /**
   * Whether dual mode may run.
   * @defaultValue `process.env.NODE_ENV !== 'production'`
   */
  readonly allowDual?: boolean | undefined;
  /**
   * Run a failed request (or the rest of a failed stream) on the other backend.
   * @defaultValue true
   */
  readonly failover?: boolean | undefined;
  /**
   * Where mode and preferred model persist.
   * @defaultValue a {@link JsonFileSettingsStore} at `$HYBRID_ASR_SETTINGS`, else `<config dir>/hybrid-asr/settings.json`
   */
  readonly settings?: SettingsStore | undefined;
  /**
   * Network monitor settings (the probe defaults to `remote.isAvailable()`), or a monitor of your own.
   * @defaultValue probe every 30 s, 3 s timeout, backoff 1 s → 30 s while down
   */
  readonly network?: Partial<NetworkMonitorOptions> | NetworkMonitor | undefined;
  /**
   * Formerly the most un-finalised audio a stream kept for replay; audio beyond it was dropped and
   * lost on a failover. A stream now keeps all audio not yet covered by a final, so that a
   * failover replays every second of it; the option is validated and otherwise ignored.
   * @deprecated Audio not yet final is never dropped; how far the input is read ahead is bounded
   *   by the backend (a remote stream pulls at most `replayBufferSec` past the server's acknowledgement).
   * @defaultValue 120
   */
  readonly maxStreamBufferSec?: number | undefined;
  /**
   * Most backend switches within one stream (failovers and restores).
   * @defaultValue 6
   */
  readonly maxSwitchesPerStream?: number | undefined;
  /**
   * Move a stream back to the preferred backend at the next final once it is healthy again.
   * @defaultValue true
   */
  readonly restoreStreams?: boolean | undefined;
  /**
   * `id` of the manager.
   * @defaultValue 'hybrid'
   */
  readonly id?: string | undefined;
}

/** {@link HybridManagerOptions} after validation and defaults. @internal */
interface ResolvedHybridOptions {
  readonly id: string;
  readonly native: ASRBackend | undefined;
  readonly remote: ASRBackend | undefined;
  readonly tier: string;
  readonly policy: TierPolicy;
  readonly mode: HybridMode;
  readonly allowDual: boolean;
  readonly failover: boolean;
  readonly store: SettingsStore;
  readonly monitor: NetworkMonitor | undefined;
  readonly maxSwitches: number;
  readonly restoreStreams: boolean;
}

const MODES: readonly HybridMode[] = ['auto', 'native', 'remote', 'dual'];

function isBackend(b: unknown): b is ASRBackend {
  const o = b as Partial<ASRBackend> | null;
  return typeof o === 'object' && o !== null && typeof o.transcribe === 'function' && typeof o.transcribeStream === 'function' && typeof o.isAvailable === 'function';
}

/**
 * Validates {@link HybridManagerOptions} (naming the bad option) and fills the defaults. Creates the
 * default settings store and network monitor objects; opens and probes nothing.
 * @throws InvalidArgumentError naming the option that is wrong.
 * @internal
 */
export function resolveHybridOptions(options: HybridManagerOptions): ResolvedHybridOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('HybridManager needs an options object');
  const o = { tier: 'free', mode: 'auto' as HybridMode, failover: true, maxStreamBufferSec: 120, maxSwitchesPerStream: 6, restoreStreams: true, id: 'hybrid', ...definedOnly(options) };
  if (o.native !== undefined && !isBackend(o.native)) throw new InvalidArgumentError('`native` must be an ASRBackend');
  if (o.remote !== undefined && !isBackend(o.remote)) throw new InvalidArgumentError('`remote` must be an ASRBackend');
  if (o.native === undefined && o.remote === undefined) throw new InvalidArgumentError('HybridManager needs `native`, `remote` or both');
  if (typeof o.tier !== 'string' || o.tier === '') throw new InvalidArgumentError(`\`tier\` must be a non-empty string, got ${JSON.stringify(o.tier)}`);
  const fn: TierPolicyFn = typeof o.tiers === 'function' ? o.tiers : tierPolicyFromTable(o.tiers ?? DEFAULT_TIER_POLICIES);
  const policy = fn(o.tier);
  if (policy === undefined) throw new InvalidArgumentError(`\`tier\` "${o.tier}" is not a tier the policy knows`);
  checkPolicy(o.tier, policy);
  if (!MODES.includes(o.mode)) throw new InvalidArgumentError(`\`mode\` must be one of ${MODES.join(', ')}, got ${JSON.stringify(o.mode)}`);
  for (const k of ['maxStreamBufferSec', 'maxSwitchesPerStream'] as const) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(`\`${k}\` must be a finite number > 0, got ${String(v)}`);
  }
  if (o.allowDual !== undefined && typeof o.allowDual !== 'boolean') throw new InvalidArgumentError('`allowDual` must be a boolean');
  if (typeof o.failover !== 'boolean') throw new InvalidArgumentError('`failover` must be a boolean');
  if (o.settings !== undefined && (typeof o.settings?.load !== 'function' || typeof o.settings?.save !== 'function')) {
    throw new InvalidArgumentError('`settings` must be a SettingsStore ({ load, save })');
  }
  if (typeof o.id !== 'string' || o.id === '') throw new InvalidArgumentError('`id` must be a non-empty string');
  const remote = o.remote;
  let monitor: NetworkMonitor | undefined;
  if (o.network instanceof NetworkMonitor) monitor = o.network;
  else if (remote !== undefined) {
    monitor = new NetworkMonitor({ probe: (signal) => remote.isAvailable({ abortSignal: signal }), ...(o.network ?? {}) });
  }
  return {
    id: o.id,
    native: o.native,
    remote,
    tier: o.tier,
    policy,
    mode: o.mode,
    allowDual: o.allowDual ?? process.env.NODE_ENV !== 'production',
    failover: o.failover,
    store: o.settings ?? new JsonFileSettingsStore({ path: defaultSettingsPath() }),
    monitor,
    maxSwitches: Math.floor(o.maxSwitchesPerStream),
    restoreStreams: o.restoreStreams,
  };
}
