import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors/index.js';
import { buildCues, formatTranscription, toJson, toSrt, toText, toVtt } from '../../src/format/index.js';
import type { Segment, Transcription, Word } from '../../src/spec/index.js';

function tr(segments: Segment[], extra: Partial<Transcription> = {}): Transcription {
  return {
    text: segments.map((s) => s.text).join(' '),
    segments,
    durationSec: segments.reduce((m, s) => Math.max(m, s.end), 0),
    processingTimeSec: 0.5,
    backend: 'test',
    warnings: [],
    ...extra,
  };
}

function words(text: string, start: number, step: number): Word[] {
  return text.split(' ').map((w, i) => ({ word: w, start: start + i * step, end: start + i * step + step * 0.8 }));
}

const twoSpeakers = tr([
  { start: 0, end: 1.5, text: 'hello there', speaker: 'S1', words: [] },
  { start: 1.6, end: 2.5, text: 'how are you', speaker: 'S1', words: [] },
  { start: 3, end: 4, text: 'fine thanks', speaker: 'S2', words: [] },
  { start: 4.2, end: 5, text: 'good', speaker: 'S1', words: [] },
]);

describe('toText', () => {
  it('writes the transcript text when there are no speakers', () => {
    const t = tr([
      { start: 0, end: 1, text: 'one two', words: [] },
      { start: 1, end: 2, text: 'three', words: [] },
    ]);
    expect(toText(t)).toBe('one two three\n');
    expect(formatTranscription(t, 'text')).toBe('one two three\n');
  });

  it('writes one line per speaker turn, with labels', () => {
    expect(toText(twoSpeakers)).toBe('S1: hello there how are you\nS2: fine thanks\nS1: good\n');
  });

  it('drops labels when speakerLabels is false', () => {
    expect(toText(twoSpeakers, { speakerLabels: false })).toBe('hello there how are you fine thanks good\n');
  });

  it('writes nothing for an empty transcript', () => {
    expect(toText(tr([]))).toBe('');
  });
});

describe('toJson', () => {
  it('round-trips and orders keys as the spec does, whatever the input order', () => {
    const t = {
      warnings: [{ type: 'unsupported', feature: 'diarization' }],
      backend: 'test',
      segments: [{ words: [{ end: 0.5, word: 'hi', start: 0.1 }], text: 'hi', end: 0.6, start: 0 }],
      text: 'hi',
      durationSec: 1,
      processingTimeSec: 0.1,
      custom: 42,
    } as unknown as Transcription;
    const out = toJson(t);
    expect(JSON.parse(out)).toEqual(t);
    expect(Object.keys(JSON.parse(out) as object)).toEqual([
      'text', 'segments', 'durationSec', 'processingTimeSec', 'backend', 'warnings', 'custom',
    ]);
    expect(out).toContain('{\n  "text": "hi"');
    expect(out.indexOf('"word"')).toBeLessThan(out.indexOf('"start": 0.1'));
    expect(toJson(t, { pretty: false })).not.toContain('\n  ');
    expect(toJson(t, { pretty: false }).endsWith('}\n')).toBe(true);
  });
});

