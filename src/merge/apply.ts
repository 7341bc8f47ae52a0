/**
 * A transcription labelled with speakers: {@link applyDiarization}.
 * @module
 */
import type { Segment, SpeakerTurn, Transcription, Word } from '../spec/index.js';
import { type Complete, definedOnly } from '../internal/options.js';
import { assignSpeakers } from './assign.js';
import { ASSIGN_DEFAULTS, type ApplyDiarizationOptions, type AssignSpeakersOptions, checkOptions } from './options.js';
import { speakerStats } from './stats.js';
import { makeSegment } from './utterances.js';

/**
 * Labels a transcription with speakers: every word gets the speaker of the turns that overlap it
 * most ({@link assignSpeakers}); a segment whose words change speaker is split at each change;
 * a segment without words takes the speaker overlapping its whole span most. `speakers` lists each
 * speaker of `turns` with its total speaking time (from the turns), `speakerTurns` the turns
 * themselves (sorted by start); `text` is rebuilt from the segments.
 *
 * @param transcription - a result without (or with stale) speaker labels.
 * @param turns - speaker turns on the same timeline.
 * @param options - see {@link ApplyDiarizationOptions}.
 * @returns a new transcription; the input is not modified.
 */
export function applyDiarization(
  transcription: Transcription,
  turns: readonly SpeakerTurn[],
  options?: ApplyDiarizationOptions,
): Transcription {
  const o = { ...ASSIGN_DEFAULTS, ...definedOnly(checkOptions(options, 'options')) } as Complete<AssignSpeakersOptions>;
  // Label all words (and word-less segments as pseudo-words) in one pass.
  const flat: Word[] = [];
  const owner: number[] = [];
  transcription.segments.forEach((seg, i) => {
    if (seg.words.length > 0) {
      for (const w of seg.words) {
        flat.push(w);
        owner.push(i);
      }
    } else {
      flat.push({ word: seg.text, start: seg.start, end: seg.end });
      owner.push(i);
    }
  });
  const labelled = assignSpeakers(flat, turns, o);
  const segments: Segment[] = [];
  let k = 0;
  transcription.segments.forEach((seg, i) => {
    const mine: Word[] = [];
    while (k < labelled.length && owner[k] === i) mine.push(labelled[k++]!);
    const { speaker: _old, ...base } = seg;
    if (seg.words.length === 0) {
      const sp = mine[0]?.speaker;
      segments.push(sp === undefined ? base : { ...base, speaker: sp });
      return;
    }
    let run: Word[] = [];
    const pieces: Word[][] = [];
    for (const w of mine) {
      if (run.length > 0 && run[0]!.speaker !== w.speaker) {
        pieces.push(run);
        run = [];
      }
      run.push(w);
    }
    if (run.length > 0) pieces.push(run);
    if (pieces.length === 1) {
      const sp = pieces[0]![0]!.speaker;
      const s = { ...base, words: pieces[0]! };
      segments.push(sp === undefined ? s : { ...s, speaker: sp });
    } else {
      for (const p of pieces) segments.push(makeSegment(p, { confidence: seg.confidence }));
    }
  });
  return {
    ...transcription,
    segments,
    text: segments.map((s) => s.text).filter((t) => t !== '').join(' '),
    speakers: speakerStats(turns),
    speakerTurns: [...turns]
      .filter((t) => t.end > t.start)
      .sort((a, b) => a.start - b.start || a.end - b.end)
      .map((t) => ({ speaker: t.speaker, start: t.start, end: t.end })),
  };
}
