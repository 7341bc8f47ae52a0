import { EventEmitter } from 'eventemitter3';
import { BackendUnavailableError, InvalidArgumentError, throwIfAborted } from '../errors/index.js';
import type {
  ASRBackend,
  AudioChunk,
  AudioInput,
  BackendCapabilities,
  StreamConfig,
  Transcription,
  TranscriptionConfig,
  TranscriptionEvent,
  TranscriptionWarning,
} from '../spec/index.js';
import { BackendPair } from './backends.js';
import { compareBoth, probeDuration, replayable, runBatch, runDual } from './batch.js';
import type { ComparisonReport } from './comparison.js';
import type { HybridContext } from './context.js';
import type { HybridManagerEvents } from './events.js';
import type { NetworkMonitor, NetworkState } from './network-monitor.js';
import { TierNotices } from './notices.js';
import { resolveHybridOptions, type HybridManagerOptions } from './options.js';
import { selectBackend, withoutLanguage, type RequestNeeds, type Selection } from './selection.js';
import { checkSettings, type HybridMode, type HybridSettings, type SettingsStore } from './settings.js';
import { StreamFailover, type StreamStart } from './stream-failover.js';
import { tierAllows, type BackendRole, type TierPolicy } from './tier.js';

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
 * The manager coordinates; the work lives beside it, one file each: options (`options.ts`),
 * the backends and the remote's health (`backends.ts`), tier notices (`notices.ts`), batch and
 * dual mode (`batch.ts`), stream failover (`stream-failover.ts`, with `dedupe.ts` and
 * `audio-feed.ts`).
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
  readonly #store: SettingsStore;
  readonly #maxSwitches: number;
  readonly #restoreStreams: boolean;
  readonly #backends: BackendPair;
  readonly #notices: TierNotices;
  readonly #ctx: HybridContext;
  #mode: HybridMode;
  #preferredModel: string | undefined;
  #current: string | undefined;
  #active = 0;
  #disposed = false;
  #lastComparison: ComparisonReport | undefined;

  /** @param options - see {@link HybridManagerOptions}; validated here, nothing is opened or probed. */
  constructor(options: HybridManagerOptions) {
    super();
    const o = resolveHybridOptions(options);
    this.id = o.id;
    this.native = o.native;
    this.remote = o.remote;
    this.name = `hybrid (${[o.native?.name, o.remote?.name].filter((n) => n !== undefined).join(' + ')})`;
    this.#tier = o.tier;
    this.#policy = o.policy;
    this.#allowDual = o.allowDual;
    this.#store = o.store;
    this.#maxSwitches = o.maxSwitches;
    this.#restoreStreams = o.restoreStreams;
    this.#mode = o.mode;
    this.#backends = new BackendPair(o.native, o.remote, o.policy, o.failover, o.monitor);
    const emit = this.emit.bind(this);
    this.#notices = new TierNotices(o.tier, o.policy, emit);
    this.#ctx = {
      backends: this.#backends,
      emit,
      setCurrent: (id) => {
        this.#current = id;
      },
      compared: (report) => {
        this.#lastComparison = report;
        this.emit('comparison', report);
      },
    };
    o.monitor?.on('online', () => this.emit('online'));
    o.monitor?.on('offline', (r) => this.emit('offline', r));
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
    return this.#backends.networkState;
  }

  /** The network monitor (undefined without a remote backend). */
  get network(): NetworkMonitor | undefined {
    return this.#backends.monitor;
  }

  /** The last dual-mode comparison, if any. */
  get lastComparison(): ComparisonReport | undefined {
    return this.#lastComparison;
  }

  /** Backends the tier allows, among those given. */
  get allowedBackends(): BackendRole[] {
    return this.#backends.allowed;
  }

  /**
   * What the hybrid can do: the native model's capabilities, widened by the remote's where the tier
   * allows it (a language or diarization only the remote has counts).
   */
  get capabilities(): BackendCapabilities {
    return this.#backends.capabilities();
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
    const present = m === 'auto' || (m === 'dual' ? this.native !== undefined && this.remote !== undefined : this.#backends.find(m) !== undefined);
    return this.#notices.effectiveMode(m, this.#allowDual, present);
  }

  /** Tells the manager what the app knows about the network (e.g. the OS went offline). */
  setNetworkState(state: 'online' | 'offline'): void {
    this.#backends.startMonitor();
    this.#backends.monitor?.setKnownState(state);
  }

  // ------------------------------------------------------------------ selection

  /**
   * Decides which backend would run a request now (loads the native model if needed; emits
   * `upgrade-required` when the tier made the choice worse). Throws `NoBackendError` when none can.
   */
  async select(needs: RequestNeeds, mode: 'auto' | BackendRole = this.#autoOrPinned(), signal?: AbortSignal): Promise<Selection> {
    return this.#select(needs, mode, signal, this.networkState !== 'offline');
  }

  async #select(needs: RequestNeeds, mode: 'auto' | BackendRole, signal: AbortSignal | undefined, online: boolean): Promise<Selection> {
    this.#backends.startMonitor();
    const nativeOk = this.native !== undefined && tierAllows(this.#policy, 'native');
    const nativeAvailable = nativeOk ? await this.native.isAvailable(signal ? { abortSignal: signal } : {}) : false;
    throwIfAborted(signal);
    let sel: Selection;
    try {
      sel = selectBackend({
        mode,
        allowed: this.allowedBackends,
        online,
        native: this.native === undefined ? undefined : { available: nativeAvailable, capabilities: this.native.capabilities },
        remote: this.remote === undefined ? undefined : { available: !this.#disposed, capabilities: this.remote.capabilities },
        needs,
      });
    } catch (e) {
      if ((e as { remoteWouldHelp?: boolean }).remoteWouldHelp) this.#notices.upgrade('remote', 'the remote backend');
      throw e;
    }
    if (sel.remoteWouldHelp) this.#notices.upgrade('remote', 'the remote backend');
    return sel;
  }

  #autoOrPinned(): 'auto' | BackendRole {
    const m = this.effectiveMode();
    return m === 'dual' ? 'auto' : m;
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
        if (await this.#backends.get(r).isAvailable(options)) return true;
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
      const { needs, config } = this.#notices.needs(options, duration, warnings);
      const mode = this.effectiveMode();
      const sel = await this.select(needs, mode === 'dual' ? 'auto' : mode, signal);
      for (const w of sel.warnings) this.emit('warning', w);
      const cfg = sel.drop.includes('language') ? withoutLanguage(config) : config;
      this.emit('backend-selected', { request: mode === 'dual' ? 'dual' : 'transcribe', backend: this.#backends.get(sel.backend).id, row: sel.row, reason: sel.reason });
      if (mode === 'dual') return await runDual(this.#ctx, input, cfg, sel, [...warnings, ...sel.warnings]);
      return await runBatch(this.#ctx, input, cfg, sel.backend, [...warnings, ...sel.warnings]);
    } finally {
      this.#active--;
    }
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
      const { needs, config } = this.#notices.needs(options, undefined, []);
      const sel = await this.select(needs, 'auto', options.abortSignal).catch(() => undefined);
      return await compareBoth(this.#ctx, input, config, sel?.backend ?? 'native');
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
    const stream = new StreamFailover(this.#ctx, audio, signal, { maxSwitches: this.#maxSwitches, restore: this.#restoreStreams });
    try {
      const { needs, config } = this.#notices.needs(options, undefined, stream.warnings);
      for (const w of stream.warnings) yield { type: 'warning', warning: w };
      const mode = this.effectiveMode();
      const sel = await this.select(needs, mode === 'dual' ? 'auto' : mode, signal);
      for (const w of sel.warnings) {
        stream.warnings.push(w);
        this.emit('warning', w);
        yield { type: 'warning', warning: w };
      }
      this.emit('backend-selected', { request: 'stream', backend: this.#backends.get(sel.backend).id, row: sel.row, reason: sel.reason });
      const start = await this.#streamStart(sel, needs, mode, signal);
      yield* stream.run({ ...start, config: sel.drop.includes('language') ? withoutLanguage(config) : config, dual: mode === 'dual' });
    } finally {
      this.#active--;
      stream.close();
    }
  }

  /**
   * Which backend a stream goes back to: the selected one, unless it started on native only because
   * the remote was down (then the remote, once a probe finds it back).
   */
  async #streamStart(sel: Selection, needs: RequestNeeds, mode: HybridMode, signal: AbortSignal | undefined): Promise<Pick<StreamStart, 'role' | 'preferred' | 'okProbesAtFailure'>> {
    const monitor = this.#backends.monitor;
    if (sel.row === 'offline-native' && monitor !== undefined) {
      const ideal = await this.#select(needs, mode === 'dual' ? 'auto' : mode, signal, true).catch(() => undefined);
      if (ideal?.backend === 'remote') return { role: sel.backend, preferred: 'remote', okProbesAtFailure: monitor.okProbeCount };
    }
    return { role: sel.backend, preferred: sel.backend, okProbesAtFailure: Number.POSITIVE_INFINITY };
  }

  /**
   * Stops the network monitor and disposes both backends. Idempotent; later calls reject with
   * `BackendUnavailableError`.
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#backends.monitor?.stop();
    await Promise.all([this.native?.dispose(), this.remote?.dispose()]);
  }
}
