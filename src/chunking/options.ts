import { InvalidArgumentError } from '../errors/index.js';
import type { ASRBackend, DiarizationOptions, SpeakerTurn, TranscriptionConfig } from '../spec/index.js';
import { MAX_CHANNELS, liveSampleRateProblem } from '../audio/index.js';
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

/** The processor's options after defaults and validation. @internal */
export type ResolvedLiveOptions = Complete<
  Omit<ChunkedLiveProcessorOptions, 'abortSignal' | 'transcription' | 'diarization' | 'maxWindowSec' | 'liveDiarizer'>
> & {
  readonly liveDiarizer: LiveDiarizer | undefined;
  readonly abortSignal: AbortSignal | undefined;
  readonly transcription: Omit<TranscriptionConfig, 'abortSignal' | 'diarization'>;
  readonly diarization: boolean | DiarizationOptions;
  readonly maxWindowSec: number | undefined;
};

/** The defaults of {@link ChunkedLiveProcessorOptions}. @internal */
export const LIVE_DEFAULTS = {
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

function positive(name: string, v: unknown, allowZero = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || (allowZero ? v < 0 : v <= 0)) {
    throw new InvalidArgumentError(`\`${name}\` must be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${String(v)}`);
  }
}

/**
 * Spreads the defaults over `options` once and checks every field.
 * @throws InvalidArgumentError naming the option that is wrong.
 * @internal
 */
export function resolveLiveOptions(options: ChunkedLiveProcessorOptions): ResolvedLiveOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object');
  const o = { ...LIVE_DEFAULTS, ...definedOnly(options) } as ResolvedLiveOptions;
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
  const rateProblem = liveSampleRateProblem(o.sampleRate, '`sampleRate`');
  if (rateProblem !== undefined) throw new InvalidArgumentError(rateProblem);
  if (!Number.isInteger(o.channels) || o.channels < 1 || o.channels > MAX_CHANNELS) {
    throw new InvalidArgumentError(`\`channels\` must be a whole number from 1 to ${MAX_CHANNELS}, got ${String(o.channels)}`);
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
