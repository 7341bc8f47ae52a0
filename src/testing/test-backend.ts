import { raceAbort, sleep } from '../internal/abort.js';
import { progressSink } from '../internal/progress.js';
import { chunkToMono, decodeAudio } from '../audio/index.js';
import {
  AbortedError,
  ASRError,
  BackendUnavailableError,
  InvalidArgumentError,
  InvalidAudioError,
  StreamInterruptedError,
  throwIfAborted,
  toAbortError,
} from '../errors/index.js';
import type {
  ASRBackend,
  AudioChunk,
  AudioInput,
  BackendCapabilities,
  Segment,
  SpeakerInfo,
  StreamConfig,
  Transcription,
  TranscriptionConfig,
  TranscriptionEvent,
  TranscriptionWarning,
  Word,
} from '../spec/index.js';
import { definedOnly } from '../internal/options.js';

/** Decoded mono audio, as the test backend hands it to a script function and records it in its call log. */
export interface TestAudio {
  /** Mono samples in [-1, 1]. */
  readonly samples: Float32Array;
  /** Sample rate of {@link TestAudio.samples}. */
  readonly sampleRate: number;
  /** Length in seconds. */
  readonly durationSec: number;
}

/** One word the test backend "hears", on the audio's own timeline (seconds). */
export interface ScriptedWord {
  /** The word. */
  readonly word: string;
  /** Start in seconds. */
  readonly start: number;
  /** End in seconds. */
  readonly end: number;
  /** Speaker label reported when diarization is asked for and the capabilities allow it. @defaultValue `'S1'` */
  readonly speaker?: string | undefined;
}

/**
 * What a script function returns: a whole {@link Transcription}, or just its segments (the backend
 * fills `text`, `durationSec`, `processingTimeSec`, `backend` and `warnings`). Fields given are kept.
 */
export type TestScriptResult = Pick<Transcription, 'segments'> & Partial<Omit<Transcription, 'segments'>>;

/** A function that decides what the backend hears in a given recording. */
export type TestScriptFunction = (
  audio: TestAudio,
  config: TranscriptionConfig,
) => TestScriptResult | Promise<TestScriptResult>;

/**
 * What the test backend "hears": timed words (cut to each recording's length, grouped into
 * segments at pauses), or a function of the decoded audio. In streams a function is called once, on
 * all the audio, when the input ends (its segments become finals; no partials).
 */
export type TestScript = readonly ScriptedWord[] | TestScriptFunction;

/** An error to inject: the error itself, or a factory called each time (fresh stack traces). */
export type InjectedError = Error | (() => Error);

/** When and how a stream fails. */
export interface StreamFailure {
  /** Fail once the stream has received this many seconds of audio. */
  readonly afterSec: number;
  /**
   * The error. By default a {@link StreamInterruptedError} carrying the audio received since the last
   * final (what a real server would not have acknowledged).
   */
  readonly error?: Error | ((info: StreamFailureInfo) => Error);
}

/** What a stream had not had acknowledged when an injected failure struck. */
export interface StreamFailureInfo {
  /** Mono audio received since the end of the last final. */
  readonly unacknowledgedAudio: Float32Array;
  /** Its sample rate. */
  readonly sampleRate: number;
  /** Where it starts on the stream's timeline, in seconds. */
  readonly audioOffsetSec: number;
}

/** Options of {@link TestBackend}. */
export interface TestBackendOptions {
  /** @defaultValue `'test'` */
  readonly id?: string | undefined;
  /** @defaultValue `'Test backend'` */
  readonly name?: string | undefined;
  /**
   * Capabilities, merged over the defaults: streaming, offline, word timestamps, no diarization, no
   * hotwords, languages `['en']`, sample rate 16 000.
   */
  readonly capabilities?: Partial<BackendCapabilities> | undefined;
  /** What the backend hears. @defaultValue `[]` (silence) */
  readonly script?: TestScript | undefined;
  /** A pause of at least this long between scripted words starts a new segment (and ends an utterance in streams). @defaultValue 0.8 */
  readonly segmentGapSec?: number | undefined;
  /** Delay before each `transcribe()` result, each `isAvailable()` answer and each stream chunk's events, in ms. @defaultValue 0 */
  readonly latencyMs?: number | undefined;
  /** Whether the backend is available. Toggle later with {@link TestBackend.available}. @defaultValue true */
  readonly available?: boolean | undefined;
  /** Fail the first `count` calls (`transcribe` or `transcribeStream`) with `error`. */
  readonly failFirst?: { readonly count: number; readonly error: InjectedError } | undefined;
  /** Make streams fail after some audio. */
  readonly streamFailure?: StreamFailure | undefined;
}

