import { raceAbort, sleep } from '../internal/abort.js';
import { progressSink } from '../internal/progress.js';
import { chunkToMono, decodeAudio } from '../audio/index.js';
import {
  AbortedError,
  ASRError,
  BackendUnavailableError,
  InvalidArgumentError,
  InvalidAudioError,
  throwIfAborted,
  toAbortError,
} from '../errors/index.js';
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
import { definedOnly } from '../internal/options.js';
import { StreamState, clipWords, groupSegments, speakerInfo } from './stream-script.js';
import type {
  InjectedError,
  StreamFailure,
  TestAudio,
  TestBackendCall,
  TestBackendOptions,
  TestScript,
  TestScriptResult,
  TestStreamCall,
  TestTranscribeCall,
} from './types.js';
import { checkCapabilities, checkConfig, checkInjected, checkNonNegative, checkScript, checkStreamFailure, describeValue } from './validate.js';
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

