import { AbortedError, ASRError, toAbortError } from '../errors/index.js';
import type { AudioChunk, Segment, StreamConfig, Transcription, TranscriptionEvent, TranscriptionWarning } from '../spec/index.js';
import { AudioFeed } from './audio-feed.js';
import { canFailOver, errorText } from './backends.js';
import { compareTranscriptions } from './comparison.js';
import type { HybridContext } from './context.js';
import { OverlapDedupe } from './dedupe.js';
import { fitLanguage } from './selection.js';
import { runDualStreamSide } from './stream-dual.js';
import type { BackendRole } from './tier.js';

/** Where a stream starts, as the manager's selection decided. @internal */
export interface StreamStart {
  /** The backend it starts on. */
  readonly role: BackendRole;
  /** The backend it goes back to once healthy (differs from `role` when it started offline). */
  readonly preferred: BackendRole;
  /** The monitor's successful probes when `preferred` was last known to fail (infinite: never). */
  readonly okProbesAtFailure: number;
  /** The stream's config after the tier and the selection. */
  readonly config: StreamConfig;
  /** Dual mode: the other backend also reads the audio, compared at the end. */
  readonly dual: boolean;
}

/** A move to the other backend, decided during one backend's run. */
interface Switch {
  readonly role: BackendRole;
  readonly kind: 'failover' | 'restore';
  readonly reason: string;
  readonly error?: Error;
}

/** Limits of one stream's switching. @internal */
interface StreamFailoverLimits {
  /** Most backend switches within the stream. */
  readonly maxSwitches: number;
  /** Whether the stream moves back to the preferred backend once it is healthy. */
  readonly restore: boolean;
}

/**
 * One live stream of the hybrid manager: runs the caller's audio through one backend at a time,
 * and when that backend fails starts the other one on the audio not yet covered by a final (kept by
 * its {@link AudioFeed}); times stay on the stream's timeline, words heard twice are dropped
 * ({@link OverlapDedupe}), and the stream moves back to the preferred backend at a final once it is
 * healthy. Its fields are the stream's whole state.
 * @internal
 */
export class StreamFailover {
  /** Warnings of the stream, for the `end` transcription (the manager adds the selection's). */
  readonly warnings: TranscriptionWarning[] = [];
  readonly #ctx: HybridContext;
  readonly #signal: AbortSignal | undefined;
  readonly #limits: StreamFailoverLimits;
  readonly #feed: AudioFeed;
  readonly #started = performance.now();
  readonly #finals: Segment[] = [];
  readonly #dedupe = new OverlapDedupe();
  readonly #dualStop = new AbortController();
  #dualTask: Promise<Transcription | undefined> | undefined;
  #role: BackendRole = 'native';
  #preferred: BackendRole = 'native';
  #okProbesAtFailure = Number.POSITIVE_INFINITY;
  #config: StreamConfig = {};
  #switches = 0;

  /**
   * @param ctx - the manager's backends and state.
   * @param audio - the caller's chunks (pulled once, by the feed).
   * @param signal - the caller's abort signal.
   * @param limits - switching limits.
   */
  constructor(ctx: HybridContext, audio: AsyncIterable<AudioChunk>, signal: AbortSignal | undefined, limits: StreamFailoverLimits) {
    this.#ctx = ctx;
    this.#signal = signal;
    this.#limits = limits;
    this.#feed = new AudioFeed(audio);
  }

  /** Runs the stream from `start` until the `end` event, switching backends as needed. */
  async *run(start: StreamStart): AsyncGenerator<TranscriptionEvent> {
    this.#role = start.role;
    this.#preferred = start.preferred;
    this.#okProbesAtFailure = start.okProbesAtFailure;
    this.#config = start.config;
    if (start.dual) {
      const otherRole: BackendRole = start.role === 'native' ? 'remote' : 'native';
      this.#dualTask = runDualStreamSide(this.#ctx.backends.get(otherRole), this.#feed, start.config, this.#dualStop.signal);
    }
    for (;;) {
      const from = this.#ctx.backends.get(this.#role).id;
      const next = yield* this.#runBackend();
      if (next === undefined) return;
      yield* this.#switch(from, next);
    }
  }