/** A `transcribe()` call as the test backend saw it. */
export interface TestTranscribeCall {
  /** Discriminator. */
  readonly method: 'transcribe';
  /** The options passed. */
  readonly config: TranscriptionConfig;
  /** The decoded audio; `undefined` when the call failed before decoding (aborted, unavailable, injected failure). */
  readonly audio: TestAudio | undefined;
  /** What the call threw, if it did. */
  readonly error?: unknown;
}

/** A `transcribeStream()` call as the test backend saw it (updated while the stream runs). */
export interface TestStreamCall {
  /** Discriminator. */
  readonly method: 'transcribeStream';
  /** The options passed. */
  readonly config: StreamConfig;
  /** Chunks received. */
  readonly chunks: number;
  /** Seconds of audio received. */
  readonly receivedSec: number;
  /** Sample rate of the chunks (0 before the first). */
  readonly sampleRate: number;
  /** The stream is over: ended, failed, or its consumer stopped iterating. */
  readonly closed: boolean;
  /** The consumer stopped iterating before the `end` event. */
  readonly cancelled: boolean;
  /** What the stream threw, if it did. */
  readonly error?: unknown;
}

/** An entry of {@link TestBackend.calls}. */
export type TestBackendCall = TestTranscribeCall | TestStreamCall;

const DEFAULT_CAPABILITIES: BackendCapabilities = {
  streaming: true,
  diarization: false,
  offline: true,
  wordTimestamps: true,
  languages: ['en'],
  hotwords: false,
  sampleRate: 16_000,
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return Array.isArray(v) ? 'an array' : typeof v;
}

function makeError(e: InjectedError): Error {
  return typeof e === 'function' ? e() : e;
}

/** Waits out the scripted latency (`sleep`); no latency is no wait and no abort check. */
function latency(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return ms <= 0 ? Promise.resolve() : sleep(ms, signal);
}

/**
 * A scriptable in-memory {@link ASRBackend} for unit tests of the layers above the backends (hybrid
 * manager, live processor, server). It decodes real audio (so malformed input fails as it would in a
 * real backend), "hears" what its script says, honours `AbortSignal`, turns unsupported options into
 * warnings, streams partials and finals on the stream's own timeline, and records every call.
 *
 * @example
 * ```ts
 * const backend = new TestBackend({
 *   script: [{ word: 'hello', start: 0.2, end: 0.6 }, { word: 'world', start: 0.7, end: 1.1 }],
 *   failFirst: { count: 1, error: () => new ConnectionError('down') },
 * });
 * await expect(backend.transcribe(wavBytes)).rejects.toThrow('down');
 * expect((await backend.transcribe(wavBytes)).text).toBe('hello world');
 * ```
 */
export class TestBackend implements ASRBackend {
  /** Stable identifier (`'test'` unless set); used in `Transcription.backend`. */
  readonly id: string;
  /** Human-readable name. */
  readonly name: string;
  /** What this backend claims it can do (frozen). */
  readonly capabilities: BackendCapabilities;
  /** Whether the backend is available; set it to simulate an outage or a recovery. */
  available: boolean;
  /** The script; replace it between calls to change what the backend hears. */
  script: TestScript;
  /** Latency in ms added to each call (see {@link TestBackendOptions.latencyMs}). */
  latencyMs: number;
  /** Stream failure to inject, or `undefined`. */
  streamFailure: StreamFailure | undefined;

  readonly #segmentGapSec: number;
  readonly #calls: TestBackendCall[] = [];
  readonly #failures: InjectedError[] = [];
  #disposed = false;

