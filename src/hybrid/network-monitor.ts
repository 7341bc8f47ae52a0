import { EventEmitter } from 'eventemitter3';
import { InvalidArgumentError } from '../errors/index.js';
import { type Complete, definedOnly } from '../internal/options.js';

/** Reachability of the remote backend as the monitor sees it. */
export type NetworkState = 'unknown' | 'online' | 'offline';

/** Events of a {@link NetworkMonitor}. */
export interface NetworkMonitorEvents {
  /** The remote backend became reachable. */
  online: [];
  /** The remote backend became unreachable; `reason` says how the monitor learnt it. */
  offline: [reason: string];
}

/** Timer functions the monitor uses (inject fakes in tests). */
export interface MonitorTimers {
  /** Schedules `fn` after `ms`. */
  readonly setTimeout: (fn: () => void, ms: number) => unknown;
  /** Cancels a handle returned by `setTimeout`. */
  readonly clearTimeout: (handle: unknown) => void;
}

/** Options of {@link NetworkMonitor}. */
export interface NetworkMonitorOptions {
  /**
   * The health probe: resolves `true` when the remote backend answers. Normally
   * `(signal) => remote.isAvailable({ abortSignal: signal })`. Rejections count as `false`.
   */
  readonly probe: (signal: AbortSignal) => Promise<boolean>;
  /**
   * Time between probes while online, ms.
   * @defaultValue 30000
   */
  readonly intervalMs?: number | undefined;
  /**
   * A probe that takes longer than this counts as failed, ms.
   * @defaultValue 3000
   */
  readonly timeoutMs?: number | undefined;
  /**
   * First delay between probes while offline, ms; doubles after each failed probe.
   * @defaultValue 1000
   */
  readonly backoffInitialMs?: number | undefined;
  /**
   * Longest delay between probes while offline, ms.
   * @defaultValue 30000
   */
  readonly backoffMaxMs?: number | undefined;
  /**
   * Timers (for tests).
   * @defaultValue the global `setTimeout` / `clearTimeout` (timers are unref'd so they never keep the process alive)
   */
  readonly timers?: MonitorTimers | undefined;
}

const DEFAULTS = { intervalMs: 30_000, timeoutMs: 3_000, backoffInitialMs: 1_000, backoffMaxMs: 30_000 };

const GLOBAL_TIMERS: MonitorTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Watches whether the **remote backend** (not "the internet") is reachable: a health probe with a
 * short timeout, run periodically while running, and soon after a reported failure. At most one
 * probe is in flight at a time; while the remote is down probes back off exponentially. State
 * changes are `online` / `offline` events; the app can push what it knows ({@link NetworkMonitor.setKnownState},
 * e.g. when the OS reports the machine offline).
 *
 * Creating a monitor starts nothing; {@link NetworkMonitor.start} does.
 */
export class NetworkMonitor extends EventEmitter<NetworkMonitorEvents> {
  readonly #o: Complete<Omit<NetworkMonitorOptions, 'timers'>> & { timers: MonitorTimers };
  #state: NetworkState = 'unknown';
  #inFlight: Promise<boolean> | undefined;
  #timer: unknown;
  #running = false;
  #failures = 0;
  #probes = 0;
  #appOffline = false;
  #okProbes = 0;

  /** @param options - see {@link NetworkMonitorOptions}; validated here. */
  constructor(options: NetworkMonitorOptions) {
    super();
    if (typeof options !== 'object' || options === null || typeof options.probe !== 'function') {
      throw new InvalidArgumentError('`probe` must be a function (signal) => Promise<boolean>');
    }
    const o = { ...DEFAULTS, timers: GLOBAL_TIMERS, ...definedOnly(options) };
    for (const k of ['intervalMs', 'timeoutMs', 'backoffInitialMs', 'backoffMaxMs'] as const) {
      const v = o[k];
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(`\`${k}\` must be a finite number > 0, got ${String(v)}`);
    }
    if (o.backoffMaxMs < o.backoffInitialMs) {
      throw new InvalidArgumentError(`\`backoffMaxMs\` (${o.backoffMaxMs}) must be >= \`backoffInitialMs\` (${o.backoffInitialMs})`);
    }
    this.#o = o;
  }

