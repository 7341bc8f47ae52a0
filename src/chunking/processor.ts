import { EventEmitter } from 'eventemitter3';
import { join } from 'node:path';
import { BackendUnavailableError, InvalidArgumentError, InvalidAudioError, throwIfAborted, toAbortError } from '../errors/index.js';
import type { AudioChunk, EndEvent, Transcription, TranscriptionWarning } from '../spec/index.js';
import { chunkToMono, validateChunk } from '../audio/index.js';
import { AsyncChannel } from '../internal/channel.js';
import { readCommittedWords, recordToWord, toSegments } from './committed.js';
import type { LiveEvent, LiveMetricsSummary, LiveProcessorEvents } from './events.js';
import { LiveLedger } from './ledger.js';
import { LiveMetrics } from './metrics.js';
import { asAsrError, type LiveHost, type LiveMode } from './mode.js';
import { LIVE_DEFAULTS, resolveLiveOptions, type ChunkedLiveProcessorOptions, type ResolvedLiveOptions } from './options.js';
import { LiveSpeakers } from './speakers.js';
import { PcmSpool } from './spool.js';
import type { SpoolRecovery, SpoolRecoveryWarning } from './spool-recovery.js';
import { StreamingMode } from './streaming-mode.js';
import { WindowedMode } from './windowed-mode.js';

/** What {@link ChunkedLiveProcessor.recover} found in the spool. */
export interface RecoveredState extends SpoolRecovery {
  /** Seconds of audio in the spool. */
  readonly audioSec: number;
  /** Words committed before the crash. */
  readonly committedWords: number;
  /** Commit frontier the processor resumes from (seconds). */
  readonly frontierSec: number;
}

/**
 * Hours-long live transcription over any {@link ASRBackend}, with bounded I/O and memory and
 * crash safety. Microphone PCM is pushed in and spooled to disk; every `intervalSec` of new audio a
 * tick decodes only the audio after the commit frontier (a pause chosen by the previous tick,
 * never more than `contextSec` back), commits the words that are settled and leaves the newest
 * seconds provisional. With a streaming model the audio is fed once instead. `stop()` runs one
 * full pass over the recording (diarized when asked) and returns the final transcript.
 *
 * Events: `partial`, `final`, `tick`, `lag`, `speaker-remap`, `error`, `end` (eventemitter3), or
 * all of them through {@link ChunkedLiveProcessor.events} with `for await`.
 *
 * This class is the coordinator (options, lifecycle, spool, events); the live decoding is the
 * mode's (`WindowedMode` in windowed-mode.ts or `StreamingMode` in streaming-mode.ts), the committed
 * state the `LiveLedger`'s (ledger.ts).
 *
 * @example
 * ```ts
 * const live = new ChunkedLiveProcessor({ backend, spoolDir: '/tmp/meeting-1' });
 * live.on('final', (e) => console.log(e.segment.text));
 * await live.start();
 * for await (const pcm of microphone) await live.push(pcm);
 * const transcript = await live.stop();
 * ```
 */
export class ChunkedLiveProcessor extends EventEmitter<LiveProcessorEvents> {
  readonly #o: ResolvedLiveOptions;
  readonly #metrics = new LiveMetrics();
  readonly #speakers: LiveSpeakers;
  readonly #subscribers = new Set<AsyncChannel<LiveEvent>>();
  readonly #host: LiveHost;
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed' = 'new';
  #spool: PcmSpool | undefined;
  #ledger: LiveLedger | undefined;
  #mode: LiveMode | undefined;
  /** Chosen by the backend check: feed a streaming model (else re-decode windows). */
  #streaming = false;
  #maxWindowSec = 60;
  #fatal: Error | undefined;
  #recovered: RecoveredState | undefined;
  /** Recovery warnings not yet emitted as `recovery` events (see {@link #flushRecoveryEvents}). */
  #pendingRecovery: SpoolRecoveryWarning[] = [];

