import type { Word } from '../spec/index.js';
import { round3, toSegments } from './committed.js';
import type { LiveEvent, TickEvent } from './events.js';
import type { LiveMetrics, TickWork } from './metrics.js';
import type { LiveSpeakers } from './speakers.js';
import type { PcmSpool } from './spool.js';
import type { SpoolJournal } from './spool-format.js';

/**
 * What both live modes share: the commit frontier, the words committed (logged durably, then
 * emitted as `final` segments), the tick count and the journal that records them, and the one way
 * a tick is counted and reported (`tick`, then `lag` when behind).
 * @internal
 */
export class LiveLedger {
  readonly #spool: PcmSpool;
  readonly #speakers: LiveSpeakers;
  readonly #metrics: LiveMetrics;
  readonly #send: (e: LiveEvent) => void;
  readonly #intervalSec: number;
  #frontierSec = 0;
  #lastProcessedByte = 0;
  #emittedWords = 0;
  #tickIndex = 0;

  /** @param send - emits an event of the processor; @param intervalSec - the processor's tick interval (lag threshold). */
  constructor(spool: PcmSpool, speakers: LiveSpeakers, metrics: LiveMetrics, send: (e: LiveEvent) => void, intervalSec: number) {
    this.#spool = spool;
    this.#speakers = speakers;
    this.#metrics = metrics;
    this.#send = send;
    this.#intervalSec = intervalSec;
  }

  /** Commit frontier (seconds): nothing before it is decoded again. */
  get frontierSec(): number {
    return this.#frontierSec;
  }

  /** Spool byte up to which audio was decoded. */
  get lastProcessedByte(): number {
    return this.#lastProcessedByte;
  }

  set lastProcessedByte(byte: number) {
    this.#lastProcessedByte = byte;
  }

  /** Words committed so far (including those of a crashed session this one recovered). */
  get emittedWords(): number {
    return this.#emittedWords;
  }

  /** Ticks so far (a recovered session continues the journal's count). */
  get ticks(): number {
    return this.#tickIndex;
  }

  /** Puts the frontier at `sec` (also backwards: a window that lost its context restarts there). */
  resetFrontier(sec: number): void {
    this.#frontierSec = sec;
  }

  /** Takes over the state a crashed session left (from its journal and commit log). */
  restore(state: { readonly frontierSec: number; readonly lastProcessedByte: number; readonly emittedWords: number; readonly ticks: number }): void {
    this.#frontierSec = state.frontierSec;
    this.#lastProcessedByte = state.lastProcessedByte;
    this.#emittedWords = state.emittedWords;
    this.#tickIndex = state.ticks;
  }

  /** Logs the words durably, then emits them as `final` segments. Returns how many. */
  async commit(words: readonly Word[], frontier: number, processedByte: number): Promise<number> {
    const moved = frontier > this.#frontierSec;
    if (words.length === 0 && !moved) return 0;
    this.#frontierSec = Math.max(this.#frontierSec, frontier);
    if (words.length === 0) return 0;
    const rounded = this.#speakers.label(words).map((w) => ({ ...w, start: round3(w.start), end: round3(w.end) }));
    await this.#spool.appendCommit({
      frontier: this.#frontierSec,
      processedByte,
      words: rounded.map((w) => (w.speaker === undefined ? [w.word, w.start, w.end] as const : [w.word, w.start, w.end, w.speaker] as const)),
    });
    this.#emittedWords += words.length;
    this.#speakers.note(rounded);
    for (const seg of toSegments(rounded)) this.#send({ type: 'final', segment: seg });
    return words.length;
  }

  /** Counts a tick's work in the totals and returns the tick's index. */
  countTick(work: TickWork): number {
    this.#metrics.countTick(work);
    return this.#tickIndex++;
  }

  /** Writes the journal: how far audio was decoded and committed, and the tick count. */
  writeJournal(): Promise<SpoolJournal> {
    return this.#spool.writeJournal({
      lastProcessedByte: this.#lastProcessedByte,
      committedUntilSec: this.#frontierSec,
      emittedWords: this.#emittedWords,
      ticks: this.#tickIndex,
    });
  }

  /** Emits the tick and, when it fell an interval behind (not at the final tick), a `lag` event. */
  reportTick(tick: TickEvent, lagSec: number, final: boolean): void {
    this.#metrics.noteLag(lagSec);
    this.#send(tick);
    if (!final && lagSec >= this.#intervalSec) {
      this.#metrics.countLagEvent();
      this.#send({ type: 'lag', lagSec: round3(lagSec), processingSec: tick.processingSec, intervalSec: this.#intervalSec, tick: tick.index });
    }
  }
}
