/** One step of a word alignment between a reference and a hypothesis. */
export type AlignmentOp =
  | { readonly op: 'match'; readonly ref: string; readonly hyp: string }
  | { readonly op: 'substitute'; readonly ref: string; readonly hyp: string }
  | { readonly op: 'delete'; readonly ref: string }
  | { readonly op: 'insert'; readonly hyp: string };

/** Word error rate with its parts. */
export interface WerResult {
  /** (substitutions + deletions + insertions) / reference words; 0 when both are empty. */
  readonly wer: number;
  /** Words in the reference. */
  readonly referenceWords: number;
  /** Substituted words. */
  readonly substitutions: number;
  /** Reference words missing from the hypothesis. */
  readonly deletions: number;
  /** Hypothesis words not in the reference. */
  readonly insertions: number;
  /** The minimum-edit alignment, in order. */
  readonly alignment: readonly AlignmentOp[];
}

/**
 * Lower-cases, drops punctuation other than apostrophes inside words, and splits on white space.
 * The normalisation used for every WER figure in this package.
 */
export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}'\s]+/gu, ' ')
    .replace(/(^|\s)'+|'+(?=\s|$)/g, ' ')
    .split(/\s+/)
    .filter((w) => w !== '');
}

/**
 * One recognised word in the form used to compare words (the same normalisation as
 * {@link normalizeWords}, joined): `"Hello,"` and `"hello"` compare equal.
 * @internal
 */
export function normalizeWord(word: string): string {
  return normalizeWords(word).join('');
}

/**
 * Word error rate of `hypothesis` against `reference` (Levenshtein distance over normalised
 * words), with the alignment that shows which words differ. O(N·M) time, O(N·M) bytes of memory
 * for the back-pointers: meant for transcripts, not for whole books.
 */
export function wordErrorRate(reference: string | readonly string[], hypothesis: string | readonly string[]): WerResult {
  const ref = typeof reference === 'string' ? normalizeWords(reference) : [...reference];
  const hyp = typeof hypothesis === 'string' ? normalizeWords(hypothesis) : [...hypothesis];
  const n = ref.length;
  const m = hyp.length;
  const cols = m + 1;
  // back: 0 = diag, 1 = up (deletion), 2 = left (insertion)
  const back = new Uint8Array((n + 1) * cols);
  let prev = new Uint32Array(cols);
  let cur = new Uint32Array(cols);
  for (let j = 0; j <= m; j++) {
    prev[j] = j;
    back[j] = 2;
  }
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    back[i * cols] = 1;
    const r = ref[i - 1];
    for (let j = 1; j <= m; j++) {
      const diag = prev[j - 1]! + (r === hyp[j - 1] ? 0 : 1);
      const up = prev[j]! + 1;
      const left = cur[j - 1]! + 1;
      let best = diag;
      let dir = 0;
      if (up < best) {
        best = up;
        dir = 1;
      }
      if (left < best) {
        best = left;
        dir = 2;
      }
      cur[j] = best;
      back[i * cols + j] = dir;
    }
    [prev, cur] = [cur, prev];
  }
  const alignment: AlignmentOp[] = [];
  let s = 0;
  let d = 0;
  let ins = 0;
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const dir = i === 0 ? 2 : j === 0 ? 1 : back[i * cols + j];
    if (dir === 0) {
      const r = ref[i - 1]!;
      const h = hyp[j - 1]!;
      if (r === h) alignment.push({ op: 'match', ref: r, hyp: h });
      else {
        alignment.push({ op: 'substitute', ref: r, hyp: h });
        s++;
      }
      i--;
      j--;
    } else if (dir === 1) {
      alignment.push({ op: 'delete', ref: ref[i - 1]! });
      d++;
      i--;
    } else {
      alignment.push({ op: 'insert', hyp: hyp[j - 1]! });
      ins++;
      j--;
    }
  }
  alignment.reverse();
  const errors = s + d + ins;
  return {
    wer: n === 0 ? (m === 0 ? 0 : 1) : errors / n,
    referenceWords: n,
    substitutions: s,
    deletions: d,
    insertions: ins,
    alignment,
  };
}