  /** Validates the options; opens nothing (see {@link ChunkedLiveProcessor.start}). */
  constructor(options: ChunkedLiveProcessorOptions) {
    super();
    this.#o = resolveLiveOptions(options);
    const send = (e: LiveEvent): void => this.#send(e);
    this.#speakers = new LiveSpeakers(this.#o.liveDiarizer !== undefined, send);
    this.#host = {
      isRunning: () => this.#state === 'running',
      send,
      fail: (e) => this.#fail(e),
    };
  }

  /** Whether live decoding feeds a streaming model (`true`) or re-decodes windows (`false`). Known after `start()`. */
  get isStreamingMode(): boolean {
    return this.#streaming;
  }

  /** Seconds of audio received so far. */
  get audioSec(): number {
    return this.#spool ? this.#spool.durationSec : 0;
  }

  /** What `recover()` found, when this processor was recovered. */
  get recovered(): RecoveredState | undefined {
    return this.#recovered;
  }

  /** Path of the spooled WAV file. */
  get audioPath(): string {
    return this.#spool?.audioPath ?? join(this.#o.spoolDir, 'audio.wav');
  }

  /**
   * Checks the backend, creates the spool and (in streaming mode) opens the backend's stream.
   * Rejects with `BackendUnavailableError` when the backend can't serve, `InvalidArgumentError`
   * when the spool folder already holds a spool.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new InvalidArgumentError('start() was already called');
    throwIfAborted(this.#o.abortSignal);
    this.#state = 'starting';
    try {
      await this.#prepareBackend();
      const spool = await PcmSpool.create({
        dir: this.#o.spoolDir,
        sampleRate: this.#o.sampleRate,
        channels: this.#o.channels,
        fsyncEverySec: this.#o.fsyncEverySec,
      });
      this.#begin(spool, this.#newLedger(spool));
    } catch (e) {
      this.#state = 'failed';
      throw toAbortError(this.#o.abortSignal, e);
    }
  }

  /**
   * Reopens a spool left by a crashed or killed processor: the audio, the journal and the words
   * committed before the crash are kept; the returned processor is running, ready to take more
   * audio (`push`) or to finalize (`stop`). Audio that arrived after the last tick is decoded by
   * the next tick. What is not consistent (audio shorter than the journal says, commit-log lines
   * that are not records, commits past the audio on disk) is dropped and reported: in
   * `recovered.warnings`, as `recovery` events (after this resolves, before any other event) and
   * in the final transcript's `warnings`. The processor owns the spool until `stop()` or a fatal
   * error (a lock file; the lock of a process that died is taken over).
   * @throws SpoolLockedError when another live process (or this one) owns the spool; SpoolError
   *   when a spool file can't be read or written (missing audio, read-only or full disk).
   */
  static async recover(
    spoolDir: string,
    options: Omit<ChunkedLiveProcessorOptions, 'spoolDir' | 'sampleRate' | 'channels'>,
  ): Promise<ChunkedLiveProcessor> {
    const { spool, recovery } = await PcmSpool.open(spoolDir, { fsyncEverySec: options.fsyncEverySec ?? LIVE_DEFAULTS.fsyncEverySec });
    const j = spool.lastJournal;
    const p = new ChunkedLiveProcessor({ ...options, spoolDir, sampleRate: j.sampleRate, channels: j.channels });
    p.#state = 'starting';
    try {
      await p.#prepareBackend();
    } catch (e) {
      await spool.close();
      p.#state = 'failed';
      throw e;
    }
    const ledger = p.#newLedger(spool);
    const last = recovery.commits[recovery.commits.length - 1];
    ledger.restore({
      frontierSec: Math.max(j.committedUntilSec, last?.frontier ?? 0),
      lastProcessedByte: Math.min(spool.bytesWritten, Math.max(j.lastProcessedByte, last?.processedByte ?? 0)),
      emittedWords: recovery.commits.reduce((n, c) => n + c.words.length, 0),
      ticks: j.ticks,
    });
    for (const c of recovery.commits) p.#speakers.note(c.words.map(recordToWord));
    p.#recovered = {
      ...recovery,
      audioSec: spool.durationSec,
      committedWords: ledger.emittedWords,
      frontierSec: ledger.frontierSec,
    };
    p.#begin(spool, ledger);
    // Emitted once the caller had a chance to subscribe (`await recover()` then `on`/`events()`),
    // and in any case before the events of its next push() or stop().
    p.#pendingRecovery = [...recovery.warnings];
    if (p.#pendingRecovery.length > 0) setImmediate(() => p.#flushRecoveryEvents());
    return p;
  }

  /**
   * Appends live audio: raw interleaved 16-bit little-endian PCM at the processor's rate and
   * channels, or an {@link AudioChunk} of that format. Resolves once the audio is spooled (and, in
   * streaming mode, queued for the model). Ticks run in the background; see {@link onIdle}.
   */
  async push(audio: Uint8Array | AudioChunk, options: { readonly abortSignal?: AbortSignal } = {}): Promise<void> {
    throwIfAborted(options.abortSignal);
    throwIfAborted(this.#o.abortSignal);
    if (this.#state === 'failed') throw this.#fatalError();
    if (this.#state !== 'running') {
      throw new InvalidArgumentError(this.#state === 'new' ? 'push() before start()' : 'push() after stop()');
    }
    const bytes = this.#toPcmBytes(audio);
    this.#flushRecoveryEvents();
    await this.#spool!.append(bytes);
    const diarizer = this.#o.liveDiarizer;
    if (diarizer) {
      // Whole frames only (a split frame is rare: pushes are normally whole frames).
      const samples = int16View(bytes, this.#o.channels);
      this.#speakers.addTurns(diarizer.push(chunkToMono({ samples, sampleRate: this.#o.sampleRate, channels: this.#o.channels })));
    }
    await this.#mode!.afterAppend(bytes);
  }

  /** Resolves when no tick is running or due (p-queue's `onIdle`); use it to pace a faster-than-real-time feed. */
  async onIdle(): Promise<void> {
    await this.#mode?.idle();
  }

  /**
   * All events from now on, for `for await` users; ends after the `end` event (or when the
   * processor fails). Breaking out of the loop only stops this iterator, not the processor.
   */
  events(): AsyncIterableIterator<LiveEvent> {
    const channel: AsyncChannel<LiveEvent> = new AsyncChannel<LiveEvent>({ onReturn: () => this.#subscribers.delete(channel) });
    if (this.#state === 'stopped' || this.#state === 'failed') channel.close();
    else this.#subscribers.add(channel);
    return channel;
  }

  /** Totals so far (also after `stop()`). */
  summary(): LiveMetricsSummary {
    return this.#metrics.summary({
      mode: this.#streaming ? 'streaming' : 'windowed',
      ticks: this.#ledger?.ticks ?? 0,
      audioBytes: this.#spool?.bytesWritten ?? 0,
      bytesPerSec: this.#o.sampleRate * this.#o.channels * 2,
      committedWords: this.#ledger?.emittedWords ?? 0,
    });
  }

  /**
   * Stops live decoding and finalizes: the remaining audio is decoded and committed, the spool is
   * closed (a valid WAV file), one full pass of the backend's `transcribe()` runs over the whole
   * recording (diarized when asked), a `speaker-remap` event maps live labels to final ones, and
   * the `end` event carries the returned transcript. With `fullPass: false` the full pass is
   * skipped and the transcript is the words committed live.
   */
  async stop(options: { readonly abortSignal?: AbortSignal; readonly fullPass?: boolean } = {}): Promise<Transcription> {
    throwIfAborted(options.abortSignal);
    if (this.#state === 'failed') throw this.#fatalError();
    if (this.#state !== 'running') {
      throw new InvalidArgumentError(this.#state === 'new' ? 'stop() before start()' : 'stop() was already called');
    }
    this.#state = 'stopping';
    this.#flushRecoveryEvents();
    if (this.#o.liveDiarizer) this.#speakers.addTurns(this.#o.liveDiarizer.flush());
    const signal = AbortSignal.any([options.abortSignal, this.#o.abortSignal].filter((s): s is AbortSignal => s !== undefined));
    const spool = this.#spool!;
    try {
      await this.#mode!.finish(signal);
      if (this.#fatal !== undefined) throw this.#fatal;
      throwIfAborted(signal);
      await this.#ledger!.writeJournal();
      await spool.close();
      const diar = this.#o.diarization;
      const t0 = this.#o.now();
      const decoded =
        options.fullPass === false || spool.bytesWritten === 0
          ? await this.#liveTranscription(t0)
          : await this.#o.backend.transcribe(spool.audioPath, {
              ...this.#o.transcription,
              ...(diar === false ? {} : { diarization: diar }),
              abortSignal: signal,
            });
      if (diar !== false || this.#speakers.any) {
        const finalTurns = decoded.segments
          .filter((x) => x.speaker !== undefined)
          .map((x) => ({ speaker: x.speaker!, start: x.start, end: x.end }));
        this.#send({ type: 'speaker-remap', mapping: this.#speakers.remap(finalTurns) });
      }
      await spool.writeJournal({ finalized: true });
      this.#state = 'stopped';
      const recoveryWarnings: TranscriptionWarning[] = (this.#recovered?.warnings ?? []).map((w) => ({ type: 'other', message: w.message }));
      const transcription = recoveryWarnings.length === 0 ? decoded : { ...decoded, warnings: [...recoveryWarnings, ...decoded.warnings] };
      const end: EndEvent = { type: 'end', durationSec: spool.durationSec, transcription };
      this.#send(end);
      this.#endSubscribers();
      return transcription;
    } catch (e) {
      const err = toAbortError(signal, e);
      this.#fail(err);
      await spool.close().catch(() => undefined);
      throw err;
    }
  }

  async #prepareBackend(): Promise<void> {
    const { backend, abortSignal, mode, provisionalSec } = this.#o;
    const ok = await backend.isAvailable(abortSignal ? { abortSignal } : {});
    throwIfAborted(abortSignal);
    if (!ok) throw new BackendUnavailableError(`Backend ${backend.id} is not available`);
    const caps = backend.capabilities;
    if (mode === 'streaming' && !caps.streaming) {
      throw new BackendUnavailableError(`\`mode\` 'streaming' needs a streaming model, but ${backend.name} has none`);
    }
    this.#streaming = mode === 'streaming' || (mode === 'auto' && caps.streaming);
    const modelMax = caps.maxWindowSec;
    this.#maxWindowSec = Math.min(this.#o.maxWindowSec ?? modelMax ?? 60, modelMax ?? Infinity);
    if (!this.#streaming && this.#maxWindowSec < 2 * provisionalSec + 1) {
      throw new InvalidArgumentError(`The model's window (${this.#maxWindowSec} s) is too short for \`provisionalSec\` ${provisionalSec}`);
    }
  }

  #newLedger(spool: PcmSpool): LiveLedger {
    return new LiveLedger(spool, this.#speakers, this.#metrics, (e) => this.#send(e), this.#o.intervalSec);
  }

  #begin(spool: PcmSpool, ledger: LiveLedger): void {
    this.#spool = spool;
    this.#ledger = ledger;
    this.#state = 'running';
    this.#mode = this.#streaming
      ? new StreamingMode(this.#host, ledger, spool, this.#o)
      : new WindowedMode(this.#host, ledger, spool, this.#o, this.#maxWindowSec);
  }

  /** The transcript as committed live (read back from the commit log), for `stop({ fullPass: false })`. */
  async #liveTranscription(t0: number): Promise<Transcription> {
    const words = await readCommittedWords(this.#o.spoolDir);
    const segments = toSegments(words);
    return {
      text: segments.map((x) => x.text).join(' '),
      segments,
      durationSec: this.#spool!.durationSec,
      processingTimeSec: this.#o.now() - t0,
      backend: this.#o.backend.id,
      warnings: [],
    };
  }

  /** Emits the recovery warnings not yet emitted, once each. */
  #flushRecoveryEvents(): void {
    const pending = this.#pendingRecovery;
    this.#pendingRecovery = [];
    for (const warning of pending) this.#send({ type: 'recovery', warning });
  }

  #send(e: LiveEvent): void {
    (this.emit as (t: string, e: LiveEvent) => boolean)(e.type, e);
    for (const channel of this.#subscribers) channel.push(e);
  }

  /** `events()` iterators end once they have taken what was sent. */
  #endSubscribers(): void {
    for (const channel of this.#subscribers) channel.close();
    this.#subscribers.clear();
  }

  #fail(e: unknown): void {
    if (this.#state === 'failed') return;
    this.#fatal = e instanceof Error ? e : asAsrError(e);
    this.#state = 'failed';
    this.#send({ type: 'error', error: asAsrError(e), recoverable: false });
    this.#endSubscribers();
    // A failed session gives its spool up (files as they are, lock released) for recover().
    void this.#spool?.abandon();
  }

  #fatalError(): Error {
    return this.#fatal ?? new InvalidArgumentError('The live processor failed');
  }

  #toPcmBytes(audio: Uint8Array | AudioChunk): Uint8Array {
    if (audio instanceof Uint8Array) return audio;
    if (typeof audio !== 'object' || audio === null || !('samples' in audio)) {
      throw new InvalidAudioError('push() takes PCM bytes (Uint8Array) or an AudioChunk');
    }
    const { channels: ch } = validateChunk(audio);
    if (audio.sampleRate !== this.#o.sampleRate || ch !== this.#o.channels) {
      throw new InvalidAudioError(
        `Chunk format ${audio.sampleRate} Hz × ${ch} ch differs from the processor's ${this.#o.sampleRate} Hz × ${this.#o.channels} ch`,
      );
    }
    if (audio.samples instanceof Int16Array) {
      return new Uint8Array(audio.samples.buffer, audio.samples.byteOffset, audio.samples.byteLength);
    }
    const out = new Int16Array(audio.samples.length);
    for (let i = 0; i < out.length; i++) {
      const v = audio.samples[i]!;
      if (!Number.isFinite(v)) throw new InvalidAudioError(`Chunk sample ${i} is not finite (${v})`);
      out[i] = Math.max(-32768, Math.min(32767, Math.round(v * 32768)));
    }
    return new Uint8Array(out.buffer);
  }
}

/** The whole frames of the bytes as 16-bit samples (copied when a view would be misaligned). */
function int16View(bytes: Uint8Array, channels: number): Int16Array {
  const n = Math.floor(bytes.byteLength / (2 * channels)) * channels;
  if (bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, n);
  return new Int16Array(bytes.slice(0, n * 2).buffer);
}
