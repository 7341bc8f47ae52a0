/**
 * Output formats: plain text, JSON, SubRip (SRT) and WebVTT captions.
 *
 * @module
 */
import type { Transcription } from '../spec/index.js';
import { checkFormat, resolveFormatOptions, type FormatOptions, type OutputFormat } from './options.js';
import { toJson } from './json.js';
import { toSrt } from './srt.js';
import { toText } from './text.js';
import { toVtt } from './vtt.js';

export { buildCues } from './cues.js';
export type { CaptionFormat, Cue } from './cues.js';
export { OUTPUT_FORMATS } from './options.js';
export type { CaptionOptions, FormatOptions, JsonFormatOptions, OutputFormat, TextFormatOptions } from './options.js';
export { toJson, toSrt, toText, toVtt };

/**
 * Writes a transcription in one of the {@link OUTPUT_FORMATS}. Every option is validated eagerly,
 * including those the chosen format does not read.
 *
 * @example
 * ```ts
 * await writeFile('talk.vtt', formatTranscription(result, 'vtt', { maxLineChars: 32 }));
 * ```
 * @param t - the transcription.
 * @param format - `'text'`, `'json'`, `'srt'` or `'vtt'`.
 * @param options - options of every format; each reads its own.
 * @throws InvalidArgumentError for an unknown format, a bad option or a malformed transcription.
 */
export function formatTranscription(t: Transcription, format: OutputFormat, options?: FormatOptions): string {
  checkFormat(format);
  const o = resolveFormatOptions(options);
  const text = { speakerLabels: o.speakerLabels };
  const captions = { speakerLabels: o.speakerLabels, maxLineChars: o.maxLineChars, maxLines: o.maxLines, maxCueSec: o.maxCueSec };
  switch (format) {
    case 'text':
      return toText(t, text);
    case 'json':
      return toJson(t, { pretty: o.pretty });
    case 'srt':
      return toSrt(t, captions);
    case 'vtt':
      return toVtt(t, captions);
  }
}
/** @internal The JSON replacer that rounds times (the CLI's JSON output). */
export { roundTimesReplacer } from './json.js';
