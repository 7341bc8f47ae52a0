import type { Transcription } from '../spec/index.js';
import { resolveJsonOptions, type JsonFormatOptions } from './options.js';
import { checkTranscription } from './validate.js';

const TRANSCRIPTION_KEYS = ['text', 'segments', 'speakers', 'speakerTurns', 'language', 'durationSec', 'processingTimeSec', 'backend', 'warnings'];
const SEGMENT_KEYS = ['start', 'end', 'text', 'confidence', 'speaker', 'words'];
const WORD_KEYS = ['word', 'start', 'end', 'confidence', 'speaker'];
const SPEAKER_KEYS = ['id', 'totalSec'];
const TURN_KEYS = ['speaker', 'start', 'end'];

/** Whether a JSON key holds a time in seconds: `start`, `end`, and every key ending in `Sec`. */
function isTimeKey(key: string): boolean {
  return key === 'start' || key === 'end' || key.endsWith('Sec');
}

/**
 * `JSON.stringify` replacer that rounds times in seconds to the millisecond (`0.19999999999999998`
 * becomes `0.2`); other numbers pass unchanged. Used for every JSON the package writes.
 */
export function roundTimesReplacer(key: string, value: unknown): unknown {
  return typeof value === 'number' && Number.isFinite(value) && isTimeKey(key) ? Math.round(value * 1000) / 1000 : value;
}

/** Copies `o` with `keys` first, in that order, then any other keys in their own order. */
function ordered(o: object, keys: readonly string[], nested?: Record<string, (v: unknown) => unknown>): Record<string, unknown> {
  const src = o as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (src[k] !== undefined) out[k] = src[k];
  for (const k of Object.keys(src)) if (!(k in out) && src[k] !== undefined) out[k] = src[k];
  if (nested) for (const [k, f] of Object.entries(nested)) if (out[k] !== undefined) out[k] = f(out[k]);
  return out;
}

/**
 * The transcription as JSON, unchanged apart from key order and rounding: the spec's order for
 * `Transcription`, `Segment`, `Word`, `SpeakerInfo` and `SpeakerTurn` keys (unknown keys follow,
 * untouched), so that the output of two backends can be diffed; times in seconds (`start`, `end`,
 * `…Sec`) rounded to the millisecond. Ends with a newline.
 *
 * @throws InvalidArgumentError for a malformed transcription or option.
 */
export function toJson(t: Transcription, options?: JsonFormatOptions): string {
  const o = resolveJsonOptions(options);
  checkTranscription(t);
  const value = ordered(t, TRANSCRIPTION_KEYS, {
    segments: (segs) =>
      (segs as object[]).map((s) =>
        ordered(s, SEGMENT_KEYS, { words: (ws) => (ws as object[]).map((w) => ordered(w, WORD_KEYS)) }),
      ),
    speakers: (sp) => (Array.isArray(sp) ? (sp as object[]).map((s) => ordered(s, SPEAKER_KEYS)) : sp),
    speakerTurns: (ts) => (Array.isArray(ts) ? (ts as object[]).map((x) => ordered(x, TURN_KEYS)) : ts),
  });
  return `${JSON.stringify(value, roundTimesReplacer, o.pretty ? 2 : undefined)}\n`;
}
