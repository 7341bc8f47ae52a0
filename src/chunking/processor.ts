import { EventEmitter } from 'eventemitter3';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ASRError,
  AbortedError,
  BackendUnavailableError,
  InvalidArgumentError,
  InvalidAudioError,
  throwIfAborted,
  toAbortError,
} from '../errors/index.js';
import type {
  ASRBackend,
  AudioChunk,
  DiarizationOptions,
  EndEvent,
  Segment,
  SpeakerTurn,
  Transcription,
  TranscriptionConfig,
  TranscriptionEvent,
  TranscriptionWarning,
  Word,
} from '../spec/index.js';
import { chunkToMono } from '../audio/index.js';
import { reconcileSpeakers } from '../diarization/reconcile.js';
import { decideCommit, sanitizeWords, wordsOfSegments, type CommitPolicyOptions } from './commit-policy.js';
import type { LiveEvent, LiveMetricsSummary, LiveProcessorEvents, TickEvent } from './events.js';
import { FeedQueue } from './feed-queue.js';
import { parseCommitLog, PcmSpool, SPOOL_COMMITS_FILE, type CommitRecord, type SpoolRecovery, type SpoolRecoveryWarning } from './spool.js';
import { type Complete, definedOnly } from '../internal/options.js';

/** Options of {@link ChunkedLiveProcessor}. */
export interface ChunkedLiveProcessorOptions {
  /** Any recogniser (native, remote, the hybrid manager); reached through the `ASRBackend` spec only. */
  readonly backend: ASRBackend;
  /** Folder for the spooled audio, the journal and the commit log (must not already hold a spool). */
  readonly spoolDir: string;
  /**
   * Samples per second per channel of the pushed PCM.
   * @defaultValue 16000
   */
  readonly sampleRate?: number | undefined;
  /**
   * Interleaved channels of the pushed PCM.
   * @defaultValue 1
   */
  readonly channels?: number | undefined;
  /**
   * Seconds of new audio between live ticks.
   * @defaultValue 15
   */
  readonly intervalSec?: number | undefined;
  /**
   * Longest look-back (seconds) before the last processed byte that a tick re-reads. Windows start
   * at the commit frontier (a pause found in the previous tick), which is never further back.
   * @defaultValue 30
   */
  readonly contextSec?: number | undefined;
  /**
   * The newest seconds of each window stay provisional (emitted as `partial`) until the next tick.
   * @defaultValue 2
   */
  readonly provisionalSec?: number | undefined;
  /**
   * Gap between words (seconds) that counts as a pause where the live transcript may be cut.
   * @defaultValue 0.3
   */
  readonly minPauseSec?: number | undefined;
  /**
   * Longest audio per backend call. Defaults to the model's `capabilities.maxWindowSec`, else 60.
   * Longer windows (after coalesced ticks) are split.
   * @defaultValue capabilities.maxWindowSec ?? 60
   */
  readonly maxWindowSec?: number | undefined;
  /**
   * `'windowed'` re-decodes a window per tick; `'streaming'` feeds the audio once to the backend's
   * `transcribeStream()` (needs `capabilities.streaming`); `'auto'` picks streaming when the model has it.
   * @defaultValue 'auto'
   */
  readonly mode?: 'auto' | 'windowed' | 'streaming' | undefined;
  /** Options for every backend call (language, hotwords, backendOptions…). */
  readonly transcription?: Omit<TranscriptionConfig, 'abortSignal' | 'diarization'> | undefined;
  /**
   * Diarize the final full pass (globally consistent speaker labels).
   * @defaultValue false
   */
  readonly diarization?: boolean | DiarizationOptions | undefined;
  /**
   * Live speaker labels: pushed audio (mono, [-1, 1]) is fed to it, its turns label the committed
   * words and come out as `diarization` events; `stop()` maps them to the final labels
   * (`speaker-remap`). An `OnlineDiarizer` from this package fits. Needs 16 kHz audio.
   */
  readonly liveDiarizer?: LiveDiarizer | undefined;
  /**
   * fsync the spooled audio at least every this many seconds of audio (and at every tick).
   * @defaultValue 5
   */
  readonly fsyncEverySec?: number | undefined;
  /** Cancels everything: pending calls reject with `AbortedError`. */
  readonly abortSignal?: AbortSignal | undefined;
  /**
   * Clock in seconds, for processing-time figures.
   * @defaultValue () => performance.now() / 1000
   */
  readonly now?: () => number;
}

/** What the live processor needs from a live diarizer (`OnlineDiarizer` fits). */
export interface LiveDiarizer {
  /** Feeds 16 kHz mono samples; returns the speaker turns decided so far by them. */
  push(samples: Float32Array): SpeakerTurn[];
  /** Ends the stream and returns the last turns. */
  flush(): SpeakerTurn[];
}

/** What {@link ChunkedLiveProcessor.recover} found in the spool. */
export interface RecoveredState extends SpoolRecovery {
  /** Seconds of audio in the spool. */
  readonly audioSec: number;
  /** Words committed before the crash. */
  readonly committedWords: number;
  /** Commit frontier the processor resumes from (seconds). */
  readonly frontierSec: number;
}