  /**
   * @param options - see {@link TestBackendOptions}; validated eagerly.
   * @throws InvalidArgumentError for a malformed option.
   */
  constructor(options: TestBackendOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError(`TestBackend options must be an object, got ${describeValue(options)}`);
    }
    const o = { id: 'test', name: 'Test backend', script: [], segmentGapSec: 0.8, latencyMs: 0, available: true, ...definedOnly(options) };
    if (typeof o.id !== 'string' || o.id === '') throw new InvalidArgumentError(`\`id\` must be a non-empty string, got ${describeValue(o.id)}`);
    if (typeof o.name !== 'string' || o.name === '') throw new InvalidArgumentError(`\`name\` must be a non-empty string, got ${describeValue(o.name)}`);
    if (typeof o.available !== 'boolean') throw new InvalidArgumentError(`\`available\` must be a boolean, got ${describeValue(o.available)}`);
    checkNonNegative('latencyMs', o.latencyMs);
    if (typeof o.segmentGapSec !== 'number' || !Number.isFinite(o.segmentGapSec) || o.segmentGapSec <= 0) {
      throw new InvalidArgumentError(`\`segmentGapSec\` must be a finite number > 0, got ${describeValue(o.segmentGapSec)}`);
    }
    checkScript(o.script);
    this.capabilities = checkCapabilities({ ...DEFAULT_CAPABILITIES, ...(o.capabilities ?? {}) });
    if (o.failFirst !== undefined) {
      const { count, error } = o.failFirst;
      if (!Number.isInteger(count) || count < 0) throw new InvalidArgumentError(`\`failFirst.count\` must be a whole number >= 0, got ${describeValue(count)}`);
      checkInjected('failFirst.error', error);
      for (let i = 0; i < count; i++) this.#failures.push(error);
    }
    if (o.streamFailure !== undefined) checkStreamFailure(o.streamFailure);
    this.id = o.id;
    this.name = o.name;
    this.available = o.available;
    this.script = o.script;
    this.latencyMs = o.latencyMs;
    this.streamFailure = o.streamFailure;
    this.#segmentGapSec = o.segmentGapSec;
  }

  /** Every call so far, oldest first (isAvailable and dispose are not recorded). */
  get calls(): readonly TestBackendCall[] {
    return this.#calls;
  }

  /** Whether {@link TestBackend.dispose} has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Makes the next `count` calls (`transcribe` or `transcribeStream`) fail with `error`. */
  failNext(count: number, error: InjectedError): void {
    if (!Number.isInteger(count) || count < 0) throw new InvalidArgumentError(`\`count\` must be a whole number >= 0, got ${describeValue(count)}`);
    checkInjected('error', error);
    for (let i = 0; i < count; i++) this.#failures.push(error);
  }

  /** Resolves {@link TestBackend.available} (false once disposed or when aborted); never throws. */
  async isAvailable(options?: { readonly abortSignal?: AbortSignal }): Promise<boolean> {
    try {
      const signal = options?.abortSignal;
      if (signal?.aborted) return false;
      await latency(this.latencyMs, signal);
      return this.available && !this.#disposed;
    } catch {
      return false;
    }
  }

  /** Decodes the audio, runs the script on it, and returns the result with warnings for unsupported options. */
  async transcribe(audio: AudioInput, options: TranscriptionConfig = {}): Promise<Transcription> {
    const call: Mutable<TestTranscribeCall> = { method: 'transcribe', config: options, audio: undefined };
    this.#calls.push(call);
    const t0 = performance.now();
    try {
      const signal = checkConfig(options);
      throwIfAborted(signal);
      this.#checkServing();
      const warnings = this.#warningsFor(options);
      const decoded = await decodeAudio(audio, {
        sampleRate: this.capabilities.sampleRate ?? 16_000,
        ...(signal === undefined ? {} : { abortSignal: signal }),
      });
      throwIfAborted(signal);
      const heard: TestAudio = { samples: decoded.samples, sampleRate: decoded.sampleRate, durationSec: decoded.durationSec };
      call.audio = heard;
      const max = this.capabilities.maxAudioDurationSec;
      if (max !== undefined && heard.durationSec > max) {
        throw new BackendUnavailableError(`The audio is ${heard.durationSec.toFixed(1)} s long; ${this.id} accepts at most ${max} s`);
      }
      const result = await this.#run(heard, options);
      await latency(this.latencyMs, signal);
      throwIfAborted(signal);
      this.#checkServing();
      progressSink(options.onProgress, heard.durationSec).finish(heard.durationSec);
      return {
        ...result,
        text: result.text ?? result.segments.map((s) => s.text).join(' '),
        durationSec: result.durationSec ?? heard.durationSec,
        processingTimeSec: result.processingTimeSec ?? (performance.now() - t0) / 1000,
        backend: result.backend ?? this.id,
        warnings: [...warnings, ...(result.warnings ?? [])],
      };
    } catch (e) {
      const err = toAbortError(options.abortSignal, e);
      call.error = err;
      throw err;
    }
  }

  /**
   * Streams the script as audio arrives: partials as words are heard, a final at each pause of
   * `segmentGapSec`, `end` last. Stops pulling audio when the consumer stops iterating.
   */
  transcribeStream(audio: AsyncIterable<AudioChunk>, options: StreamConfig = {}): AsyncIterable<TranscriptionEvent> {
    return this.#stream(audio, options);
  }

  /** Marks the backend disposed (idempotent); later calls reject with `BackendUnavailableError`. */
  async dispose(): Promise<void> {
    this.#disposed = true;
  }

  /** Throws when disposed, unavailable, or a failure is queued. */
  #checkServing(): void {
    if (this.#disposed) throw new BackendUnavailableError(`The ${this.id} backend has been disposed`);
    if (!this.available) throw new BackendUnavailableError(`The ${this.id} backend is unavailable`);
    const failure = this.#failures.shift();
    if (failure !== undefined) throw makeError(failure);
  }

  /** Warnings for options the capabilities can't honour; throws for an unsupported language. */
  #warningsFor(config: TranscriptionConfig): TranscriptionWarning[] {
    const caps = this.capabilities;
    if (config.language !== undefined && caps.languages !== 'any' && !caps.languages.includes(config.language)) {
      throw new BackendUnavailableError(
        `The ${this.id} backend does not recognise language "${config.language}" (it knows ${caps.languages.join(', ') || 'none'})`,
      );
    }
    const warnings: TranscriptionWarning[] = [];
    if (config.diarization !== undefined && config.diarization !== false && !caps.diarization) {
      warnings.push({ type: 'unsupported', feature: 'diarization', details: `${this.id} has no speaker diarization` });
    }
    if (config.hotwords !== undefined && config.hotwords.length > 0 && !caps.hotwords) {
      warnings.push({ type: 'unsupported', feature: 'hotwords', details: `${this.id} does not support hotwords` });
    }
    if (config.punctuation === true) {
      warnings.push({ type: 'unsupported', feature: 'punctuation', details: `${this.id} does not add punctuation` });
    }
    return warnings;
  }

  #diarize(config: TranscriptionConfig): boolean {
    return this.capabilities.diarization && config.diarization !== undefined && config.diarization !== false;
  }

  /** Runs the script on a whole recording. */
  async #run(audio: TestAudio, config: TranscriptionConfig): Promise<TestScriptResult> {
    const script = this.script;
    if (typeof script === 'function') return script(audio, config);
    const diarize = this.#diarize(config);
    const words = clipWords(script, audio.durationSec);
    const segments = groupSegments(words, this.#segmentGapSec, diarize, this.capabilities.wordTimestamps);
    const speakers = diarize ? speakerInfo(segments) : undefined;
    return speakers === undefined ? { segments } : { segments, speakers };
  }

  async *#stream(source: AsyncIterable<AudioChunk>, options: StreamConfig): AsyncGenerator<TranscriptionEvent> {
    const call: Mutable<TestStreamCall> = {
      method: 'transcribeStream',
      config: options,
      chunks: 0,
      receivedSec: 0,
      sampleRate: 0,
      closed: false,
      cancelled: false,
    };
    this.#calls.push(call);
    let ended = false;
    let iterator: AsyncIterator<AudioChunk> | undefined;
    try {
      const signal = checkConfig(options);
      if (options.partials !== undefined && typeof options.partials !== 'boolean') {
        throw new InvalidArgumentError(`\`partials\` must be a boolean, got ${describeValue(options.partials)}`);
      }
      throwIfAborted(signal);
      this.#checkServing();
      for (const warning of this.#warningsFor(options)) yield { type: 'warning', warning };
      const state = new StreamState(this.script, options, {
        gapSec: this.#segmentGapSec,
        diarize: this.#diarize(options),
        wordTimestamps: this.capabilities.wordTimestamps,
        partials: options.partials !== false && this.capabilities.streaming,
      });
      let channels = 0;
      iterator = source[Symbol.asyncIterator]();
      for (;;) {
        const step = await raceAbort(iterator.next(), signal);
        if (step.done === true) {
          iterator = undefined;
          break;
        }
        const chunk = step.value;
        if (this.#disposed) throw new BackendUnavailableError(`The ${this.id} backend was disposed during the stream`);
        const mono = chunkToMono(chunk);
        const ch = chunk.channels ?? 1;
        if (call.chunks === 0) {
          call.sampleRate = chunk.sampleRate;
          channels = ch;
        } else if (chunk.sampleRate !== call.sampleRate || ch !== channels) {
          throw new InvalidAudioError(
            `Chunk ${call.chunks} is ${chunk.sampleRate} Hz × ${ch} channels; the stream started at ${call.sampleRate} Hz × ${channels}`,
          );
        }
        call.chunks++;
        const events = state.push(mono, chunk.sampleRate);
        call.receivedSec = state.receivedSec;
        await latency(this.latencyMs, signal);
        for (const ev of events) yield ev;
        const failure = this.streamFailure;
        if (failure !== undefined && state.receivedSec >= failure.afterSec) throw state.failure(failure);
      }
      throwIfAborted(signal);
      for (const ev of await state.finish()) yield ev;
      ended = true;
    } catch (e) {
      const err = toAbortError(options.abortSignal, e);
      call.error = err;
      if (!AbortedError.isInstance(err)) {
        const error = ASRError.isInstance(err) ? err : new ASRError(err instanceof Error ? err.message : String(err), { cause: err });
        ended = true;
        yield { type: 'error', error, recoverable: false };
      }
      throw err;
    } finally {
      // Stop the producer when we stop early (consumer's break, failure, abort); don't wait on it.
      if (iterator?.return !== undefined) void Promise.resolve(iterator.return()).catch(() => undefined);
      call.closed = true;
      if (!ended) call.cancelled = call.error === undefined;
    }
  }
}

