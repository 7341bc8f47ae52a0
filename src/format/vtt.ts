import type { Transcription } from '../spec/index.js';
import { buildCues } from './cues.js';
import type { CaptionOptions } from './options.js';
import { formatTimestampMs } from './timestamp.js';

/** Escapes the characters WebVTT cue text can't hold literally (`&`, `<`, `>`; so `-->` too). */
function escapeVtt(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * WebVTT captions: `WEBVTT` header, `HH:MM:SS.mmm --> HH:MM:SS.mmm`, speakers as `<v S1>` voice
 * spans. Long segments are split into several cues (see {@link buildCues}).
 *
 * @throws InvalidArgumentError for a malformed transcription or option.
 */
export function toVtt(t: Transcription, options?: CaptionOptions): string {
  const cues = buildCues(t, 'vtt', options);
  const body = cues.map((c) => {
    const lines = c.lines.map(escapeVtt);
    if (c.speaker !== undefined) lines[0] = `<v ${escapeVtt(c.speaker)}>${lines[0] ?? ''}`;
    return `${formatTimestampMs(c.startMs, '.')} --> ${formatTimestampMs(c.endMs, '.')}\n${lines.join('\n')}\n`;
  });
  return ['WEBVTT\n', ...body].join('\n');
}
