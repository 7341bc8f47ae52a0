import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidArgumentError, ModelError, decodeAudio } from '../../src/index.js';
import { type SpeechSegment, VoiceActivityDetector } from '../../src/vad/index.js';
import { AUDIO_DIR, OFFLINE_MODEL, VAD_MODEL, describeWithAssets } from '../helpers/shared.js';

const LONG = join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.wav');
const d = describeWithAssets([VAD_MODEL, LONG]);

/** Clip boundaries of espeak-long.wav (padded clips: 0.25 s silence before the speech, 0.4 s after). */
function clips(): { start: number; end: number }[] {
  return readFileSync(join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.segments.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'))
    .map(([s, e]) => ({ start: Number(s), end: Number(e) }));
}

function run(vad: VoiceActivityDetector, samples: Float32Array, step: number): SpeechSegment[] {
  const out: SpeechSegment[] = [];
  for (let i = 0; i < samples.length; i += step) out.push(...vad.push(samples.subarray(i, i + step)));
  out.push(...vad.finish());
  return out;
}

d('VoiceActivityDetector (Silero VAD through sherpa-onnx)', () => {
  let audio: Float32Array;
  let vad: VoiceActivityDetector;
  let tmp: string;
  beforeAll(async () => {
    audio = (await decodeAudio(LONG, { sampleRate: 16000 })).samples;
    vad = await VoiceActivityDetector.create({ model: VAD_MODEL });
    tmp = mkdtempSync(join(tmpdir(), 'vad-test-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('finds one speech segment per clip of the long file, inside the clip, on the global timeline', () => {
    vad.reset();
    const segs = run(vad, audio, 1600);
    const cs = clips();
    expect(segs.length).toBe(cs.length);
    for (const [i, s] of segs.entries()) {
      expect(s.start).toBeGreaterThanOrEqual(cs[i]!.start);
      expect(s.end).toBeLessThanOrEqual(cs[i]!.end);
      // The segment's samples are exactly the stretch it names.
      expect(s.samples.length).toBe(Math.round((s.end - s.start) * 16000));
      const at = Math.round(s.start * 16000);
      expect(s.samples[100]).toBe(audio[at + 100]);
    }
    expect(vad.pushedSec).toBeCloseTo(audio.length / 16000, 6);
  });

  it('gives the same segments whatever the chunk size (odd sizes, single samples of windows)', () => {
    vad.reset();
    const a = run(vad, audio, 1600).map((s) => [s.start, s.end]);
    vad.reset();
    const b = run(vad, audio, 37).map((s) => [s.start, s.end]);
    expect(b).toEqual(a);
  });

  it('enforces maxSpeechSec exactly (sherpa only raises its threshold), cutting at quiet points', async () => {
    const short = await VoiceActivityDetector.create({ model: VAD_MODEL, maxSpeechSec: 1.5 });
    const segs = run(short, audio, 1600);
    expect(Math.max(...segs.map((s) => s.end - s.start))).toBeLessThanOrEqual(1.5 + 1e-9);
    // Speech longer than 1.5 s is covered without gaps: pieces of one utterance are contiguous.
    const longest = clips().map((c) => segs.filter((s) => s.start >= c.start && s.end <= c.end));
    expect(longest.some((p) => p.length >= 2)).toBe(true);
    for (const pieces of longest) for (let i = 1; i < pieces.length; i++) expect(pieces[i]!.start).toBeGreaterThanOrEqual(pieces[i - 1]!.end - 1e-9);
    // `continues` marks the pieces cut at the limit: every piece but an utterance's last.
    for (const pieces of longest.filter((p) => p.length >= 2)) {
      for (const p of pieces.slice(0, -1)) expect(p.continues).toBe(true);
    }
    const normal = run((vad.reset(), vad), audio, 1600);
    expect(Math.max(...normal.map((s) => s.end - s.start))).toBeGreaterThan(1.5);
    // With the default limit every clip ends at its pause: nothing continues.
    expect(normal.filter((s) => s.continues)).toEqual([]);
  });

  it('finds nothing in silence, and a segment still open at the end is flushed by finish()', () => {
    vad.reset();
    expect(run(vad, new Float32Array(16000 * 3), 1600)).toEqual([]);
    vad.reset();
    const cs = clips();
    // Stop in the middle of the second clip's speech.
    const cutAt = Math.round(((cs[1]!.start + cs[1]!.end) / 2) * 16000);
    const segs = run(vad, audio.subarray(0, cutAt), 1600);
    expect(segs.length).toBe(2);
    // It runs to the last whole VAD window (32 ms) before the end of the input.
    expect(segs[1]!.end).toBeLessThanOrEqual(cutAt / 16000);
    expect(segs[1]!.end).toBeGreaterThan(cutAt / 16000 - 0.05);
  });

  it('validates options before loading anything, naming the option', async () => {
    await expect(VoiceActivityDetector.create({ model: VAD_MODEL, threshold: 2 })).rejects.toThrow(InvalidArgumentError);
    await expect(VoiceActivityDetector.create({ model: VAD_MODEL, maxSpeechSec: 0 })).rejects.toThrow(/maxSpeechSec/);
    await expect(VoiceActivityDetector.create({ model: VAD_MODEL, minSilenceSec: Number.NaN })).rejects.toThrow(/minSilenceSec/);
  });

  it('a missing or wrong model is a typed ModelError (never sherpa’s silent null handle)', async () => {
    const missing = join(tmp, 'vad-missing');
    cpSync(VAD_MODEL, missing, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(missing, 'model.json'), 'utf8')) as { files: Record<string, string> };
    rmSync(join(missing, Object.values(manifest.files)[0]!));
    await expect(VoiceActivityDetector.create({ model: missing })).rejects.toThrow(ModelError);
    await expect(VoiceActivityDetector.create({ model: OFFLINE_MODEL })).rejects.toThrow(ModelError);
    const nowhere = join(tmp, 'no-such-folder');
    await expect(VoiceActivityDetector.create({ model: nowhere })).rejects.toThrow(ModelError);
  });
});
