import type { DiarizationEvent, EndEvent, ErrorEvent, FinalEvent, PartialEvent } from '../spec/index.js';
import type { SpoolRecoveryWarning } from './spool-recovery.js';

/** Figures of one live tick (one decode of new audio plus its context). */
export interface TickEvent {
  /** Discriminator. */
  readonly type: 'tick';
  /** 0-based tick number. */
  readonly index: number;
  /** `'windowed'` (re-reads a window per tick) or `'streaming'` (audio fed once to a streaming model). */
  readonly mode: 'windowed' | 'streaming';
  /** Start of the audio decoded this tick, seconds on the recording's timeline. */
  readonly windowStartSec: number;
  /** End of the audio decoded this tick. */
  readonly windowEndSec: number;
  /** Seconds of audio decoded this tick (the sum over its backend calls). */
  readonly windowSec: number;
  /** Backend calls made this tick (more than one when the window exceeded the model's limit). */
  readonly backendCalls: number;
  /** Bytes of spooled PCM read (windowed) or fed (streaming) this tick. */
  readonly bytesRead: number;
  /** Wall-clock seconds the tick took. */
  readonly processingSec: number;
  /** Seconds of audio that had arrived but were not decoded when the tick finished. */
  readonly lagSec: number;
  /** Seconds of audio received in all. */
  readonly audioSec: number;
  /** Words committed by this tick. */
  readonly committedWords: number;
  /** Commit frontier after the tick (seconds): nothing before it is decoded again. */
  readonly frontierSec: number;
  /** This tick took more than one interval of new audio (ticks were coalesced). */
  readonly coalesced: boolean;
}

/** A tick fell behind: it took longer than the interval, and the next tick takes everything new. */
export interface LagEvent {
  /** Discriminator. */
  readonly type: 'lag';
  /** Seconds of audio waiting to be decoded. */
  readonly lagSec: number;
  /** Wall-clock seconds the late tick took. */
  readonly processingSec: number;
  /** The configured interval. */
  readonly intervalSec: number;
  /** Index of the late tick. */
  readonly tick: number;
}

/** At the end, maps the speaker labels used live to those of the final full pass. */
export interface SpeakerRemapEvent {
  /** Discriminator. */
  readonly type: 'speaker-remap';
  /** Live label → final label (labels with no overlapping final speech are left out). */
  readonly mapping: Readonly<Record<string, string>>;
}

/**
 * A recovered processor could not keep everything the crashed session left: what was dropped
 * (seconds of audio, commit-log lines). One per {@link SpoolRecoveryWarning}, emitted after
 * `recover()` resolves and before any other event (they are also in `recovered.warnings` and in
 * the final transcript's `warnings`).
 */
export interface RecoveryEvent {
  /** Discriminator. */
  readonly type: 'recovery';
  /** What was dropped. */
  readonly warning: SpoolRecoveryWarning;
}

/** Everything the live processor emits, discriminated by `type`. */
export type LiveEvent = PartialEvent | FinalEvent | DiarizationEvent | TickEvent | LagEvent | SpeakerRemapEvent | RecoveryEvent | ErrorEvent | EndEvent;

/** The typed event map of {@link ChunkedLiveProcessor} (eventemitter3). */
export interface LiveProcessorEvents {
  /** Provisional text of the newest seconds (revised by the next tick). */
  partial: [event: PartialEvent];
  /** Committed words (never revised; each word is committed exactly once). */
  final: [event: FinalEvent];
  /** Live speaker turns (provisional labels), when a live diarizer runs. */
  diarization: [event: DiarizationEvent];
  /** Figures of a tick. */
  tick: [event: TickEvent];
  /** A tick took longer than the interval. */
  lag: [event: LagEvent];
  /** Live speaker labels → final ones. */
  'speaker-remap': [event: SpeakerRemapEvent];
  /** A recovered session dropped what could not be recovered (see {@link RecoveryEvent}). */
  recovery: [event: RecoveryEvent];
  /** A failure; with `recoverable: false` the processor stopped. */
  error: [event: ErrorEvent];
  /** The final transcript. */
  end: [event: EndEvent];
}

/** Totals over a live session. */
export interface LiveMetricsSummary {
  /** `'windowed'` or `'streaming'`. */
  readonly mode: 'windowed' | 'streaming';
  /** Ticks run. */
  readonly ticks: number;
  /** Seconds of audio received. */
  readonly audioSec: number;
  /** PCM bytes received. */
  readonly audioBytes: number;
  /** PCM bytes read back (windowed) or fed (streaming) for live decoding. */
  readonly bytesRead: number;
  /** `bytesRead / audioBytes`. */
  readonly bytesReadRatio: number;
  /** Most bytes read by one tick. */
  readonly maxBytesReadPerTick: number;
  /** Seconds of audio decoded live (windows summed). */
  readonly decodedSec: number;
  /** `decodedSec / audioSec`. */
  readonly decodedRatio: number;
  /** Backend calls made live. */
  readonly backendCalls: number;
  /** Mean wall-clock seconds per tick. */
  readonly meanProcessingSec: number;
  /** Longest tick. */
  readonly maxProcessingSec: number;
  /** Lag events emitted. */
  readonly lagEvents: number;
  /** Largest lag seen (seconds of audio). */
  readonly maxLagSec: number;
  /** Words committed live. */
  readonly committedWords: number;
}
