import type { SpeakerTurn, Word } from '../spec/index.js';
import { reconcileSpeakers } from '../diarization/index.js';
import { SEGMENT_GAP_SEC } from './committed.js';
import type { LiveEvent } from './events.js';

/**
 * The live speaker turns of a session: those of a live diarizer (emitted as `diarization` events,
 * they label the committed words), or else those the backend's own word labels make; `stop()`
 * maps them onto the final labels.
 * @internal
 */
export class LiveSpeakers {
  readonly #turns: SpeakerTurn[] = [];
  readonly #fromDiarizer: boolean;
  readonly #send: (e: LiveEvent) => void;

  /**
   * @param fromDiarizer - whether a live diarizer gives the turns (else the words' own labels do).
   * @param send - emits an event of the processor.
   */
  constructor(fromDiarizer: boolean, send: (e: LiveEvent) => void) {
    this.#fromDiarizer = fromDiarizer;
    this.#send = send;
  }

  /** Whether there is any live turn. */
  get any(): boolean {
    return this.#turns.length > 0;
  }

  /** Adds the live diarizer's new turns and emits them as a `diarization` event. */
  addTurns(turns: readonly SpeakerTurn[]): void {
    if (turns.length === 0) return;
    this.#turns.push(...turns);
    this.#send({ type: 'diarization', turns });
  }

  /** Labels words with the live turn they overlap most (when live diarization runs). */
  label(words: readonly Word[]): Word[] {
    if (!this.#fromDiarizer || this.#turns.length === 0) return [...words];
    return words.map((w) => {
      let best: string | undefined;
      let bestOv = 0;
      for (let i = this.#turns.length - 1; i >= 0; i--) {
        const t = this.#turns[i]!;
        if (t.end < w.start - 30) break;
        const ov = Math.min(t.end, w.end) - Math.max(t.start, w.start);
        if (ov > bestOv) [best, bestOv] = [t.speaker, ov];
      }
      return best === undefined || w.speaker !== undefined ? w : { ...w, speaker: best };
    });
  }

  /** Extends the turns with committed words' own speaker labels (without a live diarizer). */
  note(words: readonly Word[]): void {
    if (this.#fromDiarizer) return; // the diarizer's own turns are the live turns
    for (const w of words) {
      if (w.speaker === undefined) continue;
      const lastTurn = this.#turns[this.#turns.length - 1];
      if (lastTurn && lastTurn.speaker === w.speaker && w.start - lastTurn.end < SEGMENT_GAP_SEC) {
        this.#turns[this.#turns.length - 1] = { ...lastTurn, end: w.end };
      } else {
        this.#turns.push({ speaker: w.speaker, start: w.start, end: w.end });
      }
    }
  }

  /** Live label → final label, for the `speaker-remap` event. */
  remap(finalTurns: readonly SpeakerTurn[]): Record<string, string> {
    return reconcileSpeakers(this.#turns, finalTurns);
  }
}
