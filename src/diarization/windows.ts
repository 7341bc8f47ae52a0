/**
 * Speech spans → embedding windows, and labelled windows → speaker turns. Pure.
 * @internal
 * @module
 */
import type { SpeakerTurn } from '../spec/index.js';
import type { Span } from './native.js';

/** One embedding window inside a speech span. @internal */
export interface Window {
  /** Index of the span the window lies in. */
  readonly span: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Cuts each span into windows of `windowSec` every `hopSec`, the last one aligned to the span's
 * end; a span shorter than a window is one window; spans shorter than `minSec` get none (they are
 * labelled from their neighbours).
 * @internal
 */
export function makeWindows(spans: readonly Span[], windowSec: number, hopSec: number, minSec: number): Window[] {
  const out: Window[] = [];
  spans.forEach((s, i) => {
    const len = s.end - s.start;
    if (len < minSec) return;
    if (len <= windowSec) {
      out.push({ span: i, start: s.start, end: s.end });
      return;
    }
    let t = s.start;
    for (; t + windowSec < s.end - 1e-9; t += hopSec) out.push({ span: i, start: t, end: t + windowSec });
    const last = out[out.length - 1];
    const lastStart = s.end - windowSec;
    if (last === undefined || last.span !== i || lastStart - last.start > hopSec * 0.25) {
      out.push({ span: i, start: lastStart, end: s.end });
    }
  });
  return out;
}

/**
 * Turns from labelled windows: inside a span, each point belongs to the window whose centre is
 * nearest; spans without windows take the label of the nearest window in time. Adjacent pieces of
 * one speaker are joined; turns come sorted by start.
 * @internal
 */
export function windowsToTurns(
  spans: readonly Span[],
  windows: readonly Window[],
  labels: ArrayLike<number>,
  name: (label: number) => string,
): SpeakerTurn[] {
  const bySpan: { center: number; label: number }[][] = spans.map(() => []);
  windows.forEach((w, i) => bySpan[w.span]!.push({ center: (w.start + w.end) / 2, label: labels[i]! }));
  const centers = windows.map((w, i) => ({ center: (w.start + w.end) / 2, label: labels[i]! }));
  const nearest = (t: number): number | undefined => {
    // windows are in time order; binary search
    let lo = 0;
    let hi = centers.length - 1;
    if (hi < 0) return undefined;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (centers[mid]!.center < t) lo = mid + 1;
      else hi = mid;
    }
    const a = centers[lo]!;
    const b = lo > 0 ? centers[lo - 1]! : undefined;
    return b !== undefined && Math.abs(b.center - t) <= Math.abs(a.center - t) ? b.label : a.label;
  };
  const turns: { speaker: string; start: number; end: number }[] = [];
  const emit = (label: number, start: number, end: number): void => {
    if (end <= start) return;
    const speaker = name(label);
    const prev = turns[turns.length - 1];
    if (prev !== undefined && prev.speaker === speaker && start - prev.end < 1e-6) prev.end = end;
    else turns.push({ speaker, start, end });
  };
  spans.forEach((s, i) => {
    const ws = bySpan[i]!;
    if (ws.length === 0) {
      const l = nearest((s.start + s.end) / 2);
      if (l !== undefined) emit(l, s.start, s.end);
      return;
    }
    let from = s.start;
    for (let k = 0; k < ws.length; k++) {
      const next = ws[k + 1];
      const to = next === undefined ? s.end : (ws[k]!.center + next.center) / 2;
      emit(ws[k]!.label, from, to);
      from = to;
    }
  });
  return turns;
}
