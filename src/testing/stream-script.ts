import { StreamInterruptedError } from '../errors/index.js';
import type { Segment, SpeakerInfo, StreamConfig, Transcription, TranscriptionEvent, Word } from '../spec/index.js';
import type { ScriptedWord, StreamFailure, TestScript } from './types.js';

/** Builds the events of one stream from the script and the audio received. */
export class StreamState {
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

export function clipWords(words: readonly ScriptedWord[], durationSec: number): ScriptedWord[] {
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

export function groupSegments(words: readonly ScriptedWord[], gapSec: number, diarize: boolean, wordTimestamps: boolean): Segment[] {
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

export function speakerInfo(segments: readonly Segment[]): SpeakerInfo[] {
  const totals = new Map<string, number>();
  for (const s of segments) if (s.speaker !== undefined) totals.set(s.speaker, (totals.get(s.speaker) ?? 0) + (s.end - s.start));
  return [...totals].map(([id, totalSec]) => ({ id, totalSec }));
}

