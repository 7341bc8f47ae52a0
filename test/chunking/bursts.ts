import { mulberry32 } from '../helpers/prng.js';
/**
 * Synthetic "speech" for the live processor's state-machine tests: each word is a burst of a
 * ±amplitude square wave whose amplitude encodes the word's id, so a script function can tell which
 * words a window holds, wherever the window starts.
 */
import type { ScriptedWord, TestScriptFunction } from '../../src/testing/index.js';
import type { Word } from '../../src/spec/index.js';

export const RATE = 16000;
const BASE = 0.05;
const STEP = 0.0008;

/** Deterministic PRNG (mulberry32). */
export const rng = mulberry32;

/** A recording of `count` words: bursts of 0.15–0.6 s, gaps mostly short (continuous speech) with pauses. */
export function makeBursts(count: number, seed = 1): { pcm: Uint8Array; words: ScriptedWord[]; durationSec: number } {
  const r = rng(seed);
  const words: ScriptedWord[] = [];
  let t = 0.5;
  for (let i = 0; i < count; i++) {
    const dur = 0.15 + r() * 0.45;
    words.push({ word: `w${i}`, start: round(t), end: round(t + dur) });
    const u = r();
    t += dur + (u < 0.7 ? 0.04 + r() * 0.1 : u < 0.95 ? 0.4 + r() * 1.2 : 3 + r() * 5);
  }
  const durationSec = t + 0.5;
  const samples = new Int16Array(Math.round(durationSec * RATE));
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const amp = Math.round((BASE + (i % 1000) * STEP) * 32767);
    for (let s = Math.round(w.start * RATE); s < Math.round(w.end * RATE); s++) samples[s] = s % 2 === 0 ? amp : -amp;
  }
  return { pcm: new Uint8Array(samples.buffer), words, durationSec };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Script that "hears" the bursts in whatever window it is given (times on the window's timeline). */
export const hearBursts: TestScriptFunction = (audio) => {
  const { samples, sampleRate } = audio;
  const words: Word[] = [];
  let runStart = -1;
  let sum = 0;
  const close = (end: number): void => {
    const n = end - runStart;
    if (n >= sampleRate * 0.02) {
      const id = Math.round((sum / n - BASE) / STEP);
      // A burst cut by the window's edge is a fragment, as a real model would mishear a cut word.
      const cut = runStart === 0 || end === samples.length;
      words.push({ word: cut ? `w${id}~` : `w${id}`, start: runStart / sampleRate, end: end / sampleRate });
    }
    runStart = -1;
    sum = 0;
  };
  for (let i = 0; i < samples.length; i++) {
    const v = Math.abs(samples[i]!);
    if (v > 0.01) {
      if (runStart < 0) runStart = i;
      sum += v;
    } else if (runStart >= 0) {
      close(i);
    }
  }
  if (runStart >= 0) close(samples.length);
  return {
    segments: words.length === 0 ? [] : [{ start: words[0]!.start, end: words[words.length - 1]!.end, text: words.map((w) => w.word).join(' '), words }],
  };
};