type Resolved = Complete<Omit<ChunkedLiveProcessorOptions, 'abortSignal' | 'transcription' | 'diarization' | 'maxWindowSec' | 'liveDiarizer'>> & {
  readonly liveDiarizer: LiveDiarizer | undefined;
  readonly abortSignal: AbortSignal | undefined;
  readonly transcription: Omit<TranscriptionConfig, 'abortSignal' | 'diarization'>;
  readonly diarization: boolean | DiarizationOptions;
  readonly maxWindowSec: number | undefined;
};

const DEFAULTS = {
  sampleRate: 16000,
  channels: 1,
  intervalSec: 15,
  contextSec: 30,
  provisionalSec: 2,
  minPauseSec: 0.3,
  mode: 'auto' as const,
  fsyncEverySec: 5,
  diarization: false as boolean | DiarizationOptions,
  transcription: {},
  now: (): number => performance.now() / 1000,
};

/** Gap (seconds) between committed words that starts a new `final` segment. */
const SEGMENT_GAP_SEC = 0.8;

function positive(name: string, v: unknown, allowZero = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || (allowZero ? v < 0 : v <= 0)) {
    throw new InvalidArgumentError(`\`${name}\` must be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${String(v)}`);
  }
}

function resolveOptions(options: ChunkedLiveProcessorOptions): Resolved {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object');
  const o = { ...DEFAULTS, ...definedOnly(options) } as Resolved;
  const b = o.backend as Partial<ASRBackend> | undefined;
  if (typeof b !== 'object' || b === null || typeof b.transcribe !== 'function' || typeof b.transcribeStream !== 'function') {
    throw new InvalidArgumentError('`backend` must be an ASRBackend (with transcribe() and transcribeStream())');
  }
  if (typeof o.spoolDir !== 'string' || o.spoolDir === '') throw new InvalidArgumentError('`spoolDir` must be a non-empty path');
  positive('intervalSec', o.intervalSec);
  positive('contextSec', o.contextSec, true);
  positive('provisionalSec', o.provisionalSec, true);
  positive('minPauseSec', o.minPauseSec);
  positive('fsyncEverySec', o.fsyncEverySec);
  if (o.maxWindowSec !== undefined) positive('maxWindowSec', o.maxWindowSec);
  if (o.maxWindowSec !== undefined && o.maxWindowSec < 2 * o.provisionalSec + 1) {
    throw new InvalidArgumentError(`\`maxWindowSec\` must be at least 2 × provisionalSec + 1 (${2 * o.provisionalSec + 1}), got ${o.maxWindowSec}`);
  }
  if (!['auto', 'windowed', 'streaming'].includes(o.mode)) {
    throw new InvalidArgumentError(`\`mode\` must be 'auto', 'windowed' or 'streaming', got ${String(o.mode)}`);
  }
  if (!Number.isInteger(o.sampleRate) || o.sampleRate < 1000 || o.sampleRate > 384000) {
    throw new InvalidArgumentError(`\`sampleRate\` must be a whole number of Hz in [1000, 384000], got ${String(o.sampleRate)}`);
  }
  if (!Number.isInteger(o.channels) || o.channels < 1 || o.channels > 32) {
    throw new InvalidArgumentError(`\`channels\` must be a whole number in [1, 32], got ${String(o.channels)}`);
  }
  if (o.liveDiarizer !== undefined) {
    if (typeof o.liveDiarizer?.push !== 'function' || typeof o.liveDiarizer.flush !== 'function') {
      throw new InvalidArgumentError('`liveDiarizer` must have push() and flush()');
    }
    if (o.sampleRate !== 16000) throw new InvalidArgumentError(`\`liveDiarizer\` needs \`sampleRate\` 16000, got ${o.sampleRate}`);
  }
  if (typeof o.now !== 'function') throw new InvalidArgumentError('`now` must be a function returning seconds');
  return o;
}

/** Reads the words committed live from a spool's commit log (a torn last line is ignored). */
export async function readCommittedWords(spoolDir: string): Promise<Word[]> {
  const text = await readFile(join(spoolDir, SPOOL_COMMITS_FILE), 'utf8').catch((e: unknown) => {
    throw new InvalidArgumentError(`\`spoolDir\` ${spoolDir} has no commit log`, { cause: e });
  });
  // The same reader as recovery: lines that are not commit records are skipped, a torn tail ignored.
  return parseCommitLog(text).records.flatMap((r) => r.record.words.map(recordToWord));
}