  /** Current view: `unknown` until the first probe answers (or the app says). */
  get state(): NetworkState {
    return this.#state;
  }

  /** Probes started so far (for diagnostics and tests). */
  get probeCount(): number {
    return this.#probes;
  }

  /** Probes that found the remote reachable so far: a later value proves a probe succeeded since. */
  get okProbeCount(): number {
    return this.#okProbes;
  }

  /** Whether a probe is in flight. */
  get probing(): boolean {
    return this.#inFlight !== undefined;
  }

  /** Delay before the next probe, given the state: the interval while online, backoff while offline. */
  get nextDelayMs(): number {
    if (this.#state !== 'offline') return this.#o.intervalMs;
    return Math.min(this.#o.backoffMaxMs, this.#o.backoffInitialMs * 2 ** Math.max(0, this.#failures - 1));
  }

  /** Starts periodic probing (the first probe runs now). Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.check();
  }

  /** Stops probing. Idempotent; a probe in flight finishes but schedules nothing. */
  stop(): void {
    this.#running = false;
    this.#clearTimer();
  }

  /**
   * Probes now, unless a probe is already in flight (then resolves with that one's answer).
   * Resolves `true` when the remote answered. Never rejects.
   */
  check(): Promise<boolean> {
    if (this.#inFlight) return this.#inFlight;
    if (this.#appOffline) return Promise.resolve(false);
    this.#clearTimer();
    this.#probes++;
    const p = this.#probe().then((ok) => {
      this.#inFlight = undefined;
      if (!this.#appOffline) {
        if (ok) {
          this.#okProbes++;
          this.#failures = 0;
          this.#set('online', '');
        } else {
          this.#failures++;
          this.#set('offline', 'the health probe failed');
        }
      }
      this.#schedule();
      return ok;
    });
    this.#inFlight = p;
    return p;
  }

  /**
   * Tells the monitor a request to the remote backend failed (connection error, 5xx). While
   * online this probes at once (one probe, however many failures are reported); while offline the
   * backoff schedule stands.
   */
  reportFailure(): void {
    if (this.#state === 'offline' || this.#inFlight || this.#appOffline) return;
    void this.check();
  }

  /** Tells the monitor a request to the remote backend succeeded: it is online. */
  reportSuccess(): void {
    if (this.#appOffline) return;
    this.#failures = 0;
    this.#set('online', '');
  }

  /**
   * Pushes what the app knows. `'offline'` (e.g. the OS has no network) marks the remote
   * unreachable and pauses probing until the app says `'online'`, which probes at once (being on a
   * network does not prove the remote is reachable).
   */
  setKnownState(state: 'online' | 'offline'): void {
    if (state !== 'online' && state !== 'offline') throw new InvalidArgumentError(`\`state\` must be 'online' or 'offline', got ${String(state)}`);
    if (state === 'offline') {
      this.#appOffline = true;
      this.#clearTimer();
      this.#set('offline', 'the app reported the network offline');
      return;
    }
    this.#appOffline = false;
    this.#failures = 0;
    void this.check();
  }

  async #probe(): Promise<boolean> {
    const ac = new AbortController();
    const t = this.#o.timers.setTimeout(() => ac.abort(), this.#o.timeoutMs);
    try {
      const timeout = new Promise<boolean>((resolve) => ac.signal.addEventListener('abort', () => resolve(false), { once: true }));
      return await Promise.race([this.#o.probe(ac.signal).then((v) => v === true, () => false), timeout]);
    } catch {
      return false;
    } finally {
      this.#o.timers.clearTimeout(t);
      ac.abort();
    }
  }

  #schedule(): void {
    this.#clearTimer();
    if (!this.#running || this.#appOffline) return;
    this.#timer = this.#o.timers.setTimeout(() => {
      this.#timer = undefined;
      void this.check();
    }, this.nextDelayMs);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #set(state: 'online' | 'offline', reason: string): void {
    if (this.#state === state) return;
    this.#state = state;
    if (state === 'online') this.emit('online');
    else this.emit('offline', reason);
  }
}
