import type { Segment, Transcription } from '../spec/index.js';
import { resolveCaptionOptions, type CaptionOptions, type ResolvedCaptionOptions } from './options.js';
import { checkTranscription } from './validate.js';

/** One caption cue, laid out and timed. */
export interface Cue {
  /** Start in whole milliseconds. Cues are ordered by start. */
  readonly startMs: number;
  /** End in whole milliseconds; `startMs <= endMs <=` the next cue's `startMs`. */
  readonly endMs: number;
  /** The cue's text lines (without speaker markup). */
  readonly lines: readonly string[];
  /** Speaker of every word in the cue, when known and `speakerLabels` is on. */
  readonly speaker?: string | undefined;
  /** The words of the cue, in order (each transcript word is in exactly one cue). */
  readonly words: readonly string[];
}

/** Which caption syntax the cues are laid out for (SRT's `[S1] ` prefix takes room on line one). */
export type CaptionFormat = 'srt' | 'vtt';

interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly speaker: string | undefined;
}

interface DraftCue {
  readonly tokens: Token[];
  readonly start: number;
  end: number;
  readonly speaker: string | undefined;
}

/** Length of the visible speaker prefix on a cue's first line. @internal */
export function srtPrefix(speaker: string | undefined): string {
  return speaker === undefined ? '' : `[${speaker}] `;
}

/**
 * Splits a transcription into caption cues: at most `maxLines` lines of at most `maxLineChars`
 * characters and at most `maxCueSec` seconds each, broken at word boundaries and at speaker changes.
 * Cue times come from word timestamps when a segment has words, else from the segment's span shared
 * out in proportion to characters. Times are rounded to milliseconds so that cues stay ordered and
 * never overlap.
 *
 * @param t - the transcription.
 * @param format - `'srt'` counts the visible `[S1] ` prefix against the first line; `'vtt'` does not
 *   (its `<v S1>` voice span is markup).
 * @param options - layout options, validated eagerly.
 * @throws InvalidArgumentError for a malformed transcription or option.
 */
export function buildCues(t: Transcription, format: CaptionFormat, options?: CaptionOptions): Cue[] {
  const o = resolveCaptionOptions(options);
  checkTranscription(t);
  const prefixLen = (speaker: string | undefined): number => (format === 'srt' ? srtPrefix(speaker).length : 0);
  const drafts: DraftCue[] = [];
  const segments = [...t.segments].sort((a, b) => a.start - b.start);
  for (const seg of segments) {
    const tokens = segmentTokens(seg, o.speakerLabels);
    splitIntoCues(tokens, o, prefixLen, drafts);
  }
  return finish(drafts, o, prefixLen);
}

/** The displayable words of a segment, timed. */
function segmentTokens(seg: Segment, withSpeakers: boolean): Token[] {
  const clean = (s: string): string => s.replace(/\s+/g, ' ').trim();
  const segSpeaker = withSpeakers ? seg.speaker : undefined;
  const words = (seg.words ?? []).filter((w) => clean(w.word) !== '');
  const textTokens = seg.text.split(/\s+/).filter((s) => s !== '');
  if (words.length > 0) {
    // Prefer the segment text's spelling (punctuation, casing) when it lines up word for word.
    const useText = textTokens.length === words.length;
    return words.map((w, i) => ({
      text: useText ? textTokens[i]! : clean(w.word),
      start: w.start,
      end: w.end,
      speaker: withSpeakers ? (w.speaker ?? segSpeaker) : undefined,
    }));
  }
  if (textTokens.length === 0) return [];
  const joinedLen = textTokens.reduce((n, s) => n + s.length, 0) + textTokens.length - 1;
  const span = seg.end - seg.start;
  const tokens: Token[] = [];
  let offset = 0;
  for (const text of textTokens) {
    tokens.push({
      text,
      start: seg.start + (span * offset) / joinedLen,
      end: seg.start + (span * (offset + text.length)) / joinedLen,
      speaker: segSpeaker,
    });
    offset += text.length + 1;
  }
  return tokens;
}