describe('toSrt', () => {
  it('numbers cues and writes HH:MM:SS,mmm times', () => {
    const t = tr([{ start: 1.2345, end: 3.5, text: 'short line', words: [] }]);
    expect(toSrt(t)).toBe('1\n00:00:01,235 --> 00:00:03,500\nshort line\n');
  });

  it('prefixes speaker labels and starts a new cue on a speaker change', () => {
    const srt = toSrt(twoSpeakers);
    expect(srt).toBe(
      [
        '1\n00:00:00,000 --> 00:00:01,500\n[S1] hello there\n',
        '2\n00:00:01,600 --> 00:00:02,500\n[S1] how are you\n',
        '3\n00:00:03,000 --> 00:00:04,000\n[S2] fine thanks\n',
        '4\n00:00:04,200 --> 00:00:05,000\n[S1] good\n',
      ].join('\n'),
    );
  });

  it('handles recordings longer than 99 hours without wrapping', () => {
    const t = tr([{ start: 360_000.5, end: 360_001, text: 'late', words: [] }]);
    expect(toSrt(t)).toContain('100:00:00,500 --> 100:00:01,000');
    expect(toVtt(t)).toContain('100:00:00.500 --> 100:00:01.000');
  });

  it('splits a long segment at word boundaries using word times', () => {
    const text = 'the quick brown fox jumps over the lazy dog and keeps running far away into the night';
    const t = tr([{ start: 0, end: 20, text, words: words(text, 0, 1) }]);
    const cues = buildCues(t, 'srt', { maxLineChars: 20, maxLines: 2, maxCueSec: 100 });
    expect(cues.length).toBeGreaterThan(1);
    expect(cues.flatMap((c) => c.words).join(' ')).toBe(text);
    for (const c of cues) {
      expect(c.lines.length).toBeLessThanOrEqual(2);
      for (const l of c.lines) expect(l.length).toBeLessThanOrEqual(20);
    }
    // Times come from the words: the second cue starts where its first word starts.
    const firstOfSecond = cues[0]!.words.length;
    expect(cues[1]!.startMs).toBe(firstOfSecond * 1000);
    expect(cues[0]!.endMs).toBe(Math.round(((firstOfSecond - 1) + 0.8) * 1000));
  });

  it('splits by maxCueSec', () => {
    const text = 'a b c d e f g h';
    const t = tr([{ start: 0, end: 8, text, words: words(text, 0, 1) }]);
    const cues = buildCues(t, 'vtt', { maxCueSec: 3 });
    expect(cues.map((c) => c.words.join(' '))).toEqual(['a b c', 'd e f', 'g h']);
    for (const c of cues) expect(c.endMs - c.startMs).toBeLessThanOrEqual(3000);
  });

  it('shares a segment span by characters when there are no words', () => {
    const t = tr([{ start: 10, end: 20, text: 'aaaa bbbb', words: [] }]);
    const cues = buildCues(t, 'srt', { maxLineChars: 4, maxLines: 1 });
    expect(cues.map((c) => [c.startMs, c.endMs, c.lines])).toEqual([
      [10_000, 14_444, ['aaaa']],
      [15_556, 20_000, ['bbbb']],
    ]);
  });

  it('keeps the segment text spelling when it lines up with the words', () => {
    const t = tr([{ start: 0, end: 1, text: 'Hello, world!', words: [
      { word: 'hello', start: 0, end: 0.4 }, { word: 'world', start: 0.5, end: 1 },
    ] }]);
    expect(toSrt(t)).toContain('Hello, world!');
  });

  it('counts the [S1] prefix against the first line and balances lines', () => {
    const text = 'one two three four five six';
    const t = tr([{ start: 0, end: 6, text, speaker: 'S1', words: words(text, 0, 1) }]);
    const [cue] = buildCues(t, 'srt', { maxLineChars: 20 });
    expect(cue!.lines).toEqual(['one two three', 'four five six']);
    expect(toSrt(t, { maxLineChars: 20 }).split('\n')[2]).toBe('[S1] one two three');
  });

  it('gives a single over-long word a line of its own', () => {
    const t = tr([{ start: 0, end: 3, text: 'a supercalifragilisticexpialidocious b', words: [] }]);
    const cues = buildCues(t, 'srt', { maxLineChars: 10, maxLines: 2 });
    expect(cues.flatMap((c) => c.lines)).toEqual(['a', 'supercalifragilisticexpialidocious', 'b']);
  });

  it('never lets rounding or overlapping segments produce overlapping cues', () => {
    const t = tr([
      { start: 0.0004, end: 1.0006, text: 'first', words: [] },
      { start: 1.0004, end: 1.0005, text: 'second', words: [] },
      { start: 0.9, end: 2, text: 'third', words: [] },
    ]);
    const cues = buildCues(t, 'srt');
    for (let i = 0; i < cues.length; i++) {
      const c = cues[i]!;
      expect(c.endMs).toBeGreaterThanOrEqual(c.startMs);
      if (i > 0) expect(c.startMs).toBeGreaterThanOrEqual(cues[i - 1]!.endMs);
    }
  });

  it('splits a cue where a word-level speaker changes', () => {
    const t = tr([{ start: 0, end: 2, text: 'yes no', words: [
      { word: 'yes', start: 0, end: 0.5, speaker: 'S1' }, { word: 'no', start: 1, end: 1.5, speaker: 'S2' },
    ] }]);
    expect(buildCues(t, 'vtt').map((c) => [c.speaker, c.words])).toEqual([['S1', ['yes']], ['S2', ['no']]]);
  });
});

describe('toVtt', () => {
  it('writes a WEBVTT header, dot times and voice spans, escaping markup', () => {
    const t = tr([
      { start: 0, end: 1, text: 'a <b> & c', speaker: 'S1', words: [] },
      { start: 1, end: 2, text: 'x --> y', words: [] },
    ]);
    expect(toVtt(t)).toBe(
      'WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n<v S1>a &lt;b&gt; &amp; c\n\n00:00:01.000 --> 00:00:02.000\nx --&gt; y\n',
    );
  });

  it('writes only the header for an empty transcript', () => {
    expect(toVtt(tr([]))).toBe('WEBVTT\n');
    expect(toSrt(tr([]))).toBe('');
  });
});

describe('validation', () => {
  const t = tr([{ start: 0, end: 1, text: 'x', words: [] }]);
  it.each([
    [{ maxLineChars: 0 }, /`maxLineChars` must be a whole number >= 1, got 0/],
    [{ maxLineChars: 2.5 }, /`maxLineChars`/],
    [{ maxLines: -1 }, /`maxLines` must be a whole number >= 1, got -1/],
    [{ maxCueSec: Number.NaN }, /`maxCueSec` must be a finite number > 0, got NaN/],
    [{ maxCueSec: '3' }, /`maxCueSec` must be a finite number > 0, got "3"/],
    [{ speakerLabels: 'yes' }, /`speakerLabels` must be a boolean/],
    [{ pretty: 1 }, /`pretty` must be a boolean, got 1/],
  ])('rejects %o for every format', (opts, msg) => {
    for (const f of ['text', 'json', 'srt', 'vtt'] as const) {
      expect(() => formatTranscription(t, f, opts as never)).toThrow(InvalidArgumentError);
      expect(() => formatTranscription(t, f, opts as never)).toThrow(msg);
    }
  });

  it('rejects an unknown format naming it', () => {
    expect(() => formatTranscription(t, 'xml' as never)).toThrow(/`format` must be one of text, json, srt, vtt, got "xml"/);
  });

  it('rejects malformed transcriptions naming the field', () => {
    const bad = tr([{ start: 0, end: 1, text: 'x', words: [{ word: 'x', start: 2, end: 1 }] }]);
    expect(() => toSrt(bad)).toThrow(/`transcription.segments\[0\].words\[0\].end` \(1\) must not be before its start \(2\)/);
    const nan = tr([{ start: Number.NaN, end: 1, text: 'x', words: [] }]);
    expect(() => toVtt(nan)).toThrow(InvalidArgumentError);
    expect(() => toText(null as never)).toThrow(InvalidArgumentError);
  });
});
