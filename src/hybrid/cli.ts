import { ASRError, InvalidArgumentError } from '../errors/index.js';
import type { ASRBackend } from '../spec/index.js';
import { HybridManager } from './manager.js';
import { MemorySettingsStore } from './settings.js';
import { DEFAULT_TIER_POLICIES } from './tier.js';

/** What `hybrid-asr transcribe|stream --backend auto --remote-url …` hands to {@link createHybridFromCli}. */
export interface HybridCliOptions {
  /** `--remote-url`: base URL of the server, e.g. `http://127.0.0.1:8080/v1` (`/v1` is added when missing). */
  readonly remoteUrl: string;
  /** `--api-key`. */
  readonly apiKey?: string | undefined;
  /** `--model`: sent to the server as the model name too. */
  readonly model?: string | undefined;
  /**
   * `--tier`: one of the default tiers.
   * @defaultValue 'pro-cloud' (a remote URL was given, so the remote may be used)
   */
  readonly tier?: string | undefined;
  /**
   * `--fallback`: `native` fails over between the backends, `none` does not.
   * @defaultValue 'native'
   */
  readonly fallback?: string | undefined;
  /** Builds the native backend (the CLI's usual model lookup). A failure leaves the manager remote-only. */
  readonly createNative: () => Promise<ASRBackend>;
  /**
   * Where the lines saying which backend produced what go.
   * @defaultValue standard error
   */
  readonly log?: (line: string) => void;
}

/**
 * The API base of a server URL as the CLI takes it: `http://host:8080` and `http://host:8080/v1`
 * both become `http://host:8080/v1`.
 */
export function apiBaseUrl(url: string): string {
  const u = url.replace(/\/+$/, '');
  return /\/v\d+$/.test(u) ? u : `${u}/v1`;
}

/**
 * Builds the hybrid manager for the CLI's `--backend auto --remote-url <url>`: native + remote,
 * auto mode, tier and failover from the flags, nothing persisted. Every selection, switch, warning
 * and network change is printed as one `hybrid-asr: …` line (standard error by default), so the
 * output says which backend produced what.
 *
 * @throws InvalidArgumentError for an unknown `--tier` or `--fallback`.
 */
export async function createHybridFromCli(options: HybridCliOptions): Promise<HybridManager> {
  const tier = options.tier ?? 'pro-cloud';
  if (!Object.hasOwn(DEFAULT_TIER_POLICIES, tier)) {
    throw new InvalidArgumentError(`--tier must be one of ${Object.keys(DEFAULT_TIER_POLICIES).join(', ')}, got "${tier}"`);
  }
  const fallback = options.fallback ?? 'native';
  if (fallback !== 'native' && fallback !== 'none') throw new InvalidArgumentError(`--fallback must be native or none, got "${fallback}"`);
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const baseUrl = apiBaseUrl(options.remoteUrl);
  const { RemoteBackend } = await import('../backends/remote/index.js');
  const remote = new RemoteBackend({
    baseUrl,
    healthTimeoutMs: 2000,
    ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
    ...(options.model !== undefined ? { model: options.model } : {}),
  });
  let native: ASRBackend | undefined;
  try {
    native = await options.createNative();
  } catch (e) {
    if (!ASRError.isInstance(e) || DEFAULT_TIER_POLICIES[tier]!.backends.every((b) => b !== 'remote')) throw e;
    log(`hybrid-asr: no native backend (${e.message}); using the remote only`);
  }
  const hybrid = new HybridManager({
    ...(native !== undefined ? { native } : {}),
    remote,
    tier,
    failover: fallback === 'native',
    settings: new MemorySettingsStore(),
  });
  hybrid.on('backend-selected', (e) => log(`hybrid-asr: ${e.request} on ${e.backend} (${e.reason})`));
  hybrid.on('backend-switch', (e) => log(`hybrid-asr: switched ${e.from} → ${e.to}${e.atSec !== undefined ? ` at ${e.atSec.toFixed(2)} s` : ''} (${e.reason})`));
  hybrid.on('upgrade-required', (e) => log(`hybrid-asr: ${e.message}`));
  hybrid.on('offline', (reason) => log(`hybrid-asr: remote unreachable (${reason})`));
  hybrid.on('online', () => log('hybrid-asr: remote reachable'));
  hybrid.on('warning', (w) => {
    if (w.type === 'other') log(`hybrid-asr: warning: ${w.message}`);
    else if (w.type === 'unsupported') log(`hybrid-asr: warning: ${w.feature} unsupported${w.details ? ` (${w.details})` : ''}`);
  });
  return hybrid;
}
