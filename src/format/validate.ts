import { InvalidArgumentError } from '../errors/index.js';
import type { Transcription } from '../spec/index.js';

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/**
 * Checks the parts of a transcription the formatters read: strings where text is expected, times
 * finite and >= 0, `end >= start`. Throws an `InvalidArgumentError` naming the offending field.
 * @internal
 */
export function checkTranscription(t: unknown): asserts t is Transcription {
  if (typeof t !== 'object' || t === null) {
    throw new InvalidArgumentError(`the transcription must be an object, got ${t === null ? 'null' : typeof t}`);
  }
  const tr = t as Partial<Transcription>;
  if (typeof tr.text !== 'string') throw new InvalidArgumentError('`transcription.text` must be a string');
  if (!Array.isArray(tr.segments)) throw new InvalidArgumentError('`transcription.segments` must be an array');
  tr.segments.forEach((s: unknown, i) => {
    const where = `transcription.segments[${i}]`;
    if (typeof s !== 'object' || s === null) throw new InvalidArgumentError(`\`${where}\` must be an object`);
    const seg = s as Record<string, unknown>;
    checkSpan(where, seg);
    if (typeof seg.text !== 'string') throw new InvalidArgumentError(`\`${where}.text\` must be a string`);
    if (seg.speaker !== undefined && typeof seg.speaker !== 'string') {
      throw new InvalidArgumentError(`\`${where}.speaker\` must be a string`);
    }
    const words = seg.words === undefined ? [] : seg.words;
    if (!Array.isArray(words)) throw new InvalidArgumentError(`\`${where}.words\` must be an array`);
    words.forEach((w: unknown, j) => {
      const wWhere = `${where}.words[${j}]`;
      if (typeof w !== 'object' || w === null) throw new InvalidArgumentError(`\`${wWhere}\` must be an object`);
      const word = w as Record<string, unknown>;
      checkSpan(wWhere, word);
      if (typeof word.word !== 'string') throw new InvalidArgumentError(`\`${wWhere}.word\` must be a string`);
      if (word.speaker !== undefined && typeof word.speaker !== 'string') {
        throw new InvalidArgumentError(`\`${wWhere}.speaker\` must be a string`);
      }
    });
  });
}

function checkSpan(where: string, o: Record<string, unknown>): void {
  if (!isTime(o.start)) throw new InvalidArgumentError(`\`${where}.start\` must be a finite number >= 0, got ${String(o.start)}`);
  if (!isTime(o.end)) throw new InvalidArgumentError(`\`${where}.end\` must be a finite number >= 0, got ${String(o.end)}`);
  if (o.end < o.start) {
    throw new InvalidArgumentError(`\`${where}.end\` (${o.end}) must not be before its start (${o.start})`);
  }
}
