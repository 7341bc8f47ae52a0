import { join } from 'node:path';
import { expect, it } from 'vitest';
import { decodeAudio, wordErrorRate } from '../../src/index.js';
import { NativeBackend } from '../../src/backends/native/index.js';
import { AUDIO_DIR, OFFLINE_MODEL, VAD_MODEL, describeWithAssets, readReferences } from '../helpers/shared.js';

const ESPEAK = join(AUDIO_DIR, 'espeak');
const d = describeWithAssets([OFFLINE_MODEL, VAD_MODEL, ESPEAK]);

d('NativeBackend on continuous speech (no pauses for the VAD to cut at)', () => {
  it('cuts speech longer than maxSegmentSec into pieces of at most that length, without losing or doubling words at the cuts', async () => {
    // 12 clips with their silence padding (0.25 s before, 0.4 s after) removed: ~37 s of speech
    // where Silero VAD sees one long utterance.
    const refs = readReferences(join(ESPEAK, 'references.tsv')).slice(0, 12);
    const parts: Float32Array[] = [];
    for (const r of refs) {
      const a = (await decodeAudio(join(ESPEAK, r.file), { sampleRate: 16000 })).samples;
      parts.push(a.subarray(Math.round(0.25 * 16000), a.length - Math.round(0.4 * 16000)));
    }
    const samples = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      samples.set(p, o);
      o += p.length;
    }
    const reference = refs.map((r) => r.text).join(' ');
    const maxSegmentSec = 6;
    const b = new NativeBackend({ model: OFFLINE_MODEL, vadModel: VAD_MODEL, threads: 1, maxSegmentSec });
    try {
      const t = await b.transcribe({ format: 'f32', samples, sampleRate: 16000 });
      expect(t.segments.length).toBeGreaterThanOrEqual(Math.ceil(samples.length / 16000 / maxSegmentSec));
      const words = t.segments.flatMap((s) => s.words);
      for (const s of t.segments) {
        // Each segment's words come from one piece of ≤ maxSegmentSec (plus the 0.3 s context at a pause).
        expect(s.words.at(-1)!.end - s.words[0]!.start).toBeLessThanOrEqual(maxSegmentSec + 0.6);
      }
      for (let i = 1; i < words.length; i++) expect(words[i]!.start).toBeGreaterThanOrEqual(words[i - 1]!.start);
      // A word lost or doubled at each of the ≥ 6 cuts would add ≥ 6 errors on ~86 words.
      const cut = wordErrorRate(reference, t.text);
      const one = new NativeBackend({ model: OFFLINE_MODEL, vadModel: VAD_MODEL, threads: 1, maxSegmentSec: 60 });
      const whole = wordErrorRate(reference, (await one.transcribe({ format: 'f32', samples, sampleRate: 16000 })).text);
      await one.dispose();
      console.log(`[native] continuous speech: WER ${(cut.wer * 100).toFixed(2)} % cut every ≤ ${maxSegmentSec} s, ${(whole.wer * 100).toFixed(2)} % in one piece`);
      expect(cut.wer).toBeLessThanOrEqual(whole.wer + 0.06);
      expect(t.text.split(' ').length).toBeLessThanOrEqual(reference.split(' ').length * 1.1);
    } finally {
      await b.dispose();
    }
  });
});
