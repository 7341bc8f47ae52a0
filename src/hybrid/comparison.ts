import { wordErrorRate } from '../metrics/index.js';
import type { Transcription } from '../spec/index.js';

/** One backend's side of a {@link ComparisonReport}. */
export interface ComparisonSide {
  /** Backend id. */
  readonly backend: string;
  /** Its transcript. */
  readonly text: string;
  /** Wall-clock seconds it took (the result's `processingTimeSec`). */
  readonly processingTimeSec: number;
  /** Seconds of audio. */
  readonly durationSec: number;
  /** processingTimeSec / durationSec (lower is faster); `NaN` for empty audio. */
  readonly realTimeFactor: number;
}

/** A place where the two transcripts differ (from the word alignment). */
export type WordDifference =
  | { readonly op: 'substitute'; readonly index: number; readonly preferred: string; readonly other: string }
  | { readonly op: 'delete'; readonly index: number; readonly preferred: string }
  | { readonly op: 'insert'; readonly index: number; readonly other: string };

/** What dual mode found when both backends ran on the same audio. */
export interface ComparisonReport {
  /** The preferred backend's side (its result was returned). */
  readonly preferred: ComparisonSide;
  /** The other backend's side. */
  readonly other: ComparisonSide;
  /** WER of the other transcript against the preferred one (normalised words). */
  readonly wer: number;
  /** Substituted, missing (delete) and extra (insert) words of the other transcript. */
  readonly substitutions: number;
  /** Words of the preferred transcript missing from the other. */
  readonly deletions: number;
  /** Words of the other transcript missing from the preferred. */
  readonly insertions: number;
  /** Words in the preferred transcript. */
  readonly words: number;
  /** Every difference, in order; `index` is the position in the alignment. */
  readonly differences: readonly WordDifference[];
}

function side(t: Transcription): ComparisonSide {
  return {
    backend: t.backend,
    text: t.text,
    processingTimeSec: t.processingTimeSec,
    durationSec: t.durationSec,
    realTimeFactor: t.durationSec > 0 ? t.processingTimeSec / t.durationSec : Number.NaN,
  };
}

/** Compares two transcriptions of the same audio: WER of `other` against `preferred`, speeds, differing words. */
export function compareTranscriptions(preferred: Transcription, other: Transcription): ComparisonReport {
  const r = wordErrorRate(preferred.text, other.text);
  const differences: WordDifference[] = [];
  r.alignment.forEach((a, index) => {
    if (a.op === 'substitute') differences.push({ op: 'substitute', index, preferred: a.ref, other: a.hyp });
    else if (a.op === 'delete') differences.push({ op: 'delete', index, preferred: a.ref });
    else if (a.op === 'insert') differences.push({ op: 'insert', index, other: a.hyp });
  });
  return {
    preferred: side(preferred),
    other: side(other),
    wer: r.wer,
    substitutions: r.substitutions,
    deletions: r.deletions,
    insertions: r.insertions,
    words: r.referenceWords,
    differences,
  };
}