/** Greedy packing of a segment's tokens into cues; appends to `out`. */
function splitIntoCues(
  tokens: readonly Token[],
  o: ResolvedCaptionOptions,
  prefixLen: (speaker: string | undefined) => number,
  out: DraftCue[],
): void {
  let cue: DraftCue | undefined;
  let lineIndex = 0;
  let lineLen = 0;
  for (const tok of tokens) {
    if (cue !== undefined) {
      const sameSpeaker = tok.speaker === cue.speaker;
      const duration = Math.max(cue.end, tok.end) - cue.start;
      let nextLine = lineIndex;
      let nextLen = lineLen + 1 + tok.text.length;
      const width = o.maxLineChars - (lineIndex === 0 ? prefixLen(cue.speaker) : 0);
      if (nextLen > width) {
        nextLine = lineIndex + 1;
        nextLen = tok.text.length;
      }
      if (sameSpeaker && duration <= o.maxCueSec && nextLine < o.maxLines) {
        cue.tokens.push(tok);
        cue.end = Math.max(cue.end, tok.end);
        lineIndex = nextLine;
        lineLen = nextLen;
        continue;
      }
    }
    cue = { tokens: [tok], start: tok.start, end: tok.end, speaker: tok.speaker };
    out.push(cue);
    lineIndex = 0;
    lineLen = tok.text.length;
  }
}

/**
 * Lays a cue's words out on as few lines as they need (at most `lines`), then balances them by
 * minimising the longest line. A line of several words never exceeds its width; a single
 * over-long word may.
 */
function balanceLines(words: readonly string[], lines: number, firstWidth: number, width: number, prefix: number): string[] {
  const n = words.length;
  const k = Math.min(lines, n);
  // lenOf(i, j): characters of words[i..j) joined by spaces.
  const cum = [0];
  for (const w of words) cum.push(cum[cum.length - 1]! + w.length);
  const lenOf = (i: number, j: number): number => cum[j]! - cum[i]! + (j - i - 1);
  const cost = (line: number, i: number, j: number): number => {
    const len = lenOf(i, j);
    const w = line === 0 ? firstWidth : width;
    if (j - i > 1 && len > w) return Infinity;
    return len + (line === 0 ? prefix : 0);
  };
  // best[l][j]: minimal max-line cost laying words[0..j) on lines 0..l.
  const best: number[][] = [];
  const cut: number[][] = [];
  for (let l = 0; l < k; l++) {
    best.push(new Array<number>(n + 1).fill(Infinity));
    cut.push(new Array<number>(n + 1).fill(-1));
    for (let j = l + 1; j <= n; j++) {
      if (l === 0) {
        best[0]![j] = cost(0, 0, j);
        cut[0]![j] = 0;
        continue;
      }
      for (let i = l; i < j; i++) {
        const c = Math.max(best[l - 1]![i]!, cost(l, i, j));
        if (c < best[l]![j]!) {
          best[l]![j] = c;
          cut[l]![j] = i;
        }
      }
    }
  }
  // As few lines as the words need, balanced within that count.
  let useLines = k;
  for (let l = 0; l < k; l++) {
    if (best[l]![n]! < Infinity) {
      useLines = l + 1;
      break;
    }
  }
  const out: string[] = [];
  let j = n;
  for (let l = useLines - 1; l >= 0; l--) {
    const i = cut[l]![j]!;
    out.unshift(words.slice(i, j).join(' '));
    j = i;
  }
  return out;
}

/** Rounds to milliseconds, keeps cues ordered and non-overlapping, and lays out lines. */
function finish(
  drafts: readonly DraftCue[],
  o: ResolvedCaptionOptions,
  prefixLen: (speaker: string | undefined) => number,
): Cue[] {
  const starts: number[] = [];
  let prev = 0;
  for (const d of drafts) {
    prev = Math.max(prev, Math.round(d.start * 1000));
    starts.push(prev);
  }
  return drafts.map((d, i) => {
    const startMs = starts[i]!;
    const nextStart = starts[i + 1] ?? Infinity;
    const endMs = Math.min(Math.max(Math.round(d.end * 1000), startMs), nextStart);
    const words = d.tokens.map((t) => t.text);
    const prefix = prefixLen(d.speaker);
    const lines = balanceLines(words, o.maxLines, o.maxLineChars - prefix, o.maxLineChars, prefix);
    return d.speaker === undefined
      ? { startMs, endMs, lines, words }
      : { startMs, endMs, lines, words, speaker: d.speaker };
  });
}
