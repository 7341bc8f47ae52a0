import type { Transcription } from '../spec/index.js';
import { resolveJsonOptions, type JsonFormatOptions } from './options.js';
import { checkTranscription } from './validate.js';

const TRANSCRIPTION_KEYS = ['text', 'segments', 'speakers', 'speakerTurns', 'language', 'durationSec', 'processingTimeSec', 'backend', 'warnings'];
const SEGMENT_KEYS = ['start', 'end', 'text', 'confidence', 'speaker', 'words'];
const WORD_KEYS = ['word', 'start', 'end', 'confidence', 'speaker'];
const SPEAKER_KEYS = ['id', 'totalSec'];
const TURN_KEYS = ['speaker', 'start', 'end'];

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
 * The transcription as JSON, unchanged apart from key order: the spec's order for `Transcription`,
 * `Segment`, `Word`, `SpeakerInfo` and `SpeakerTurn` keys (unknown keys follow, untouched), so that the output of
 * two backends can be diffed. Ends with a newline.
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
  return `${JSON.stringify(value, null, o.pretty ? 2 : undefined)}\n`;
}
