import type { Segment, Word } from '../../spec/index.js';
import type { SherpaResult } from '../../internal/sherpa.js';

/** Seconds a single token is taken to last when the model gives no durations. */
const TOKEN_SEC = 0.08;

/**
 * Builds the words of one decoded piece of audio from sherpa's tokens and token start times.
 * A token that begins with a space or '▁' starts a new word. Times are shifted by `offsetSec`
 * (the piece's position on the global timeline) and kept inside `[offsetSec, endSec]`.
 * Confidence is exp(mean token log-probability) where the model gives log-probabilities.
 */
function wordsFromResult(r: SherpaResult, offsetSec: number, endSec: number): Word[] {
  const tokens = r.tokens ?? [];
  const ts = r.timestamps ?? [];
  if (tokens.length === 0 || ts.length !== tokens.length) {
    // No token timing: one pseudo-word per text word, spread evenly (rare; whisper without timestamps).
    const parts = r.text.trim().split(/\s+/).filter(Boolean);
    const span = Math.max(0, endSec - offsetSec);
    return parts.map((word, i) => ({
      word,
      start: offsetSec + (span * i) / parts.length,
      end: offsetSec + (span * (i + 1)) / parts.length,
    }));
  }
  const logp = r.ys_log_probs && r.ys_log_probs.length === tokens.length ? r.ys_log_probs : undefined;
  const groups: { text: string; first: number; last: number }[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    const startsWord = i === 0 || tok.startsWith(' ') || tok.startsWith('\u2581');
    const clean = tok.replace(/\u2581/g, ' ');
    if (startsWord || groups.length === 0) groups.push({ text: clean.trim(), first: i, last: i });
    else {
      const g = groups[groups.length - 1]!;
      g.text += clean.trim();
      g.last = i;
    }
  }
  const words: Word[] = [];
  for (let k = 0; k < groups.length; k++) {
    const g = groups[k]!;
    if (g.text === '') continue;
    const start = offsetSec + ts[g.first]!;
    const dur = r.durations && r.durations.length === tokens.length ? r.durations[g.last]! : TOKEN_SEC;
    let end = offsetSec + ts[g.last]! + dur;
    const next = groups[k + 1];
    if (next) end = Math.min(end, offsetSec + ts[next.first]!);
    end = Math.min(Math.max(end, start), Math.max(endSec, start));
    const w: Word = { word: g.text, start: Math.max(offsetSec, start), end };
    if (logp) {
      let s = 0;
      for (let i = g.first; i <= g.last; i++) s += logp[i]!;
      words.push({ ...w, confidence: Math.exp(s / (g.last - g.first + 1)) });
    } else words.push(w);
  }
  return words;
}

/** A segment from one decoded piece: text from sherpa, words from its tokens. @internal */
export function segmentFromResult(r: SherpaResult, offsetSec: number, endSec: number): Segment | undefined {
  const text = r.text.trim();
  if (text === '') return undefined;
  const words = wordsFromResult(r, offsetSec, endSec);
  const start = words.length ? Math.min(words[0]!.start, offsetSec + Math.max(0, (r.timestamps?.[0] ?? 0) - 0.04)) : offsetSec;
  const end = words.length ? Math.max(words[words.length - 1]!.end, start) : endSec;
  const confs = words.map((w) => w.confidence).filter((c): c is number => c !== undefined);
  const seg: Segment = { start, end, text, words };
  return confs.length ? { ...seg, confidence: confs.reduce((a, b) => a + b, 0) / confs.length } : seg;
}