function recordToWord(w: CommitRecord['words'][number]): Word {
  const base: Word = { word: w[0], start: w[1], end: w[2] };
  return w.length > 3 ? { ...base, speaker: (w as readonly [string, number, number, string])[3] } : base;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

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
  private readonly o: Resolved;
  private spool: PcmSpool | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed' = 'new';
  private streamingMode = false;
  private maxWindowSec = 60;
  private frontierSec = 0;
  private lastProcessedByte = 0;
  private provisional: Word[] = [];
  private tickIndex = 0;
  /** Ticks run by this process (a recovered processor continues `tickIndex` from the journal). */
  private ticksThisSession = 0;
  private emittedWords = 0;
  private tickPromise: Promise<void> | undefined;
  private fatal: unknown;
  private readonly iterators = new Set<{ push: (e: LiveEvent) => void; end: () => void }>();
  private readonly liveTurns: SpeakerTurn[] = [];
  private recoveredState: RecoveredState | undefined;
  /** Recovery warnings not yet emitted as `recovery` events (see {@link flushRecoveryEvents}). */
  private pendingRecovery: SpoolRecoveryWarning[] = [];
  // metrics
  private m = { bytesRead: 0, maxBytes: 0, decodedSec: 0, calls: 0, procSum: 0, procMax: 0, lagEvents: 0, maxLag: 0 };
  // streaming mode
  private feed: FeedQueue<AudioChunk> | undefined;
  private streamTask: Promise<void> | undefined;
  private replay: Promise<void> = Promise.resolve();
  private journalPending: Promise<void> = Promise.resolve();
  private streamOffsetSec = 0;
  private fedBytes = 0;
  private fedAtLastTick = 0;
  private lastTickAt = 0;
  private resultEndSec = 0;
  private committedSinceTick = 0;

  /** Validates the options; opens nothing (see {@link ChunkedLiveProcessor.start}). */
  constructor(options: ChunkedLiveProcessorOptions) {
    super();
    this.o = resolveOptions(options);
  }

  /** Whether live decoding feeds a streaming model (`true`) or re-decodes windows (`false`). Known after `start()`. */
  get isStreamingMode(): boolean {
    return this.streamingMode;
  }

  /** Seconds of audio received so far. */
  get audioSec(): number {
    return this.spool ? this.spool.durationSec : 0;
  }

  /** What `recover()` found, when this processor was recovered. */
  get recovered(): RecoveredState | undefined {
    return this.recoveredState;
  }

  /** Path of the spooled WAV file. */
  get audioPath(): string {
    return this.spool?.audioPath ?? join(this.o.spoolDir, 'audio.wav');
  }

  /**
   * Checks the backend, creates the spool and (in streaming mode) opens the backend's stream.
   * Rejects with `BackendUnavailableError` when the backend can't serve, `InvalidArgumentError`
   * when the spool folder already holds a spool.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new InvalidArgumentError('start() was already called');
    throwIfAborted(this.o.abortSignal);
    this.state = 'starting';
    try {
      await this.prepareBackend();
      this.spool = await PcmSpool.create({
        dir: this.o.spoolDir,
        sampleRate: this.o.sampleRate,
        channels: this.o.channels,
        fsyncEverySec: this.o.fsyncEverySec,
      });
      this.begin();
    } catch (e) {
      this.state = 'failed';
      throw toAbortError(this.o.abortSignal, e);
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
    const { spool, recovery } = await PcmSpool.open(spoolDir, { fsyncEverySec: options.fsyncEverySec ?? DEFAULTS.fsyncEverySec });
    const j = spool.lastJournal;
    const p = new ChunkedLiveProcessor({ ...options, spoolDir, sampleRate: j.sampleRate, channels: j.channels });
    p.state = 'starting';
    try {
      await p.prepareBackend();
    } catch (e) {
      await spool.close();
      p.state = 'failed';
      throw e;
    }
    p.spool = spool;
    const last = recovery.commits[recovery.commits.length - 1];
    p.frontierSec = Math.max(j.committedUntilSec, last?.frontier ?? 0);
    p.lastProcessedByte = Math.min(spool.bytesWritten, Math.max(j.lastProcessedByte, last?.processedByte ?? 0));
    p.emittedWords = recovery.commits.reduce((n, c) => n + c.words.length, 0);
    p.tickIndex = j.ticks;
    for (const c of recovery.commits) p.noteSpeakers(c.words.map(recordToWord));
    p.recoveredState = {
      ...recovery,
      audioSec: spool.durationSec,
      committedWords: p.emittedWords,
      frontierSec: p.frontierSec,
    };
    p.begin();
    // Emitted once the caller had a chance to subscribe (`await recover()` then `on`/`events()`),
    // and in any case before the events of its next push() or stop().
    p.pendingRecovery = [...recovery.warnings];
    if (p.pendingRecovery.length > 0) setImmediate(() => p.flushRecoveryEvents());
    return p;
  }

  private async prepareBackend(): Promise<void> {
    const { backend } = this.o;
    const ok = await backend.isAvailable(this.o.abortSignal ? { abortSignal: this.o.abortSignal } : {});
    throwIfAborted(this.o.abortSignal);
    if (!ok) throw new BackendUnavailableError(`Backend ${backend.id} is not available`);
    const caps = backend.capabilities;
    if (this.o.mode === 'streaming' && !caps.streaming) {
      throw new BackendUnavailableError(`\`mode\` 'streaming' needs a streaming model, but ${backend.name} has none`);
    }
    this.streamingMode = this.o.mode === 'streaming' || (this.o.mode === 'auto' && caps.streaming);
    const modelMax = caps.maxWindowSec;
    this.maxWindowSec = Math.min(this.o.maxWindowSec ?? modelMax ?? 60, modelMax ?? Infinity);
    if (!this.streamingMode && this.maxWindowSec < 2 * this.o.provisionalSec + 1) {
      throw new InvalidArgumentError(`The model's window (${this.maxWindowSec} s) is too short for \`provisionalSec\` ${this.o.provisionalSec}`);
    }
  }

  private begin(): void {
    this.state = 'running';
    this.lastTickAt = this.o.now();
    if (this.streamingMode) this.openStream();
  }

  /**
   * Appends live audio: raw interleaved 16-bit little-endian PCM at the processor's rate and
   * channels, or an {@link AudioChunk} of that format. Resolves once the audio is spooled (and, in
   * streaming mode, queued for the model). Ticks run in the background; see {@link onIdle}.
   */
  async push(audio: Uint8Array | AudioChunk, options: { readonly abortSignal?: AbortSignal } = {}): Promise<void> {
    throwIfAborted(options.abortSignal);
    throwIfAborted(this.o.abortSignal);
    if (this.state === 'failed') throw this.fatalError();
    if (this.state !== 'running') {
      throw new InvalidArgumentError(this.state === 'new' ? 'push() before start()' : 'push() after stop()');
    }
    const bytes = this.toPcmBytes(audio);
    this.flushRecoveryEvents();
    const spool = this.spool!;
    await spool.append(bytes);
    if (this.o.liveDiarizer) {
      // Whole frames only (a split frame is rare: pushes are normally whole frames).
      const samples = int16View(bytes, this.o.channels);
      this.addLiveTurns(this.o.liveDiarizer.push(chunkToMono({ samples, sampleRate: this.o.sampleRate, channels: this.o.channels })));
    }
    if (this.streamingMode) {
      const samples = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength - (bytes.byteLength % 2)));
      await this.replay; // after a recovery, the spooled audio goes to the model first
      await this.feed!.put({ samples, sampleRate: this.o.sampleRate, channels: this.o.channels });
      this.fedBytes += samples.byteLength;
      if (this.fedBytes - this.fedAtLastTick >= this.o.intervalSec * spool.bytesPerSec) this.streamTick();
    } else {
      this.schedule();
    }
  }

  /** Resolves when no tick is running or due (p-queue's `onIdle`); use it to pace a faster-than-real-time feed. */
  async onIdle(): Promise<void> {
    while (this.tickPromise) await this.tickPromise;
    await this.journalPending;
  }

  /**
   * All events from now on, for `for await` users; ends after the `end` event (or when the
   * processor fails). Breaking out of the loop only stops this iterator, not the processor.
   */
  events(): AsyncIterableIterator<LiveEvent> {
    const buf: LiveEvent[] = [];
    let done = false;
    let wake: (() => void) | undefined;
    const sub = {
      push: (e: LiveEvent): void => {
        buf.push(e);
        wake?.();
      },
      end: (): void => {
        done = true;
        wake?.();
      },
    };
    this.iterators.add(sub);
    if (this.state === 'stopped' || this.state === 'failed') sub.end();
    const iterators = this.iterators;
    const it: AsyncIterableIterator<LiveEvent> = {
      [Symbol.asyncIterator]: () => it,
      async next(): Promise<IteratorResult<LiveEvent>> {
        for (;;) {
          const e = buf.shift();
          if (e !== undefined) return { value: e, done: false };
          if (done) {
            iterators.delete(sub);
            return { value: undefined, done: true };
          }
          await new Promise<void>((r) => {
            wake = r;
          });
          wake = undefined;
        }
      },
      async return(): Promise<IteratorResult<LiveEvent>> {
        iterators.delete(sub);
        done = true;
        return { value: undefined, done: true };
      },
    };
    return it;
  }

  /** Totals so far (also after `stop()`). */
  summary(): LiveMetricsSummary {
    const audioBytes = this.spool?.bytesWritten ?? 0;
    const bps = this.o.sampleRate * this.o.channels * 2;
    const audioSec = audioBytes / bps;
    return {
      mode: this.streamingMode ? 'streaming' : 'windowed',
      ticks: this.tickIndex,
      audioSec,
      audioBytes,
      bytesRead: this.m.bytesRead,
      bytesReadRatio: audioBytes > 0 ? this.m.bytesRead / audioBytes : 0,
      maxBytesReadPerTick: this.m.maxBytes,
      decodedSec: this.m.decodedSec,
      decodedRatio: audioSec > 0 ? this.m.decodedSec / audioSec : 0,
      backendCalls: this.m.calls,
      meanProcessingSec: this.m.procSum / Math.max(1, this.ticksThisSession),
      maxProcessingSec: this.m.procMax,
      lagEvents: this.m.lagEvents,
      maxLagSec: this.m.maxLag,
      committedWords: this.emittedWords,
    };
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
    if (this.state === 'failed') throw this.fatalError();
    if (this.state !== 'running') {
      throw new InvalidArgumentError(this.state === 'new' ? 'stop() before start()' : 'stop() was already called');
    }
    this.state = 'stopping';
    this.flushRecoveryEvents();
    if (this.o.liveDiarizer) this.addLiveTurns(this.o.liveDiarizer.flush());
    const signal = AbortSignal.any([options.abortSignal, this.o.abortSignal].filter((s): s is AbortSignal => s !== undefined));
    try {
      if (this.streamingMode) {
        await this.replay;
        this.feed!.close();
        await this.streamTask;
        this.streamTick(true);
        if (this.fatal !== undefined) throw this.fatal;
      } else {
        await this.onIdle();
        await this.tick(true, signal);
      }
      throwIfAborted(signal);
      const spool = this.spool!;
      await spool.writeJournal({
        lastProcessedByte: this.lastProcessedByte,
        committedUntilSec: this.frontierSec,
        emittedWords: this.emittedWords,
        ticks: this.tickIndex,
      });
      await spool.close();
      const diar = this.o.diarization;
      const t0 = this.o.now();
      const decoded =
        options.fullPass === false || spool.bytesWritten === 0
          ? await this.liveTranscription(t0)
          : await this.o.backend.transcribe(spool.audioPath, {
              ...this.o.transcription,
              ...(diar === false ? {} : { diarization: diar }),
              abortSignal: signal,
            });
      if (diar !== false || this.liveTurns.length > 0) {
        const finalTurns = decoded.segments
          .filter((x) => x.speaker !== undefined)
          .map((x) => ({ speaker: x.speaker!, start: x.start, end: x.end }));
        this.send({ type: 'speaker-remap', mapping: reconcileSpeakers(this.liveTurns, finalTurns) });
      }
      await spool.writeJournal({ finalized: true });
      this.state = 'stopped';
      const recoveryWarnings: TranscriptionWarning[] = (this.recoveredState?.warnings ?? []).map((w) => ({ type: 'other', message: w.message }));
      const transcription = recoveryWarnings.length === 0 ? decoded : { ...decoded, warnings: [...recoveryWarnings, ...decoded.warnings] };
      const end: EndEvent = { type: 'end', durationSec: spool.durationSec, transcription };
      this.send(end);
      for (const it of this.iterators) it.end();
      return transcription;
    } catch (e) {
      const err = toAbortError(signal, e);
      this.fail(err);
      await this.spool?.close().catch(() => undefined);
      throw err;
    }
  }

  /** The transcript as committed live (read back from the commit log), for `stop({ fullPass: false })`. */
  private async liveTranscription(t0: number): Promise<Transcription> {
    const words = await readCommittedWords(this.o.spoolDir);
    const segments = toSegments(words);
    return {
      text: segments.map((x) => x.text).join(' '),
      segments,
      durationSec: this.spool!.durationSec,
      processingTimeSec: this.o.now() - t0,
      backend: this.o.backend.id,
      warnings: [],
    };
  }

  // ---------------------------------------------------------------- windowed mode

  private schedule(): void {
    if (this.tickPromise !== undefined || this.state !== 'running') return;
    const spool = this.spool!;
    if (spool.bytesWritten - this.lastProcessedByte < this.o.intervalSec * spool.bytesPerSec) return;
    this.tickPromise = (async () => {
      try {
        await this.tick(false, this.o.abortSignal);
      } catch (e) {
        const err = toAbortError(this.o.abortSignal, e);
        if (AbortedError.isInstance(err)) {
          this.fail(err);
        } else {
          // The audio stays spooled and the frontier did not move: the next tick retries.
          this.send({ type: 'error', error: asAsrError(err), recoverable: true });
        }
      } finally {
        this.tickPromise = undefined;
      }
      if (this.state === 'running') this.schedule();
    })();
  }

  private async tick(final: boolean, signal: AbortSignal | undefined): Promise<void> {
    const spool = this.spool!;
    const bps = spool.bytesPerSec;
    const t0 = this.o.now();
    const endByte = spool.bytesWritten;
    const newBytes = endByte - this.lastProcessedByte;
    if (!final && newBytes <= 0) return;
    const lookback = spool.align(this.lastProcessedByte - this.o.contextSec * bps);
    let start = Math.max(spool.byteAt(this.frontierSec), lookback);
    if (start > spool.byteAt(this.frontierSec)) {
      // The frontier fell behind the context window (it can't with the default policy): move it.
      this.frontierSec = start / bps;
      this.provisional = [];
    }
    const windowStartSec = start / bps;
    const maxWindowBytes = spool.align(this.maxWindowSec * bps);
    const policy: CommitPolicyOptions = {
      provisionalSec: this.o.provisionalSec,
      minPauseSec: this.o.minPauseSec,
      maxTailSec: Math.max(this.o.provisionalSec + 1, Math.min(this.o.contextSec, this.maxWindowSec - this.o.intervalSec, this.maxWindowSec / 2)),
      agreeToleranceSec: 0.3,
    };
    let bytesRead = 0;
    let decoded = 0;
    let calls = 0;
    let committed = 0;
    const minBytes = spool.align(0.1 * bps);
    for (;;) {
      throwIfAborted(signal);
      const pieceEnd = Math.min(endByte, start + maxWindowBytes);
      const last = pieceEnd === endByte;
      if (pieceEnd - start < minBytes) {
        if (final) {
          const leftover = sanitizeWords(this.provisional, this.frontierSec, endByte / bps);
          committed += await this.commit(leftover, endByte / bps, endByte);
          this.provisional = [];
        }
        break;
      }
      const buf = await spool.read(start, pieceEnd);
      bytesRead += buf.length;
      const offset = start / bps;
      const tr = await this.o.backend.transcribe(
        { format: 'pcm16', data: buf, sampleRate: spool.sampleRate, channels: spool.channels },
        { ...this.o.transcription, ...(signal ? { abortSignal: signal } : {}) },
      );
      calls++;
      decoded += buf.length / bps;
      const words = wordsOfSegments(tr.segments).map((w) => ({ ...w, start: w.start + offset, end: w.end + offset }));
      const decision = decideCommit(
        {
          words,
          previous: this.provisional,
          frontier: this.frontierSec,
          windowEnd: pieceEnd / bps,
          final: final && last,
          quietest: (a, b) => quietest(buf, spool.channels, spool.sampleRate, offset, a, b),
        },
        policy,
      );
      committed += await this.commit(decision.commit, decision.frontier, pieceEnd);
      this.provisional = [...decision.provisional];
      if (last) break;
      const next = spool.byteAt(this.frontierSec);
      start = next > start ? next : pieceEnd; // progress is guaranteed by the policy; this is a backstop
    }
    this.lastProcessedByte = endByte;
    const processingSec = this.o.now() - t0;
    this.m.bytesRead += bytesRead;
    this.m.maxBytes = Math.max(this.m.maxBytes, bytesRead);
    this.m.decodedSec += decoded;
    this.m.calls += calls;
    this.m.procSum += processingSec;
    this.m.procMax = Math.max(this.m.procMax, processingSec);
    this.ticksThisSession++;
    const index = this.tickIndex++;
    await spool.writeJournal({
      lastProcessedByte: this.lastProcessedByte,
      committedUntilSec: this.frontierSec,
      emittedWords: this.emittedWords,
      ticks: this.tickIndex,
    });
    const endSec = endByte / bps;
    if (this.provisional.length > 0) {
      this.send({
        type: 'partial',
        text: this.provisional.map((w) => w.word).join(' '),
        start: round3(this.provisional[0]!.start),
        end: round3(endSec),
      });
    }
    const lagSec = (spool.bytesWritten - endByte) / bps;
    const tick: TickEvent = {
      type: 'tick',
      index,
      mode: 'windowed',
      windowStartSec: round3(windowStartSec),
      windowEndSec: round3(endSec),
      windowSec: round3(decoded),
      backendCalls: calls,
      bytesRead,
      processingSec,
      lagSec: round3(lagSec),
      audioSec: round3(spool.durationSec),
      committedWords: committed,
      frontierSec: round3(this.frontierSec),
      coalesced: newBytes > this.o.intervalSec * bps * 1.5,
    };
    this.m.maxLag = Math.max(this.m.maxLag, lagSec);
    this.send(tick);
    if (!final && lagSec >= this.o.intervalSec) {
      this.m.lagEvents++;
      this.send({ type: 'lag', lagSec: round3(lagSec), processingSec, intervalSec: this.o.intervalSec, tick: index });
    }
  }

  // ---------------------------------------------------------------- streaming mode

  private openStream(): void {
    const spool = this.spool!;
    this.feed = new FeedQueue<AudioChunk>(64);
    // After a recovery, audio from the frontier on is fed again (once): the model's state was lost.
    const resumeByte = spool.byteAt(this.frontierSec);
    this.streamOffsetSec = resumeByte / spool.bytesPerSec;
    this.resultEndSec = this.streamOffsetSec;
    this.fedBytes = 0;
    this.fedAtLastTick = 0;
    const feed = this.feed;
    const stream = this.o.backend.transcribeStream(feed, {
      ...this.o.transcription,
      partials: true,
      ...(this.o.abortSignal ? { abortSignal: this.o.abortSignal } : {}),
    });
    this.replay = (async () => {
      try {
        // Only what was spooled before the recovery: later pushes feed their own audio.
        const replayEnd = spool.bytesWritten;
        if (resumeByte < replayEnd) {
          const step = spool.align(spool.bytesPerSec);
          for (let b = resumeByte; b < replayEnd; b += step) {
            const buf = await spool.read(b, Math.min(replayEnd, b + step));
            const samples = new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
            await feed.put({ samples, sampleRate: spool.sampleRate, channels: spool.channels });
            this.fedBytes += buf.length;
          }
        }
      } catch (e) {
        this.fail(e);
        feed.close();
      }
    })();
    this.streamTask = this.consumeStream(stream);
  }

  private async consumeStream(stream: AsyncIterable<TranscriptionEvent>): Promise<void> {
    const off = this.streamOffsetSec;
    try {
      for await (const ev of stream) {
        if (ev.type === 'partial') {
          this.resultEndSec = Math.max(this.resultEndSec, ev.end + off);
          this.send({ type: 'partial', text: ev.text, start: round3(ev.start + off), end: round3(ev.end + off) });
        } else if (ev.type === 'final') {
          const words = sanitizeWords(
            wordsOfSegments([ev.segment]).map((w) => ({ ...w, start: w.start + off, end: w.end + off })),
            this.frontierSec,
            Infinity,
          );
          const segEnd = Math.max(ev.segment.end + off, words[words.length - 1]?.end ?? 0);
          this.resultEndSec = Math.max(this.resultEndSec, segEnd);
          this.committedSinceTick += await this.commit(words, Math.max(this.frontierSec, segEnd), this.streamOffsetByte() + this.fedBytes);
        } else if (ev.type === 'error') {
          this.send({ type: 'error', error: ev.error, recoverable: ev.recoverable });
        } else if (ev.type === 'end') {
          this.resultEndSec = Math.max(this.resultEndSec, ev.durationSec + off);
        }
      }
    } catch (e) {
      this.fail(toAbortError(this.o.abortSignal, e));
    } finally {
      this.feed?.close();
    }
  }

  private streamOffsetByte(): number {
    return this.spool!.byteAt(this.streamOffsetSec);
  }

  private streamTick(final = false): void {
    const spool = this.spool!;
    const bps = spool.bytesPerSec;
    const bytes = this.fedBytes - this.fedAtLastTick;
    if (bytes <= 0 && !final) return;
    const now = this.o.now();
    const processingSec = now - this.lastTickAt;
    this.lastTickAt = now;
    const startSec = this.streamOffsetSec + this.fedAtLastTick / bps;
    const endSec = this.streamOffsetSec + this.fedBytes / bps;
    this.fedAtLastTick = this.fedBytes;
    this.lastProcessedByte = this.streamOffsetByte() + this.fedBytes;
    const lagSec = final ? 0 : Math.max(0, endSec - this.resultEndSec);
    this.m.bytesRead += bytes;
    this.m.maxBytes = Math.max(this.m.maxBytes, bytes);
    this.m.decodedSec += bytes / bps;
    this.m.procSum += processingSec;
    this.m.procMax = Math.max(this.m.procMax, processingSec);
    this.m.maxLag = Math.max(this.m.maxLag, lagSec);
    this.ticksThisSession++;
    const index = this.tickIndex++;
    const committed = this.committedSinceTick;
    this.committedSinceTick = 0;
    this.journalPending = spool
      .writeJournal({ lastProcessedByte: this.lastProcessedByte, committedUntilSec: this.frontierSec, emittedWords: this.emittedWords, ticks: this.tickIndex })
      .then(
        () => undefined,
        (e: unknown) => this.send({ type: 'error', error: asAsrError(e), recoverable: true }),
      );
    this.send({
      type: 'tick',
      index,
      mode: 'streaming',
      windowStartSec: round3(startSec),
      windowEndSec: round3(endSec),
      windowSec: round3(bytes / bps),
      backendCalls: 0,
      bytesRead: bytes,
      processingSec,
      lagSec: round3(lagSec),
      audioSec: round3(spool.durationSec),
      committedWords: committed,
      frontierSec: round3(this.frontierSec),
      coalesced: false,
    });
    if (!final && lagSec >= this.o.intervalSec) {
      this.m.lagEvents++;
      this.send({ type: 'lag', lagSec: round3(lagSec), processingSec, intervalSec: this.o.intervalSec, tick: index });
    }
  }

  // ---------------------------------------------------------------- shared

  /** Logs the words durably, then emits them as `final` segments. Returns how many. */
  private async commit(words: readonly Word[], frontier: number, processedByte: number): Promise<number> {
    const spool = this.spool!;
    const moved = frontier > this.frontierSec;
    if (words.length === 0 && !moved) return 0;
    this.frontierSec = Math.max(this.frontierSec, frontier);
    if (words.length === 0) return 0;
    const rounded = this.labelWords(words).map((w) => ({ ...w, start: round3(w.start), end: round3(w.end) }));
    await spool.appendCommit({
      frontier: this.frontierSec,
      processedByte,
      words: rounded.map((w) => (w.speaker === undefined ? [w.word, w.start, w.end] as const : [w.word, w.start, w.end, w.speaker] as const)),
    });
    this.emittedWords += words.length;
    this.noteSpeakers(rounded);
    for (const seg of toSegments(rounded)) this.send({ type: 'final', segment: seg });
    return words.length;
  }

  private addLiveTurns(turns: readonly SpeakerTurn[]): void {
    if (turns.length === 0) return;
    this.liveTurns.push(...turns);
    this.send({ type: 'diarization', turns });
  }

  /** Labels words with the live turn they overlap most (when live diarization runs). */
  private labelWords(words: readonly Word[]): Word[] {
    if (!this.o.liveDiarizer || this.liveTurns.length === 0) return [...words];
    return words.map((w) => {
      let best: string | undefined;
      let bestOv = 0;
      for (let i = this.liveTurns.length - 1; i >= 0; i--) {
        const t = this.liveTurns[i]!;
        if (t.end < w.start - 30) break;
        const ov = Math.min(t.end, w.end) - Math.max(t.start, w.start);
        if (ov > bestOv) [best, bestOv] = [t.speaker, ov];
      }
      return best === undefined || w.speaker !== undefined ? w : { ...w, speaker: best };
    });
  }

  private noteSpeakers(words: readonly Word[]): void {
    if (this.o.liveDiarizer) return; // the diarizer's own turns are the live turns
    for (const w of words) {
      if (w.speaker === undefined) continue;
      const lastTurn = this.liveTurns[this.liveTurns.length - 1];
      if (lastTurn && lastTurn.speaker === w.speaker && w.start - lastTurn.end < SEGMENT_GAP_SEC) {
        this.liveTurns[this.liveTurns.length - 1] = { ...lastTurn, end: w.end };
      } else {
        this.liveTurns.push({ speaker: w.speaker, start: w.start, end: w.end });
      }
    }
  }

  /** Emits the recovery warnings not yet emitted, once each. */
  private flushRecoveryEvents(): void {
    const pending = this.pendingRecovery;
    this.pendingRecovery = [];
    for (const warning of pending) this.send({ type: 'recovery', warning });
  }

  private send(e: LiveEvent): void {
    (this.emit as (t: string, e: LiveEvent) => boolean)(e.type, e);
    for (const it of this.iterators) it.push(e);
  }

  private fail(e: unknown): void {
    if (this.state === 'failed') return;
    this.fatal = e;
    this.state = 'failed';
    this.send({ type: 'error', error: asAsrError(e), recoverable: false });
    for (const it of this.iterators) it.end();
    // A failed session gives its spool up (files as they are, lock released) for recover().
    void this.spool?.abandon();
  }

  private fatalError(): unknown {
    return this.fatal ?? new InvalidArgumentError('The live processor failed');
  }

  private toPcmBytes(audio: Uint8Array | AudioChunk): Uint8Array {
    if (audio instanceof Uint8Array) return audio;
    if (typeof audio !== 'object' || audio === null || !('samples' in audio)) {
      throw new InvalidAudioError('push() takes PCM bytes (Uint8Array) or an AudioChunk');
    }
    const ch = audio.channels ?? 1;
    if (audio.sampleRate !== this.o.sampleRate || ch !== this.o.channels) {
      throw new InvalidAudioError(
        `Chunk format ${audio.sampleRate} Hz × ${ch} ch differs from the processor's ${this.o.sampleRate} Hz × ${this.o.channels} ch`,
      );
    }
    if (audio.samples.length % ch !== 0) throw new InvalidAudioError('Chunk length is not a whole number of frames');
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

function asAsrError(e: unknown): ASRError {
  if (ASRError.isInstance(e)) return e;
  return new ASRError(e instanceof Error ? e.message : String(e), { cause: e });
}

/** Groups committed words into `final` segments at pauses and speaker changes. */
function toSegments(words: readonly Word[]): Segment[] {
  const out: Segment[] = [];
  let cur: Word[] = [];
  const flush = (): void => {
    if (cur.length === 0) return;
    const sp = cur[0]!.speaker;
    const seg: Segment = {
      start: cur[0]!.start,
      end: cur[cur.length - 1]!.end,
      text: cur.map((w) => w.word).join(' '),
      words: cur,
    };
    out.push(sp === undefined ? seg : { ...seg, speaker: sp });
    cur = [];
  };
  for (const w of words) {
    const prev = cur[cur.length - 1];
    if (prev && (w.start - prev.end >= SEGMENT_GAP_SEC || w.speaker !== prev.speaker)) flush();
    cur.push(w);
  }
  flush();
  return out;
}

/**
 * The quietest instant (lowest 20 ms energy, 10 ms hop) in `[from, to]` seconds of a PCM window
 * that starts at `offset` seconds; the midpoint when the range holds no whole frame.
 */
function quietest(buf: Buffer, channels: number, sampleRate: number, offset: number, from: number, to: number): number {
  const frameBytes = 2 * channels;
  const total = Math.floor(buf.length / frameBytes);
  const a = Math.max(0, Math.round((from - offset) * sampleRate));
  const b = Math.min(total, Math.round((to - offset) * sampleRate));
  const win = Math.round(0.02 * sampleRate);
  const hop = Math.round(0.01 * sampleRate);
  if (b - a < win) return (from + to) / 2;
  let best = (from + to) / 2;
  let bestE = Infinity;
  const view = new Int16Array(buf.buffer, buf.byteOffset, Math.floor(buf.byteLength / 2));
  for (let s = a; s + win <= b; s += hop) {
    let e = 0;
    for (let i = s; i < s + win; i++) {
      const v = view[i * channels]!;
      e += v * v;
    }
    // Prefer the middle of equally quiet stretches (digital silence): strict < keeps the first; bias by distance to centre.
    const centre = offset + (s + win / 2) / sampleRate;
    const score = e + 1e-6 * Math.abs(centre - (from + to) / 2);
    if (score < bestE) {
      bestE = score;
      best = centre;
    }
  }
  return best;
}
