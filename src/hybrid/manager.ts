import { homedir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { openAudio } from '../audio/index.js';
import { normalizeWord as norm } from '../metrics/wer.js';
import {
  AbortedError,
  ASRError,
  BackendUnavailableError,
  InvalidArgumentError,
  throwIfAborted,
  toAbortError,
} from '../errors/index.js';
import type {
  ASRBackend,
  AudioChunk,
  AudioInput,
  BackendCapabilities,
  Segment,
  StreamConfig,
  Transcription,
  TranscriptionConfig,
  TranscriptionEvent,
  TranscriptionWarning,
  Word,
} from '../spec/index.js';
import { AudioFeed } from './audio-feed.js';
import { compareTranscriptions, type ComparisonReport } from './comparison.js';
import { NetworkMonitor, type NetworkMonitorOptions, type NetworkState } from './network-monitor.js';
import { selectBackend, supportsLanguage, type DecisionRow, type RequestNeeds, type Selection } from './selection.js';
import { checkSettings, JsonFileSettingsStore, type HybridMode, type HybridSettings, type SettingsStore } from './settings.js';
import {
  checkPolicy,
  DEFAULT_TIER_POLICIES,
  tierAllows,
  tierPolicyFromTable,
  type BackendRole,
  type TierPolicy,
  type TierPolicyFn,
  type TierRequirement,
} from './tier.js';
import { definedOnly } from '../internal/options.js';

/** Why the manager moved a request or a stream from one backend to another. */
export interface BackendSwitchEvent {
  /** `id` of the backend left. */
  readonly from: string;
  /** `id` of the backend taken. */
  readonly to: string;
  /** `failover`: the first backend failed; `restore`: a stream went back to the preferred backend once it was healthy. */
  readonly kind: 'failover' | 'restore';
  /** Why, in words. */
  readonly reason: string;
  /** The error that caused a failover. */
  readonly error?: Error | undefined;
  /** For streams: where on the stream's timeline the new backend starts (the replayed audio's start), seconds. */
  readonly atSec?: number | undefined;
}

/** The tier lacks something the app or the user asked for. */
export interface UpgradeRequiredEvent {
  /** What was asked for: a mode's backend, `dual`, or a feature. */
  readonly requested: TierRequirement;
  /** The current tier. */
  readonly tier: string;
  /** The tier that has it, when the policy names one. */
  readonly requiredTier: string | undefined;
  /** In words. */
  readonly message: string;
}

/** Which backend a request or stream started on, and why. */
export interface BackendSelectedEvent {
  /** `transcribe` (batch), `stream`, or `dual` (both run; `backend` is the preferred one). */
  readonly request: 'transcribe' | 'stream' | 'dual';
  /** `id` of the backend. */
  readonly backend: string;
  /** The decision-table row that chose it. */
  readonly row: DecisionRow;
  /** Why, in words. */
  readonly reason: string;
}

/** Typed events of a {@link HybridManager}. */
export interface HybridManagerEvents {
  /** A request or stream started on a backend (before any failover). */
  'backend-selected': [event: BackendSelectedEvent];
  /** A request or stream moved to another backend. */
  'backend-switch': [event: BackendSwitchEvent];
  /** The tier lacks what was asked for; the manager carried on without it. */
  'upgrade-required': [event: UpgradeRequiredEvent];
  /** The remote backend became reachable. */
  online: [];
  /** The remote backend became unreachable. */
  offline: [reason: string];
  /** Dual mode compared the two backends' transcripts of one recording. */
  comparison: [report: ComparisonReport];
  /** A soft problem (also carried in results). */
  warning: [warning: TranscriptionWarning];
}

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

/** Default settings path: `$HYBRID_ASR_SETTINGS`, else the OS config folder. */
export function defaultSettingsPath(): string {
  if (process.env.HYBRID_ASR_SETTINGS) return process.env.HYBRID_ASR_SETTINGS;
  const base =
    process.platform === 'win32'
      ? (process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'))
      : process.platform === 'darwin'
        ? join(homedir(), 'Library', 'Application Support')
        : (process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'));
  return join(base, 'hybrid-asr', 'settings.json');
}

const MODES: readonly HybridMode[] = ['auto', 'native', 'remote', 'dual'];
/** Words after a switch that repeat the last committed words are dropped when they start this close to the replay point. */
const OVERLAP_WINDOW_SEC = 1.5;

function isBackend(b: unknown): b is ASRBackend {
  const o = b as Partial<ASRBackend> | null;
  return typeof o === 'object' && o !== null && typeof o.transcribe === 'function' && typeof o.transcribeStream === 'function' && typeof o.isAvailable === 'function';
}


function canFailOver(e: unknown): boolean {
  return ASRError.isInstance(e) && e.isRetryable && !AbortedError.isInstance(e);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Reads a stream-shaped input into bytes so that it can be sent to a second backend. */
async function replayable(audio: AudioInput, signal: AbortSignal | undefined): Promise<AudioInput> {
  if (typeof audio !== 'object' || audio === null || audio instanceof Uint8Array || audio instanceof Float32Array || audio instanceof URL) return audio;
  if (!(Symbol.asyncIterator in audio)) return audio;
  const parts: Buffer[] = [];
  try {
    for await (const b of audio as AsyncIterable<Uint8Array>) {
      throwIfAborted(signal);
      parts.push(Buffer.from(b));
    }
  } catch (e) {
    throw toAbortError(signal, e);
  }
  return Buffer.concat(parts);
}

/** Length of `audio` in seconds when it can be known cheaply (header only), else undefined. */
async function probeDuration(audio: AudioInput, signal: AbortSignal | undefined): Promise<number | undefined> {
  if (audio instanceof Float32Array) return audio.length / 16_000;
  if (typeof audio === 'object' && audio !== null && 'format' in audio) {
    const n = audio.format === 'pcm16' ? audio.data.length / 2 : audio.samples.length;
    return n / (audio.channels ?? 1) / audio.sampleRate;
  }
  if (typeof audio === 'string' || audio instanceof URL || audio instanceof Uint8Array) {
    try {
      const r = await openAudio(audio, signal ? { abortSignal: signal } : {});
      const d = r.durationSec;
      await r.close();
      return d;
    } catch {
      return undefined; // the backend will report the bad input
    }
  }
  return undefined;
}

/**
 * Chooses, for each request, which backend runs it (native on-device or remote server) from the
 * subscription tier, the remote's reachability and what each backend's loaded model can do; keeps
 * transcription going when one fails (batch requests are re-run on the other backend; live streams
 * continue on the other backend from the audio not yet covered by a final, on the original timeline,
 * without duplicated words); and in dual mode runs both and reports how they differ.
 *
 * It is itself an {@link ASRBackend}, so the live processor and the server can run over it. It
 * talks to its backends through the spec alone. See {@link selectBackend} for the decision table.
 *
 * @example
 * ```ts
 * const hybrid = new HybridManager({
 *   native: new NativeBackend({ model: 'tiny-ctc-en-streaming' }),
 *   remote: new RemoteBackend({ baseUrl: 'https://asr.example.com/v1', apiKey }),
 *   tier: 'pro-cloud',
 * });
 * hybrid.on('backend-switch', (e) => console.log(`${e.from} → ${e.to}: ${e.reason}`));
 * const { text, backend } = await hybrid.transcribe('talk.wav');
 * ```
 */
export class HybridManager extends EventEmitter<HybridManagerEvents> implements ASRBackend {
  /** `'hybrid'` unless set. */
  readonly id: string;
  /** Human-readable name. */
  readonly name: string;
  /** The native backend, if any. */
  readonly native: ASRBackend | undefined;
  /** The remote backend, if any. */
  readonly remote: ASRBackend | undefined;
  readonly #tier: string;
  readonly #policy: TierPolicy;
  readonly #allowDual: boolean;
  readonly #failover: boolean;
  readonly #store: SettingsStore;
  readonly #monitor: NetworkMonitor | undefined;
  readonly #maxSwitches: number;
  readonly #restoreStreams: boolean;
  #mode: HybridMode;
  #preferredModel: string | undefined;
  #current: string | undefined;
  #active = 0;
  #disposed = false;
  #started = false;
  #lastComparison: ComparisonReport | undefined;
  readonly #notified = new Set<string>();

  /** @param options - see {@link HybridManagerOptions}; validated here, nothing is opened or probed. */
  constructor(options: HybridManagerOptions) {
    super();
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
    this.id = o.id;
    this.native = o.native;
    this.remote = o.remote;
    this.name = `hybrid (${[o.native?.name, o.remote?.name].filter((n) => n !== undefined).join(' + ')})`;
    this.#tier = o.tier;
    this.#policy = policy;
    this.#allowDual = o.allowDual ?? process.env.NODE_ENV !== 'production';
    this.#failover = o.failover;
    this.#store = o.settings ?? new JsonFileSettingsStore({ path: defaultSettingsPath() });
    this.#maxSwitches = Math.floor(o.maxSwitchesPerStream);
    this.#restoreStreams = o.restoreStreams;
    this.#mode = o.mode;
    const remote = o.remote;
    if (o.network instanceof NetworkMonitor) this.#monitor = o.network;
    else if (remote !== undefined) {
      this.#monitor = new NetworkMonitor({ probe: (signal) => remote.isAvailable({ abortSignal: signal }), ...(o.network ?? {}) });
    }
    this.#monitor?.on('online', () => this.emit('online'));
    this.#monitor?.on('offline', (r) => this.emit('offline', r));
  }

  // ------------------------------------------------------------------ state

  /** `id` of the backend running the current request or stream (or the last one), `undefined` before any. */
  get currentBackend(): string | undefined {
    return this.#current;
  }

  /** Whether a request or stream is running. */
  get isTranscribing(): boolean {
    return this.#active > 0;
  }

  /** The mode in force (as set; see {@link HybridManager.effectiveMode} for what the tier makes of it). */
  get mode(): HybridMode {
    return this.#mode;
  }

  /** The subscription tier. */
  get tier(): string {
    return this.#tier;
  }

  /** The user's preferred model, from settings. */
  get preferredModel(): string | undefined {
    return this.#preferredModel;
  }

  /** The remote backend's reachability as the network monitor sees it (`unknown` with no remote). */
  get networkState(): NetworkState {
    return this.#monitor?.state ?? 'unknown';
  }

  /** The network monitor (undefined without a remote backend). */
  get network(): NetworkMonitor | undefined {
    return this.#monitor;
  }

  /** The last dual-mode comparison, if any. */
  get lastComparison(): ComparisonReport | undefined {
    return this.#lastComparison;
  }

  /** Backends the tier allows, among those given. */
  get allowedBackends(): BackendRole[] {
    const out: BackendRole[] = [];
    if (this.native !== undefined && tierAllows(this.#policy, 'native')) out.push('native');
    if (this.remote !== undefined && tierAllows(this.#policy, 'remote')) out.push('remote');
    return out;
  }

  /**
   * What the hybrid can do: the native model's capabilities, widened by the remote's where the tier
   * allows it (a language or diarization only the remote has counts).
   */
  get capabilities(): BackendCapabilities {
    const allowed = this.allowedBackends;
    const caps = allowed.map((r) => this.#backend(r).capabilities);
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
      ...(maxes.every((m) => m !== undefined) ? { maxAudioDurationSec: Math.max(...(maxes as number[])) } : {}),
      ...(windows.length > 0 ? { maxWindowSec: Math.min(...windows) } : {}),
      ...(primary.sampleRate !== undefined ? { sampleRate: primary.sampleRate } : {}),
    };
  }

  // ------------------------------------------------------------------ settings, mode

  /** Loads mode and preferred model from the settings store (stored values win over the constructor's). */
  async loadSettings(): Promise<HybridSettings> {
    const s = (await this.#store.load()) ?? {};
    if (s.mode !== undefined) this.#mode = s.mode;
    if (s.preferredModel !== undefined) this.#preferredModel = s.preferredModel;
    this.effectiveMode();
    return s;
  }

  /** Sets the mode and saves it. A mode the tier does not allow is kept but runs as `auto` (with `upgrade-required`). */
  async setMode(mode: HybridMode): Promise<void> {
    checkSettings({ mode }, '`mode`');
    this.#mode = mode;
    this.effectiveMode();
    await this.#save();
  }

  /** Sets the preferred model and saves it. */
  async setPreferredModel(model: string | undefined): Promise<void> {
    if (model !== undefined) checkSettings({ preferredModel: model }, '`model`');
    this.#preferredModel = model;
    await this.#save();
  }

  async #save(): Promise<void> {
    await this.#store.save({
      mode: this.#mode,
      ...(this.#preferredModel !== undefined ? { preferredModel: this.#preferredModel } : {}),
    });
  }

  /**
   * The mode that actually runs: an explicit mode the tier does not allow falls back to `auto` and
   * emits `upgrade-required` (once per mode); `dual` outside `allowDual` falls back to `auto` with a warning.
   */
  effectiveMode(): HybridMode {
    const m = this.#mode;
    if (m === 'auto') return m;
    if (m === 'dual' && !this.#allowDual) {
      this.#once(`dual-disabled`, () => this.emit('warning', { type: 'other', message: 'dual mode is disabled in production (set allowDual); running in auto mode' }));
      return 'auto';
    }
    const req: TierRequirement = m;
    const present = m === 'dual' ? this.native !== undefined && this.remote !== undefined : this.#backendOrUndefined(m) !== undefined;
    if (!tierAllows(this.#policy, req)) {
      this.#once(`mode:${m}`, () => this.#upgrade(req, `mode '${m}'`));
      return 'auto';
    }
    if (!present) {
      this.#once(`missing:${m}`, () => this.emit('warning', { type: 'other', message: `mode '${m}' needs ${m === 'dual' ? 'both backends' : `a ${m} backend`}; running in auto mode` }));
      return 'auto';
    }
    return m;
  }

  #once(key: string, fn: () => void): void {
    if (this.#notified.has(key)) return;
    this.#notified.add(key);
    fn();
  }

  #upgrade(requested: TierRequirement, what: string): void {
    const requiredTier = this.#policy.upgrades?.[requested];
    this.emit('upgrade-required', {
      requested,
      tier: this.#tier,
      requiredTier,
      message: `${what} is not included in the '${this.#tier}' tier${requiredTier !== undefined ? `; it needs '${requiredTier}'` : ''}`,
    });
  }

  /** Tells the manager what the app knows about the network (e.g. the OS went offline). */
  setNetworkState(state: 'online' | 'offline'): void {
    this.#startMonitor();
    this.#monitor?.setKnownState(state);
  }

  #startMonitor(): void {
    if (this.#started || this.#monitor === undefined || !tierAllows(this.#policy, 'remote')) return;
    this.#started = true;
    this.#monitor.start();
  }

  // ------------------------------------------------------------------ selection

  #backend(role: BackendRole): ASRBackend {
    const b = role === 'native' ? this.native : this.remote;
    if (b === undefined) throw new BackendUnavailableError(`There is no ${role} backend`);
    return b;
  }

  #backendOrUndefined(role: BackendRole): ASRBackend | undefined {
    return role === 'native' ? this.native : this.remote;
  }

  #role(id: string): BackendRole {
    return id === this.native?.id ? 'native' : 'remote';
  }

  /** Tier-filtered needs of a request, with warnings for features the tier lacks. */
  #needs(config: TranscriptionConfig, durationSec: number | undefined, warnings: TranscriptionWarning[]): { needs: RequestNeeds; config: TranscriptionConfig } {
    let c: TranscriptionConfig = config;
    const wantsDiar = config.diarization !== undefined && config.diarization !== false;
    const wantsHot = (config.hotwords?.length ?? 0) > 0;
    if (wantsDiar && !tierAllows(this.#policy, 'diarization')) {
      warnings.push({ type: 'unsupported', feature: 'diarization', details: `not included in the '${this.#tier}' tier` });
      this.#upgrade('diarization', 'diarization');
      const { diarization: _d, ...rest } = c;
      c = rest;
    }
    if (wantsHot && !tierAllows(this.#policy, 'hotwords')) {
      warnings.push({ type: 'unsupported', feature: 'hotwords', details: `not included in the '${this.#tier}' tier` });
      this.#upgrade('hotwords', 'hotwords');
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

  /**
   * Decides which backend would run a request now (loads the native model if needed; emits
   * `upgrade-required` when the tier made the choice worse). Throws `NoBackendError` when none can.
   */
  async select(needs: RequestNeeds, mode: 'auto' | BackendRole = this.#autoOrPinned(), signal?: AbortSignal): Promise<Selection> {
    return this.#select(needs, mode, signal, this.networkState !== 'offline');
  }

  async #select(needs: RequestNeeds, mode: 'auto' | BackendRole, signal: AbortSignal | undefined, online: boolean): Promise<Selection> {
    this.#startMonitor();
    const nativeOk = this.native !== undefined && tierAllows(this.#policy, 'native');
    const nativeAvailable = nativeOk ? await this.native!.isAvailable(signal ? { abortSignal: signal } : {}) : false;
    throwIfAborted(signal);
    const sel = (() => {
      try {
        return selectBackend({
          mode,
          allowed: this.allowedBackends,
          online,
          native: this.native === undefined ? undefined : { available: nativeAvailable, capabilities: this.native.capabilities },
          remote: this.remote === undefined ? undefined : { available: !this.#disposed, capabilities: this.remote.capabilities },
          needs,
        });
      } catch (e) {
        if ((e as { remoteWouldHelp?: boolean }).remoteWouldHelp) this.#upgrade('remote', 'the remote backend');
        throw e;
      }
    })();
    if (sel.remoteWouldHelp) this.#upgrade('remote', 'the remote backend');
    return sel;
  }

  #autoOrPinned(): 'auto' | BackendRole {
    const m = this.effectiveMode();
    return m === 'dual' ? 'auto' : m;
  }

  /** The backend to fail over to from `from`, or undefined. */
  async #fallbackFor(from: BackendRole, signal: AbortSignal | undefined): Promise<BackendRole | undefined> {
    if (!this.#failover) return undefined;
    const to: BackendRole = from === 'native' ? 'remote' : 'native';
    if (this.#backendOrUndefined(to) === undefined || !tierAllows(this.#policy, to)) return undefined;
    if (to === 'remote') return this.networkState === 'offline' ? undefined : to;
    return (await this.native!.isAvailable(signal ? { abortSignal: signal } : {})) ? to : undefined;
  }

  #noteResult(role: BackendRole, e?: unknown): void {
    if (role !== 'remote' || this.#monitor === undefined) return;
    if (e === undefined) this.#monitor.reportSuccess();
    else if (canFailOver(e)) this.#monitor.reportFailure();
  }

  #warn(warnings: TranscriptionWarning[], w: TranscriptionWarning): void {
    warnings.push(w);
    this.emit('warning', w);
  }

  #checkOpen(): void {
    if (this.#disposed) throw new BackendUnavailableError('The hybrid manager has been disposed');
  }

  // ------------------------------------------------------------------ ASRBackend

  /** True when some backend the tier allows can serve requests now. Never throws. */
  async isAvailable(options?: { readonly abortSignal?: AbortSignal }): Promise<boolean> {
    if (this.#disposed) return false;
    try {
      for (const r of this.allowedBackends) {
        if (r === 'remote' && this.networkState === 'offline') continue;
        if (await this.#backend(r).isAvailable(options)) return true;
      }
      return false;
    } catch {
      return false;
    }
  }

  /**
   * Transcribes a recording on the backend the decision table picks; on a retryable failure
   * (connection lost, 5xx, backend unavailable) runs it on the other backend, with a `fallback`
   * warning in the result and a `backend-switch` event. In dual mode runs both and emits `comparison`.
   */
  async transcribe(audio: AudioInput, options: TranscriptionConfig = {}): Promise<Transcription> {
    this.#checkOpen();
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object');
    const signal = options.abortSignal;
    throwIfAborted(signal);
    this.#active++;
    try {
      const input = await replayable(audio, signal);
      const needsDuration = [this.native, this.remote].some((b) => b?.capabilities.maxAudioDurationSec !== undefined);
      const duration = needsDuration ? await probeDuration(input, signal) : undefined;
      const warnings: TranscriptionWarning[] = [];
      const { needs, config } = this.#needs(options, duration, warnings);
      const mode = this.effectiveMode();
      const sel = await this.select(needs, mode === 'dual' ? 'auto' : mode, signal);
      for (const w of sel.warnings) this.emit('warning', w);
      const cfg = sel.drop.includes('language') ? withoutLanguage(config) : config;
      this.emit('backend-selected', { request: mode === 'dual' ? 'dual' : 'transcribe', backend: this.#backend(sel.backend).id, row: sel.row, reason: sel.reason });
      if (mode === 'dual') return await this.#dual(input, cfg, sel, [...warnings, ...sel.warnings]);
      return await this.#runBatch(input, cfg, sel.backend, [...warnings, ...sel.warnings]);
    } finally {
      this.#active--;
    }
  }

  async #runBatch(input: AudioInput, config: TranscriptionConfig, role: BackendRole, warnings: TranscriptionWarning[]): Promise<Transcription> {
    const backend = this.#backend(role);
    this.#current = backend.id;
    try {
      const r = await backend.transcribe(input, config);
      this.#noteResult(role);
      return { ...r, warnings: [...warnings, ...r.warnings] };
    } catch (e) {
      this.#noteResult(role, e);
      if (!canFailOver(e) || config.abortSignal?.aborted) throw toAbortError(config.abortSignal, e);
      const to = await this.#fallbackFor(role, config.abortSignal);
      if (to === undefined) throw e;
      const other = this.#backend(to);
      const reason = `${backend.id} failed: ${message(e)}`;
      this.emit('backend-switch', { from: backend.id, to: other.id, kind: 'failover', reason, error: e as Error });
      this.#current = other.id;
      const w: TranscriptionWarning = { type: 'fallback', from: backend.id, to: other.id, reason };
      this.emit('warning', w);
      const cfg = hardGapsDropLanguage(other.capabilities, config);
      const r = await other.transcribe(input, cfg);
      this.#noteResult(to);
      return { ...r, warnings: [...warnings, w, ...r.warnings] };
    }
  }

  async #dual(input: AudioInput, config: TranscriptionConfig, sel: Selection, warnings: TranscriptionWarning[]): Promise<Transcription> {
    const prefRole = sel.backend;
    const otherRole: BackendRole = prefRole === 'native' ? 'remote' : 'native';
    const pref = this.#backend(prefRole);
    const other = this.#backend(otherRole);
    this.#current = pref.id;
    const [a, b] = await Promise.allSettled([pref.transcribe(input, config), other.transcribe(input, hardGapsDropLanguage(other.capabilities, config))]);
    this.#noteResult(prefRole, a.status === 'rejected' ? a.reason : undefined);
    this.#noteResult(otherRole, b.status === 'rejected' ? b.reason : undefined);
    throwIfAborted(config.abortSignal);
    if (a.status === 'fulfilled' && b.status === 'fulfilled') {
      const report = compareTranscriptions(a.value, b.value);
      this.#lastComparison = report;
      this.emit('comparison', report);
      return { ...a.value, warnings: [...warnings, ...a.value.warnings] };
    }
    if (a.status === 'fulfilled') {
      const w: TranscriptionWarning = { type: 'other', message: `dual mode: ${other.id} failed (${message((b as PromiseRejectedResult).reason)}); no comparison` };
      this.emit('warning', w);
      return { ...a.value, warnings: [...warnings, w, ...a.value.warnings] };
    }
    if (b.status === 'fulfilled' && canFailOver(a.reason) && this.#failover) {
      const reason = `${pref.id} failed: ${message(a.reason)}`;
      this.emit('backend-switch', { from: pref.id, to: other.id, kind: 'failover', reason, error: a.reason as Error });
      this.#current = other.id;
      const w: TranscriptionWarning = { type: 'fallback', from: pref.id, to: other.id, reason };
      this.emit('warning', w);
      return { ...b.value, warnings: [...warnings, w, ...b.value.warnings] };
    }
    throw a.reason;
  }

  /**
   * Runs both backends on the same recording (whatever the mode) and returns how they compare; the
   * preferred backend is the one the decision table would pick. Also emits `comparison`.
   */
  async compare(audio: AudioInput, options: TranscriptionConfig = {}): Promise<ComparisonReport> {
    this.#checkOpen();
    if (this.native === undefined || this.remote === undefined) throw new BackendUnavailableError('compare() needs both a native and a remote backend');
    throwIfAborted(options.abortSignal);
    this.#active++;
    try {
      const input = await replayable(audio, options.abortSignal);
      const warnings: TranscriptionWarning[] = [];
      const { needs, config } = this.#needs(options, undefined, warnings);
      const sel = await this.select(needs, 'auto', options.abortSignal).catch(() => undefined);
      const prefRole = sel?.backend ?? 'native';
      const pref = this.#backend(prefRole);
      const other = this.#backend(prefRole === 'native' ? 'remote' : 'native');
      const [a, b] = await Promise.all([pref.transcribe(input, config), other.transcribe(input, hardGapsDropLanguage(other.capabilities, config))]);
      const report = compareTranscriptions(a, b);
      this.#lastComparison = report;
      this.emit('comparison', report);
      return report;
    } finally {
      this.#active--;
    }
  }

  /**
   * Streams live audio through the chosen backend. Audio not yet covered by a final is kept (all of
   * it: it is never dropped); when the backend fails mid-stream the other backend is started on that
   * audio and the stream goes on: times stay on the original timeline, words the new backend hears
   * again in the overlap are dropped, a `warning` event of type `fallback` marks the switch. Once the
   * preferred remote backend is healthy again the stream moves back at the next final.
   */
  transcribeStream(audio: AsyncIterable<AudioChunk>, options: StreamConfig = {}): AsyncIterable<TranscriptionEvent> {
    return this.#stream(audio, options);
  }

  async *#stream(audio: AsyncIterable<AudioChunk>, options: StreamConfig): AsyncGenerator<TranscriptionEvent> {
    this.#checkOpen();
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object');
    if (audio === null || typeof audio !== 'object' || !(Symbol.asyncIterator in audio)) {
      throw new InvalidArgumentError('`audio` must be an AsyncIterable of AudioChunk');
    }
    const signal = options.abortSignal;
    throwIfAborted(signal);
    this.#active++;
    const started = performance.now();
    const feed = new AudioFeed(audio);
    const streamWarnings: TranscriptionWarning[] = [];
    const finals: Segment[] = [];
    let dualTask: Promise<Transcription | undefined> | undefined;
    const dualStop = new AbortController();
    try {
      const { needs, config } = this.#needs(options, undefined, streamWarnings);
      for (const w of streamWarnings) yield { type: 'warning', warning: w };
      const mode = this.effectiveMode();
      const sel = await this.select(needs, mode === 'dual' ? 'auto' : mode, signal);
      let cfg: StreamConfig = sel.drop.includes('language') ? withoutLanguage(config) : config;
      for (const w of sel.warnings) {
        streamWarnings.push(w);
        this.emit('warning', w);
        yield { type: 'warning', warning: w };
      }
      this.emit('backend-selected', { request: 'stream', backend: this.#backend(sel.backend).id, row: sel.row, reason: sel.reason });
      let preferred = sel.backend;
      let okProbesAtFailure = Number.POSITIVE_INFINITY; // the monitor's successful probes when the preferred backend failed
      if (sel.row === 'offline-native' && this.#monitor !== undefined) {
        // Started on native only because the remote is down: the remote is preferred once a probe finds it back.
        const ideal = await this.#select(needs, mode === 'dual' ? 'auto' : mode, signal, true).catch(() => undefined);
        if (ideal?.backend === 'remote') {
          preferred = 'remote';
          okProbesAtFailure = this.#monitor.okProbeCount;
        }
      }
      let role: BackendRole = sel.backend;
      if (mode === 'dual') {
        const otherRole: BackendRole = role === 'native' ? 'remote' : 'native';
        dualTask = this.#dualStreamSide(feed, otherRole, cfg, dualStop.signal);
      }
      let switches = 0;
      let lastWords: string[] = [];
      let cutoffSec = 0; // end of the last final on the original timeline
      let dedupeUntil = -1; // after a switch: drop repeats of the committed tail starting before this
      for (;;) {
        const backend = this.#backend(role);
        this.#current = backend.id;
        const fromSample = feed.replayFrom();
        const rate = feed.sampleRate;
        const offsetSec = rate === 0 ? 0 : fromSample / rate;
        const local = new AbortController();
        const sig = signal ? AbortSignal.any([signal, local.signal]) : local.signal;
        let active = true;
        const input = feed.reader(fromSample, () => active);
        const it = backend.transcribeStream(input, { ...cfg, abortSignal: sig })[Symbol.asyncIterator]();
        let fatal: TranscriptionEvent | undefined;
        let switchTo: { role: BackendRole; kind: 'failover' | 'restore'; reason: string; error?: Error } | undefined;
        try {
          for (;;) {
            const step = await it.next();
            if (step.done === true) {
              // A backend that ends without `end`: end here.
              yield await this.#finishStream(feed, finals, streamWarnings, started, backend.id, cfg, dualTask);
              return;
            }
            const ev = step.value;
            if (ev.type === 'partial') {
              yield { ...ev, start: ev.start + offsetSec, end: ev.end + offsetSec };
            } else if (ev.type === 'final') {
              const seg = shiftSegment(ev.segment, offsetSec);
              const kept = dedupe(seg, cutoffSec, lastWords, dedupeUntil);
              if (kept === undefined) continue;
              finals.push(kept);
              cutoffSec = Math.max(cutoffSec, kept.end);
              feed.commit(cutoffSec);
              lastWords = [...lastWords, ...wordsOf(kept)].slice(-8);
              this.#noteResult(role);
              yield { type: 'final', segment: kept };
              // Back to the preferred backend once it is healthy again.
              if (this.#restoreStreams && role !== preferred && switches < this.#maxSwitches && this.#restored(preferred, okProbesAtFailure)) {
                switchTo = { role: preferred, kind: 'restore', reason: `${this.#backend(preferred).id} is healthy again` };
                break;
              }
            } else if (ev.type === 'diarization') {
              yield { ...ev, turns: ev.turns.map((t) => ({ ...t, start: t.start + offsetSec, end: t.end + offsetSec })) };
            } else if (ev.type === 'warning') {
              streamWarnings.push(ev.warning);
              yield ev;
            } else if (ev.type === 'error') {
              if (ev.recoverable) yield ev;
              else fatal = ev;
            } else {
              this.#noteResult(role);
              yield await this.#finishStream(feed, finals, streamWarnings, started, backend.id, cfg, dualTask);
              return;
            }
          }
        } catch (e) {
          const err = toAbortError(signal, e);
          if (AbortedError.isInstance(err) && signal?.aborted) throw err;
          // The caller's audio failed (or was malformed): no other backend would do better.
          if (feed.sourceError !== undefined) {
            if (fatal !== undefined) yield fatal;
            throw ASRError.isInstance(feed.sourceError) ? feed.sourceError : err;
          }
          this.#noteResult(role, err);
          const to = canFailOver(err) && switches < this.#maxSwitches ? await this.#fallbackFor(role, signal) : undefined;
          if (to === undefined) {
            if (fatal !== undefined) yield fatal;
            throw err;
          }
          if (role === preferred) okProbesAtFailure = this.#monitor?.okProbeCount ?? Number.POSITIVE_INFINITY;
          switchTo = { role: to, kind: 'failover', reason: `${backend.id} failed: ${message(err)}`, error: err as Error };
        } finally {
          active = false;
          local.abort();
          if (it.return !== undefined) void Promise.resolve(it.return()).catch(() => undefined);
        }
        if (switchTo === undefined) continue;
        switches++;
        const to = this.#backend(switchTo.role);
        const atSec = feed.sampleRate === 0 ? 0 : feed.replayFrom() / feed.sampleRate;
        this.emit('backend-switch', {
          from: backend.id,
          to: to.id,
          kind: switchTo.kind,
          reason: switchTo.reason,
          atSec,
          ...(switchTo.error !== undefined ? { error: switchTo.error } : {}),
        });
        if (switchTo.kind === 'failover') {
          const w: TranscriptionWarning = { type: 'fallback', from: backend.id, to: to.id, reason: switchTo.reason };
          streamWarnings.push(w);
          this.emit('warning', w);
          yield { type: 'warning', warning: w };
        }
        role = switchTo.role;
        cfg = hardGapsDropLanguage(to.capabilities, cfg);
        dedupeUntil = cutoffSec + OVERLAP_WINDOW_SEC;
      }
    } finally {
      this.#active--;
      dualStop.abort();
      if (dualTask !== undefined) void dualTask.catch(() => undefined);
      void feed.close();
    }
  }

  /**
   * Whether a stream may move back to `role`: only the remote is restored mid-stream, once a health
   * probe that started after its failure has found it reachable (a native backend that failed is
   * used again from the next request on).
   */
  #restored(role: BackendRole, okProbesAtFailure: number): boolean {
    if (role !== 'remote' || this.#monitor === undefined) return false;
    return this.networkState === 'online' && this.#monitor.okProbeCount > okProbesAtFailure && !this.#monitor.probing;
  }

  /** Dual mode for streams: the other backend reads the same audio; compared at the end. */
  async #dualStreamSide(feed: AudioFeed, role: BackendRole, config: StreamConfig, stop: AbortSignal): Promise<Transcription | undefined> {
    const backend = this.#backend(role);
    const segments: Segment[] = [];
    const t0 = performance.now();
    try {
      for await (const ev of backend.transcribeStream(feed.reader(0, () => !stop.aborted), { ...hardGapsDropLanguage(backend.capabilities, config), abortSignal: stop })) {
        if (ev.type === 'final') segments.push(ev.segment);
      }
    } catch {
      return undefined;
    }
    return {
      text: segments.map((s) => s.text.trim()).filter((t) => t !== '').join(' '),
      segments,
      durationSec: feed.totalSec,
      processingTimeSec: (performance.now() - t0) / 1000,
      backend: backend.id,
      warnings: [],
    };
  }

  async #finishStream(
    feed: AudioFeed,
    finals: Segment[],
    warnings: TranscriptionWarning[],
    started: number,
    backendId: string,
    cfg: StreamConfig,
    dualTask: Promise<Transcription | undefined> | undefined,
  ): Promise<TranscriptionEvent> {
    const end = this.#endEvent(feed, finals, warnings, started, backendId, cfg);
    if (dualTask !== undefined && end.type === 'end' && end.transcription !== undefined) {
      const other = await dualTask.catch(() => undefined);
      if (other !== undefined) {
        const report = compareTranscriptions(end.transcription, other);
        this.#lastComparison = report;
        this.emit('comparison', report);
      }
    }
    return end;
  }

  #endEvent(feed: AudioFeed, finals: Segment[], warnings: TranscriptionWarning[], started: number, backendId: string, cfg: StreamConfig): TranscriptionEvent {
    const transcription: Transcription = {
      text: finals.map((s) => s.text.trim()).filter((t) => t !== '').join(' '),
      segments: [...finals],
      ...(cfg.language !== undefined ? { language: cfg.language } : {}),
      durationSec: feed.totalSec,
      processingTimeSec: (performance.now() - started) / 1000,
      backend: backendId,
      warnings: [...warnings],
    };
    return { type: 'end', durationSec: feed.totalSec, transcription };
  }

  /**
   * Stops the network monitor and disposes both backends. Idempotent; later calls reject with
   * `BackendUnavailableError`.
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#monitor?.stop();
    await Promise.all([this.native?.dispose(), this.remote?.dispose()]);
  }
}

function withoutLanguage<T extends TranscriptionConfig>(c: T): T {
  const { language: _l, ...rest } = c;
  return rest as T;
}

/** Drops `language` for a backend whose model lacks it (after a failover), so the call can proceed. */
function hardGapsDropLanguage<T extends TranscriptionConfig>(caps: BackendCapabilities, c: T): T {
  return supportsLanguage(caps, c.language) ? c : withoutLanguage(c);
}

function shiftSegment(seg: Segment, offset: number): Segment {
  if (offset === 0) return seg;
  return {
    ...seg,
    start: seg.start + offset,
    end: seg.end + offset,
    words: seg.words.map((w) => ({ ...w, start: w.start + offset, end: w.end + offset })),
  };
}

function wordsOf(seg: Segment): string[] {
  const ws = seg.words.length > 0 ? seg.words.map((w) => w.word) : seg.text.split(/\s+/);
  return ws.map(norm).filter((w) => w !== '');
}

/**
 * Drops what a new backend heard again in the overlap: words ending at or before `cutoff` (already
 * committed), and, for segments starting before `dedupeUntil`, leading words that repeat the tail of
 * the committed words. Returns undefined when nothing is left.
 */
function dedupe(seg: Segment, cutoff: number, lastWords: readonly string[], dedupeUntil: number): Segment | undefined {
  let words: Word[] = [...seg.words];
  if (words.length === 0) {
    if (seg.end <= cutoff + 1e-6 && cutoff > 0) return undefined;
    if (seg.start < dedupeUntil) {
      const tokens = seg.text.split(/\s+/).filter((t) => t !== '');
      const k = overlapLength(lastWords, tokens.map(norm));
      if (k > 0) {
        const text = tokens.slice(k).join(' ');
        return text === '' ? undefined : { ...seg, text };
      }
    }
    return seg;
  }
  words = words.filter((w) => w.end > cutoff + 1e-6 || cutoff === 0);
  if (words.length > 0 && words[0]!.start < dedupeUntil) {
    const k = overlapLength(lastWords, words.map((w) => norm(w.word)));
    if (k > 0) words = words.slice(k);
  }
  if (words.length === 0) return undefined;
  if (words.length === seg.words.length) return seg;
  return {
    ...seg,
    start: Math.max(seg.start, words[0]!.start),
    text: words.map((w) => w.word).join(' '),
    words,
  };
}

/** Longest k such that the last k of `tail` equal the first k of `head` (k ≤ 4). */
function overlapLength(tail: readonly string[], head: readonly string[]): number {
  for (let k = Math.min(4, tail.length, head.length); k > 0; k--) {
    let ok = true;
    for (let i = 0; i < k; i++) if (tail[tail.length - k + i] !== head[i]) ok = false;
    if (ok) return k;
  }
  return 0;
}
