import { AbortedError, ASRError, BackendUnavailableError } from '../errors/index.js';
import type { ASRBackend, BackendCapabilities } from '../spec/index.js';
import type { NetworkMonitor, NetworkState } from './network-monitor.js';
import { tierAllows, type BackendRole, type TierPolicy } from './tier.js';

/** Whether an error lets a request move to the other backend: retryable, and not a cancellation. @internal */
export function canFailOver(e: unknown): boolean {
  return ASRError.isInstance(e) && e.isRetryable && !AbortedError.isInstance(e);
}

/** An error's message for a `reason` line. @internal */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The two backends of a hybrid manager as the tier allows them, and the remote's health as its
 * network monitor sees it: which backend a failed request may move to, and when a stream may move
 * back. Shared by batch requests, dual mode and stream failover.
 * @internal
 */
export class BackendPair {
  /** The native backend, if any. */
  readonly native: ASRBackend | undefined;
  /** The remote backend, if any. */
  readonly remote: ASRBackend | undefined;
  /** The remote's network monitor (undefined without a remote, unless the app gave one). */
  readonly monitor: NetworkMonitor | undefined;
  /** Whether a failed request may move to the other backend. */
  readonly failover: boolean;
  readonly #policy: TierPolicy;
  #monitorStarted = false;

  /**
   * @param native - the native backend, if any.
   * @param remote - the remote backend, if any.
   * @param policy - what the tier allows.
   * @param failover - whether a failed request may move to the other backend.
   * @param monitor - the remote's network monitor.
   */
  constructor(native: ASRBackend | undefined, remote: ASRBackend | undefined, policy: TierPolicy, failover: boolean, monitor: NetworkMonitor | undefined) {
    this.native = native;
    this.remote = remote;
    this.#policy = policy;
    this.failover = failover;
    this.monitor = monitor;
  }

  /** The backend in `role`. @throws BackendUnavailableError when there is none. */
  get(role: BackendRole): ASRBackend {
    const b = this.find(role);
    if (b === undefined) throw new BackendUnavailableError(`There is no ${role} backend`);
    return b;
  }

  /** The backend in `role`, or undefined. */
  find(role: BackendRole): ASRBackend | undefined {
    return role === 'native' ? this.native : this.remote;
  }

  /** Backends the tier allows, among those given. */
  get allowed(): BackendRole[] {
    const out: BackendRole[] = [];
    if (this.native !== undefined && tierAllows(this.#policy, 'native')) out.push('native');
    if (this.remote !== undefined && tierAllows(this.#policy, 'remote')) out.push('remote');
    return out;
  }

  /** The remote backend's reachability as the network monitor sees it (`unknown` with no remote). */
  get networkState(): NetworkState {
    return this.monitor?.state ?? 'unknown';
  }

  /** Starts the network monitor on first use, when the tier may use the remote at all. */
  startMonitor(): void {
    if (this.#monitorStarted || this.monitor === undefined || !tierAllows(this.#policy, 'remote')) return;
    this.#monitorStarted = true;
    this.monitor.start();
  }

  /**
   * What the pair can do: the native model's capabilities, widened by the remote's where the tier
   * allows it (a language or diarization only the remote has counts).
   */
  capabilities(): BackendCapabilities {
    const caps = this.allowed.map((r) => this.get(r).capabilities);
    if (caps.length === 0) return this.native?.capabilities ?? this.remote!.capabilities;
    const langs = caps.some((c) => c.languages === 'any') ? ('any' as const) : [...new Set(caps.flatMap((c) => c.languages as readonly string[]))];
    const maxes = caps.map((c) => c.maxAudioDurationSec);
    const windows = caps.map((c) => c.maxWindowSec).filter((v): v is number => v !== undefined);
    const primary = caps[0]!;
    return {
      streaming: caps.some((c) => c.streaming),
      diarization: caps.some((c) => c.diarization),
      offline: caps.some((c) => c.offline),
      wordTimestamps: caps.every((c) => c.wordTimestamps),
      languages: langs,
      hotwords: caps.some((c) => c.hotwords),
      ...(maxes.every((m) => m !== undefined) ? { maxAudioDurationSec: Math.max(...maxes) } : {}),
      ...(windows.length > 0 ? { maxWindowSec: Math.min(...windows) } : {}),
      ...(primary.sampleRate !== undefined ? { sampleRate: primary.sampleRate } : {}),
    };
  }

  /** The backend to fail over to from `from`, or undefined (failover off, none, not allowed, unreachable). */
  async fallbackFor(from: BackendRole, signal: AbortSignal | undefined): Promise<BackendRole | undefined> {
    if (!this.failover) return undefined;
    const to: BackendRole = from === 'native' ? 'remote' : 'native';
    if (this.find(to) === undefined || !tierAllows(this.#policy, to)) return undefined;
    if (to === 'remote') return this.networkState === 'offline' ? undefined : to;
    return (await this.native!.isAvailable(signal ? { abortSignal: signal } : {})) ? to : undefined;
  }

  /** Tells the network monitor how a remote request went (a result, or an error that allows failover). */
  noteResult(role: BackendRole, e?: unknown): void {
    if (role !== 'remote' || this.monitor === undefined) return;
    if (e === undefined) this.monitor.reportSuccess();
    else if (canFailOver(e)) this.monitor.reportFailure();
  }

  /** The monitor's count of successful probes, for {@link BackendPair.restored} (infinite without a monitor). */
  okProbeCount(): number {
    return this.monitor?.okProbeCount ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Whether a stream may move back to `role`: only the remote is restored mid-stream, once a health
   * probe that started after its failure (`okProbesAtFailure`) has found it reachable (a native
   * backend that failed is used again from the next request on).
   */
  restored(role: BackendRole, okProbesAtFailure: number): boolean {
    if (role !== 'remote' || this.monitor === undefined) return false;
    return this.networkState === 'online' && this.monitor.okProbeCount > okProbesAtFailure && !this.monitor.probing;
  }
}
