import type { Transcription } from '../spec/index.js';
import { resolveTextOptions, type TextFormatOptions } from './options.js';
import { checkTranscription } from './validate.js';

/**
 * Plain text. Without speakers: the transcript's `text`. With speakers (segments carrying
 * `speaker`) and `speakerLabels` on: one line per speaker turn, `S1: …`, a new line whenever the
 * speaker changes. Ends with a newline unless there is no text at all.
 *
 * @throws InvalidArgumentError for a malformed transcription or option.
 */
export function toText(t: Transcription, options?: TextFormatOptions): string {
  const o = resolveTextOptions(options);
  checkTranscription(t);
  const hasSpeakers = t.segments.some((s) => s.speaker !== undefined);
  if (!o.speakerLabels || !hasSpeakers) {
    const text = t.text.trim();
    return text === '' ? '' : `${text}\n`;
  }
  const lines: string[] = [];
  let speaker: string | undefined;
  let parts: string[] = [];
  const flush = (): void => {
    if (parts.length === 0) return;
    const body = parts.join(' ');
    lines.push(speaker === undefined ? body : `${speaker}: ${body}`);
    parts = [];
  };
  const segments = [...t.segments].sort((a, b) => a.start - b.start);
  for (const seg of segments) {
    const text = seg.text.replace(/\s+/g, ' ').trim();
    if (text === '') continue;
    if (seg.speaker !== speaker) {
      flush();
      speaker = seg.speaker;
    }
    parts.push(text);
  }
  flush();
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
