import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCues, srtPrefix } from '../../src/format/cues.js';
import { toSrt, toVtt } from '../../src/format/index.js';
import type { Segment, Transcription } from '../../src/spec/index.js';

const wordText = fc.stringMatching(/^[a-z]{1,14}$/);
const speaker = fc.option(fc.constantFrom('S1', 'S2', 'S10'), { nil: undefined });

/** A segment with either timed words or text only; segments may overlap their neighbours. */
const segment = fc
  .record({
    start: fc.double({ min: 0, max: 500, noNaN: true }),
    gaps: fc.array(fc.tuple(fc.double({ min: 0, max: 2, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true })), { minLength: 1, maxLength: 40 }),
    texts: fc.array(wordText, { minLength: 40, maxLength: 40 }),
    timed: fc.boolean(),
    speaker,
    wordSpeakers: fc.array(speaker, { minLength: 40, maxLength: 40 }),
  })
  .map(({ start, gaps, texts, timed, speaker, wordSpeakers }): Segment => {
    let t = start;
    const words = gaps.map(([gap, len], i) => {
      const s = t + gap;
      t = s + len;
      const w = { word: texts[i]!, start: s, end: t };
      const sp = wordSpeakers[i];
      return sp === undefined ? w : { ...w, speaker: sp };
    });
    const base = { start, end: t, text: words.map((w) => w.word).join(' '), words: timed ? words : [] };
    return speaker === undefined ? base : { ...base, speaker };
  });

const transcription = fc.array(segment, { maxLength: 8 }).map(
  (segments): Transcription => ({
    text: segments.map((s) => s.text).join(' '),
    segments,
    durationSec: 1000,
    processingTimeSec: 0,
    backend: 'test',
    warnings: [],
  }),
);

const options = fc.record({
  maxLineChars: fc.integer({ min: 1, max: 60 }),
  maxLines: fc.integer({ min: 1, max: 4 }),
  maxCueSec: fc.double({ min: 0.1, max: 20, noNaN: true }),
  speakerLabels: fc.boolean(),
});

describe('caption cues (property)', () => {
  it('are ordered, non-overlapping, cover every word once, and respect line limits', () => {
    fc.assert(
      fc.property(transcription, options, fc.constantFrom('srt' as const, 'vtt' as const), (t, o, format) => {
        const cues = buildCues(t, format, o);
        // Every word exactly once, in order (segments taken by start time, as captions are).
        const expected = [...t.segments].sort((a, b) => a.start - b.start).flatMap((s) => s.text.split(' ').filter(Boolean));
        expect(cues.flatMap((c) => c.words)).toEqual(expected);
        for (let i = 0; i < cues.length; i++) {
          const c = cues[i]!;
          expect(Number.isInteger(c.startMs) && Number.isInteger(c.endMs)).toBe(true);
          expect(c.startMs).toBeGreaterThanOrEqual(0);
          expect(c.endMs).toBeGreaterThanOrEqual(c.startMs);
          if (i > 0) expect(c.startMs).toBeGreaterThanOrEqual(cues[i - 1]!.endMs);
          expect(c.lines.join(' ')).toBe(c.words.join(' '));
          expect(c.lines.length).toBeLessThanOrEqual(o.maxLines);
          c.lines.forEach((line, li) => {
            const shown = (li === 0 && format === 'srt' ? srtPrefix(c.speaker) : '') + line;
            if (line.includes(' ')) expect(shown.length).toBeLessThanOrEqual(o.maxLineChars);
          });
          if (!o.speakerLabels) expect(c.speaker).toBeUndefined();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keep cues within maxCueSec unless one word is longer (word timestamps)', () => {
    fc.assert(
      fc.property(transcription, options, (t, o) => {
        const timed: Transcription = { ...t, segments: t.segments.filter((s) => s.words.length > 0) };
        const cues = buildCues(timed, 'vtt', o);
        for (const c of cues) {
          if (c.words.length > 1) expect(c.endMs - c.startMs).toBeLessThanOrEqual(Math.round(o.maxCueSec * 1000) + 1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('render to SRT/VTT whose timestamps parse back in order', () => {
    fc.assert(
      fc.property(transcription, options, (t, o) => {
        const parse = (s: string): number => {
          const m = /^(\d{2,}):(\d{2}):(\d{2})[.,](\d{3})$/.exec(s);
          expect(m).not.toBeNull();
          return ((Number(m![1]) * 60 + Number(m![2])) * 60 + Number(m![3])) * 1000 + Number(m![4]);
        };
        for (const out of [toSrt(t, o), toVtt(t, o)]) {
          const times = [...out.matchAll(/^(\S+) --> (\S+)$/gm)].flatMap((m) => [parse(m[1]!), parse(m[2]!)]);
          for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
          expect(out).not.toMatch(/\n\n\n/);
        }
      }),
      { numRuns: 100 },
    );
  });
});
