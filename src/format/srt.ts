import type { Transcription } from '../spec/index.js';
import { buildCues, srtPrefix } from './cues.js';
import type { CaptionOptions } from './options.js';
import { formatTimestampMs } from './timestamp.js';

/**
 * SubRip (SRT) captions: numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, speakers as a `[S1] `
 * prefix. Long segments are split into several cues (see {@link buildCues}).
 *
 * @throws InvalidArgumentError for a malformed transcription or option.
 */
export function toSrt(t: Transcription, options?: CaptionOptions): string {
  const cues = buildCues(t, 'srt', options);
  return cues
    .map((c, i) => {
      const [first = '', ...rest] = c.lines;
      const text = [`${srtPrefix(c.speaker)}${first}`, ...rest].join('\n');
      return `${i + 1}\n${formatTimestampMs(c.startMs, ',')} --> ${formatTimestampMs(c.endMs, ',')}\n${text}\n`;
    })
    .join('\n');
}