  /** Stops the dual side and the pull from the caller's source. */
  close(): void {
    this.#dualStop.abort();
    if (this.#dualTask !== undefined) void this.#dualTask.catch(() => undefined);
    void this.#feed.close();
  }

  /**
   * One backend's run, from the replay point on. Returns undefined when the stream ended (the `end`
   * event was yielded), or the switch to make. Throws when the stream can't go on.
   */
  async *#runBackend(): AsyncGenerator<TranscriptionEvent, Switch | undefined> {
    const { backends } = this.#ctx;
    const role = this.#role;
    const backend = backends.get(role);
    this.#ctx.setCurrent(backend.id);
    const fromSample = this.#feed.replayFrom();
    const rate = this.#feed.sampleRate;
    const offsetSec = rate === 0 ? 0 : fromSample / rate;
    const local = new AbortController();
    const signal = this.#signal;
    const sig = signal ? AbortSignal.any([signal, local.signal]) : local.signal;
    let active = true;
    const input = this.#feed.reader(fromSample, () => active);
    const it = backend.transcribeStream(input, { ...this.#config, abortSignal: sig })[Symbol.asyncIterator]();
    let fatal: TranscriptionEvent | undefined;
    try {
      for (;;) {
        const step = await it.next();
        if (step.done === true) {
          // A backend that ends without `end`: end here.
          yield await this.#finish(backend.id);
          return undefined;
        }
        const ev = step.value;
        if (ev.type === 'partial') {
          yield { ...ev, start: ev.start + offsetSec, end: ev.end + offsetSec };
        } else if (ev.type === 'final') {
          const kept = this.#dedupe.accept(shiftSegment(ev.segment, offsetSec));
          if (kept === undefined) continue;
          this.#finals.push(kept);
          this.#feed.commit(this.#dedupe.cutoffSec);
          backends.noteResult(role);
          yield { type: 'final', segment: kept };
          // Back to the preferred backend once it is healthy again.
          const preferred = this.#preferred;
          if (this.#limits.restore && role !== preferred && this.#switches < this.#limits.maxSwitches && backends.restored(preferred, this.#okProbesAtFailure)) {
            return { role: preferred, kind: 'restore', reason: `${backends.get(preferred).id} is healthy again` };
          }
        } else if (ev.type === 'diarization') {
          yield { ...ev, turns: ev.turns.map((t) => ({ ...t, start: t.start + offsetSec, end: t.end + offsetSec })) };
        } else if (ev.type === 'warning') {
          this.warnings.push(ev.warning);
          yield ev;
        } else if (ev.type === 'error') {
          if (ev.recoverable) yield ev;
          else fatal = ev;
        } else {
          backends.noteResult(role);
          yield await this.#finish(backend.id);
          return undefined;
        }
      }
    } catch (e) {
      const err = toAbortError(signal, e);
      if (AbortedError.isInstance(err) && signal?.aborted) throw err;
      // The caller's audio failed (or was malformed): no other backend would do better.
      if (this.#feed.sourceFailed) {
        const sourceError = this.#feed.sourceError;
        if (fatal !== undefined) yield fatal;
        throw ASRError.isInstance(sourceError) ? sourceError : err;
      }
      backends.noteResult(role, err);
      const to = canFailOver(err) && this.#switches < this.#limits.maxSwitches ? await backends.fallbackFor(role, signal) : undefined;
      if (to === undefined) {
        if (fatal !== undefined) yield fatal;
        throw err;
      }
      if (role === this.#preferred) this.#okProbesAtFailure = backends.okProbeCount();
      return { role: to, kind: 'failover', reason: `${backend.id} failed: ${errorText(err)}`, error: err as Error };
    } finally {
      active = false;
      local.abort();
      if (it.return !== undefined) void Promise.resolve(it.return()).catch(() => undefined);
    }
  }

  /** Moves the stream from backend `fromId` to `next.role`: events, warning, config, dedupe. */
  async *#switch(fromId: string, next: Switch): AsyncGenerator<TranscriptionEvent> {
    this.#switches++;
    const to = this.#ctx.backends.get(next.role);
    const rate = this.#feed.sampleRate;
    const atSec = rate === 0 ? 0 : this.#feed.replayFrom() / rate;
    this.#ctx.emit('backend-switch', {
      from: fromId,
      to: to.id,
      kind: next.kind,
      reason: next.reason,
      atSec,
      ...(next.error !== undefined ? { error: next.error } : {}),
    });
    if (next.kind === 'failover') {
      const w: TranscriptionWarning = { type: 'fallback', from: fromId, to: to.id, reason: next.reason };
      this.warnings.push(w);
      this.#ctx.emit('warning', w);
      yield { type: 'warning', warning: w };
    }
    this.#role = next.role;
    this.#config = fitLanguage(to.capabilities, this.#config);
    this.#dedupe.armAfterSwitch();
  }

  /** The `end` event; in dual mode, after comparing with the other side's transcript. */
  async #finish(backendId: string): Promise<TranscriptionEvent> {
    const feed = this.#feed;
    const cfg = this.#config;
    const transcription: Transcription = {
      text: this.#finals.map((s) => s.text.trim()).filter((t) => t !== '').join(' '),
      segments: [...this.#finals],
      ...(cfg.language !== undefined ? { language: cfg.language } : {}),
      durationSec: feed.totalSec,
      processingTimeSec: (performance.now() - this.#started) / 1000,
      backend: backendId,
      warnings: [...this.warnings],
    };
    if (this.#dualTask !== undefined) {
      const other = await this.#dualTask.catch(() => undefined);
      if (other !== undefined) this.#ctx.compared(compareTranscriptions(transcription, other));
    }
    return { type: 'end', durationSec: feed.totalSec, transcription };
  }
}

/** `seg` moved by `offset` seconds (a backend started mid-stream counts from its replay point). */
function shiftSegment(seg: Segment, offset: number): Segment {
  if (offset === 0) return seg;
  return {
    ...seg,
    start: seg.start + offset,
    end: seg.end + offset,
    words: seg.words.map((w) => ({ ...w, start: w.start + offset, end: w.end + offset })),
  };
}