/** Builds the events of one stream from the script and the audio received. */
class StreamState {
  receivedSec = 0;
  #samples = 0;
  #rate = 0;
  #nextWord = 0;
  #open: Word[] = [];
  #lastPartial = '';
  readonly #finals: Segment[] = [];
  /** Mono audio since the last final (what a server would not have acknowledged). */
  #pending: Float32Array[] = [];
  #pendingOffsetSec = 0;
  /** All mono audio (only kept for function scripts). */
  readonly #all: Float32Array[] = [];

  readonly #script: TestScript;
  readonly #config: StreamConfig;
  readonly #o: { gapSec: number; diarize: boolean; wordTimestamps: boolean; partials: boolean };

  constructor(script: TestScript, config: StreamConfig, o: { gapSec: number; diarize: boolean; wordTimestamps: boolean; partials: boolean }) {
    this.#script = script;
    this.#config = config;
    this.#o = o;
  }

  push(mono: Float32Array, rate: number): TranscriptionEvent[] {
    this.#rate = rate;
    this.#samples += mono.length;
    this.receivedSec = this.#samples / rate;
    this.#pending.push(mono);
    if (typeof this.#script === 'function') {
      this.#all.push(mono);
      return [];
    }
    const events: TranscriptionEvent[] = [];
    const words = this.#script;
    while (this.#nextWord < words.length && words[this.#nextWord]!.end <= this.receivedSec) {
      const w = this.#word(words[this.#nextWord++]!);
      const last = this.#open[this.#open.length - 1];
      if (last !== undefined && (w.start - last.end >= this.#o.gapSec || (this.#o.diarize && w.speaker !== last.speaker))) {
        events.push(this.#commit());
      }
      this.#open.push(w);
    }
    const last = this.#open[this.#open.length - 1];
    if (last !== undefined && this.receivedSec - last.end >= this.#o.gapSec) {
      events.push(this.#commit());
    } else if (this.#o.partials && this.#open.length > 0) {
      const text = this.#open.map((w) => w.word).join(' ');
      if (text !== this.#lastPartial) {
        this.#lastPartial = text;
        events.push({ type: 'partial', text, start: this.#open[0]!.start, end: this.receivedSec });
      }
    }
    return events;
  }

  async finish(): Promise<TranscriptionEvent[]> {
    const events: TranscriptionEvent[] = [];
    if (typeof this.#script === 'function') {
      const samples = concat(this.#all);
      const result = await this.#script({ samples, sampleRate: this.#rate || 16_000, durationSec: this.receivedSec }, this.#config);
      for (const segment of result.segments) {
        this.#finals.push(segment);
        events.push({ type: 'final', segment });
      }
    } else {
      // Words cut off by the end of the input still count, ending where the audio does.
      for (const sw of this.#script.slice(this.#nextWord)) {
        if (sw.start >= this.receivedSec) break;
        const w = this.#word({ ...sw, end: Math.min(sw.end, this.receivedSec) });
        const last = this.#open[this.#open.length - 1];
        if (last !== undefined && (w.start - last.end >= this.#o.gapSec || (this.#o.diarize && w.speaker !== last.speaker))) {
          events.push(this.#commit());
        }
        this.#open.push(w);
      }
      if (this.#open.length > 0) events.push(this.#commit());
    }
    const segments = this.#finals;
    const transcription: Transcription = {
      text: segments.map((s) => s.text).join(' '),
      segments: [...segments],
      durationSec: this.receivedSec,
      processingTimeSec: 0,
      backend: 'test',
      warnings: [],
      ...(this.#o.diarize ? { speakers: speakerInfo(segments) } : {}),
    };
    events.push({ type: 'end', durationSec: this.receivedSec, transcription });
    return events;
  }

  failure(f: StreamFailure): Error {
    const unacknowledgedAudio = concat(this.#pending);
    const info = { unacknowledgedAudio, sampleRate: this.#rate, audioOffsetSec: this.#pendingOffsetSec };
    if (f.error === undefined) {
      return new StreamInterruptedError(`Injected stream failure after ${f.afterSec} s of audio`, info);
    }
    return typeof f.error === 'function' ? f.error(info) : f.error;
  }

  #word(w: ScriptedWord): Word {
    const base = { word: w.word, start: w.start, end: w.end };
    return this.#o.diarize ? { ...base, speaker: w.speaker ?? 'S1' } : base;
  }

  #commit(): TranscriptionEvent {
    const words = this.#open;
    this.#open = [];
    this.#lastPartial = '';
    const segment = toSegment(words, this.#o.wordTimestamps);
    this.#finals.push(segment);
    // Audio before the end of this final is acknowledged; keep the rest.
    const keepFrom = Math.floor(segment.end * this.#rate);
    const all = concat(this.#pending);
    const offsetSamples = Math.round(this.#pendingOffsetSec * this.#rate);
    const cut = Math.max(0, Math.min(all.length, keepFrom - offsetSamples));
    this.#pending = [all.subarray(cut)];
    this.#pendingOffsetSec = (offsetSamples + cut) / this.#rate;
    return { type: 'final', segment };
  }
}


function concat(parts: readonly Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function clipWords(words: readonly ScriptedWord[], durationSec: number): ScriptedWord[] {
  return words.filter((w) => w.start < durationSec).map((w) => (w.end > durationSec ? { ...w, end: durationSec } : w));
}

function toSegment(words: readonly Word[], wordTimestamps: boolean): Segment {
  const first = words[0]!;
  const seg = {
    start: first.start,
    end: Math.max(...words.map((w) => w.end)),
    text: words.map((w) => w.word).join(' '),
    words: wordTimestamps ? [...words] : [],
  };
  return first.speaker === undefined ? seg : { ...seg, speaker: first.speaker };
}

function groupSegments(words: readonly ScriptedWord[], gapSec: number, diarize: boolean, wordTimestamps: boolean): Segment[] {
  const segments: Segment[] = [];
  let open: Word[] = [];
  for (const sw of words) {
    const base = { word: sw.word, start: sw.start, end: sw.end };
    const w: Word = diarize ? { ...base, speaker: sw.speaker ?? 'S1' } : base;
    const last = open[open.length - 1];
    if (last !== undefined && (w.start - last.end >= gapSec || w.speaker !== last.speaker)) {
      segments.push(toSegment(open, wordTimestamps));
      open = [];
    }
    open.push(w);
  }
  if (open.length > 0) segments.push(toSegment(open, wordTimestamps));
  return segments;
}

function speakerInfo(segments: readonly Segment[]): SpeakerInfo[] {
  const totals = new Map<string, number>();
  for (const s of segments) if (s.speaker !== undefined) totals.set(s.speaker, (totals.get(s.speaker) ?? 0) + (s.end - s.start));
  return [...totals].map(([id, totalSec]) => ({ id, totalSec }));
}

function checkNonNegative(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new InvalidArgumentError(`\`${name}\` must be a finite number >= 0, got ${describeValue(v)}`);
  }
}

function checkInjected(name: string, e: unknown): void {
  if (!(e instanceof Error) && typeof e !== 'function') {
    throw new InvalidArgumentError(`\`${name}\` must be an Error or a function returning one, got ${describeValue(e)}`);
  }
}

function checkStreamFailure(f: StreamFailure): void {
  if (typeof f !== 'object' || f === null) throw new InvalidArgumentError(`\`streamFailure\` must be an object, got ${describeValue(f)}`);
  checkNonNegative('streamFailure.afterSec', f.afterSec);
  if (f.error !== undefined) checkInjected('streamFailure.error', f.error);
}

function checkScript(script: unknown): void {
  if (typeof script === 'function') return;
  if (!Array.isArray(script)) throw new InvalidArgumentError(`\`script\` must be an array of words or a function, got ${describeValue(script)}`);
  let prevStart = 0;
  script.forEach((w: unknown, i) => {
    const o = w as Partial<ScriptedWord> | null;
    if (typeof o !== 'object' || o === null || typeof o.word !== 'string' || o.word.trim() === '') {
      throw new InvalidArgumentError(`\`script[${i}].word\` must be a non-empty string`);
    }
    checkNonNegative(`script[${i}].start`, o.start);
    checkNonNegative(`script[${i}].end`, o.end);
    if (o.end! < o.start!) throw new InvalidArgumentError(`\`script[${i}].end\` (${o.end}) must not be before its start (${o.start})`);
    if (o.start! < prevStart) throw new InvalidArgumentError(`\`script[${i}].start\` (${o.start}) must not be before the previous word's start`);
    if (o.speaker !== undefined && typeof o.speaker !== 'string') throw new InvalidArgumentError(`\`script[${i}].speaker\` must be a string`);
    prevStart = o.start!;
  });
}

function checkCapabilities(c: BackendCapabilities): BackendCapabilities {
  const languages = c.languages;
  for (const k of ['streaming', 'diarization', 'offline', 'wordTimestamps', 'hotwords'] as const) {
    if (typeof c[k] !== 'boolean') throw new InvalidArgumentError(`\`capabilities.${k}\` must be a boolean, got ${describeValue(c[k])}`);
  }
  if (c.languages !== 'any' && !(Array.isArray(c.languages) && c.languages.every((l) => typeof l === 'string' && l !== ''))) {
    throw new InvalidArgumentError("`capabilities.languages` must be 'any' or an array of language codes");
  }
  for (const k of ['maxAudioDurationSec', 'maxWindowSec', 'sampleRate'] as const) {
    const v = c[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) {
      throw new InvalidArgumentError(`\`capabilities.${k}\` must be a finite number > 0, got ${describeValue(v)}`);
    }
  }
  return Object.freeze({ ...c, languages: languages === 'any' ? 'any' : Object.freeze([...languages]) });
}

/** Checks the parts of a call's options the test backend reads; returns the signal. */
function checkConfig(config: TranscriptionConfig): AbortSignal | undefined {
  if (typeof config !== 'object' || config === null) {
    throw new InvalidArgumentError(`options must be an object, got ${describeValue(config)}`);
  }
  const { language, diarization, hotwords, abortSignal, punctuation, onProgress } = config;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new InvalidArgumentError(`\`onProgress\` must be a function, got ${describeValue(onProgress)}`);
  }
  if (abortSignal !== undefined && !(abortSignal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`\`abortSignal\` must be an AbortSignal, got ${describeValue(abortSignal)}`);
  }
  if (language !== undefined && (typeof language !== 'string' || language === '')) {
    throw new InvalidArgumentError(`\`language\` must be a non-empty string, got ${describeValue(language)}`);
  }
  if (diarization !== undefined && typeof diarization !== 'boolean' && (typeof diarization !== 'object' || diarization === null)) {
    throw new InvalidArgumentError(`\`diarization\` must be a boolean or an options object, got ${describeValue(diarization)}`);
  }
  if (punctuation !== undefined && typeof punctuation !== 'boolean') {
    throw new InvalidArgumentError(`\`punctuation\` must be a boolean, got ${describeValue(punctuation)}`);
  }
  if (hotwords !== undefined && !(Array.isArray(hotwords) && hotwords.every((h) => typeof h === 'string'))) {
    throw new InvalidArgumentError('`hotwords` must be an array of strings');
  }
  return abortSignal;
}
