/** Helpers for hybrid-manager tests: synthetic audio, scripted backends, event collection. */
import { encodeWav } from '../../src/audio/index.js';
import type { AudioChunk, TranscriptionEvent, Word } from '../../src/spec/index.js';
import type { ScriptedWord, TestAudio, TestScriptResult } from '../../src/testing/index.js';

export const RATE = 16_000;

/** WAV bytes of `sec` seconds of quiet noise. */
export function silenceWav(sec: number): Uint8Array {
  return encodeWav(new Float32Array(Math.round(sec * RATE)).fill(0.001), RATE);
}

/**
 * "Burst speech": word i is a tone burst of amplitude (i + 1) / 100 (max 99 words) from `start` to
 * `end`. A backend that decodes bursts (see {@link burstScript}) hears the words at their true times
 * whatever part of the stream it is given, so timeline offsets are checked for real.
 */
export function burstAudio(words: readonly ScriptedWord[], durationSec: number): Float32Array {
  const out = new Float32Array(Math.round(durationSec * RATE));
  words.forEach((w, i) => {
    const amp = (i + 1) / 100;
    for (let s = Math.round(w.start * RATE); s < Math.min(out.length, Math.round(w.end * RATE)); s++) out[s] = amp;
  });
  return out;
}

/** A TestBackend script function that decodes {@link burstAudio} back into words (on the audio it was given). */
export function burstScript(vocabulary: readonly string[]): (audio: TestAudio) => TestScriptResult {
  return (audio) => {
    const words: Word[] = [];
    const s = audio.samples;
    let i = 0;
    while (i < s.length) {
      if (Math.abs(s[i]!) < 0.005) {
        i++;
        continue;
      }
      const amp = s[i]!;
      const start = i;
      while (i < s.length && Math.abs(s[i]! - amp) < 0.002) i++;
      const idx = Math.round(amp * 100) - 1;
      words.push({ word: vocabulary[idx] ?? `?${idx}`, start: start / audio.sampleRate, end: i / audio.sampleRate });
    }
    if (words.length === 0) return { segments: [] };
    return { segments: [{ start: words[0]!.start, end: words.at(-1)!.end, text: words.map((w) => w.word).join(' '), words }] };
  };
}

/** Mono chunks of `chunkSec`, with an optional hook per chunk. */
export async function* chunksOf(samples: Float32Array, chunkSec: number, onChunk?: (i: number) => void | Promise<void>): AsyncGenerator<AudioChunk> {
  const step = Math.round(chunkSec * RATE);
  let n = 0;
  for (let i = 0; i < samples.length; i += step) {
    await onChunk?.(n++);
    yield { samples: samples.slice(i, i + step), sampleRate: RATE };
  }
}

/** All events of a stream. */
export async function drain(events: AsyncIterable<TranscriptionEvent>): Promise<TranscriptionEvent[]> {
  const out: TranscriptionEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

/** Words of all finals, in order. */
export function finalWords(events: readonly TranscriptionEvent[]): Word[] {
  return events.flatMap((e) => (e.type === 'final' ? [...e.segment.words] : []));
}
