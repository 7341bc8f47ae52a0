/**
 * Diarization through the real sherpa-onnx addon, Silero VAD and the tiny speaker-embedding model,
 * scored against the exact RTTM of the synthetic meetings (DER computed here, test/helpers/der.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Diarizer, OnlineDiarizer } from '../../src/diarization/index.js';
import { AbortedError, InvalidAudioError, ModelError } from '../../src/errors/index.js';
import type { SpeakerTurn } from '../../src/spec/index.js';
import { diarizationErrorRate, readRttm } from '../helpers/der.js';
import { AUDIO_DIR, SHARED_DIR, SPEAKER_MODEL, VAD_MODEL, describeWithAssets, haveAssets } from '../helpers/shared.js';

const MEETINGS = join(AUDIO_DIR, 'meetings');
const models = { vadModel: VAD_MODEL, embeddingModel: SPEAKER_MODEL };

/** 16-bit mono PCM WAV → float samples (the meetings are all 16 kHz mono). */
function readWav(path: string): Float32Array {
  const b = readFileSync(path);
  let off = 12;
  while (b.toString('ascii', off, off + 4) !== 'data') off += 8 + b.readUInt32LE(off + 4);
  const n = b.readUInt32LE(off + 4) / 2;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = b.readInt16LE(off + 8 + 2 * i) / 32768;
  return out;
}

function score(prefix: string, hyp: SpeakerTurn[]): { der0: number; der25: number; ref: number; hyp: number } {
  const ref = readRttm(`${prefix}.rttm`);
  const d0 = diarizationErrorRate(ref, hyp);
  const d25 = diarizationErrorRate(ref, hyp, { collar: 0.25 });
  return { der0: d0.der, der25: d25.der, ref: d0.refSpeakers, hyp: d0.hypSpeakers };
}

const describeReal = describeWithAssets([VAD_MODEL, SPEAKER_MODEL, MEETINGS]);

describeReal('Diarizer on the shared synthetic meetings', () => {
  const diarizer = new Diarizer(models);
  for (const name of ['meeting-short-01', 'meeting-short-02', 'meeting-short-03', 'meeting-10min-01']) {
    it(`${name}: DER <= 2 % with a 0.25 s collar, <= 10 % without, right speaker count`, async () => {
      const prefix = join(MEETINGS, name);
      const turns = await diarizer.diarize(readWav(`${prefix}.wav`));
      const s = score(prefix, turns);
      console.log(`[DER] ${name}: ${(s.der0 * 100).toFixed(2)} % no collar, ${(s.der25 * 100).toFixed(2)} % 0.25 s collar, speakers ${s.hyp}/${s.ref}`);
      expect(s.hyp).toBe(s.ref);
      expect(s.der25).toBeLessThanOrEqual(0.02);
      expect(s.der0).toBeLessThanOrEqual(0.1);
      // Labels S1, S2, … in order of first appearance, turns sorted.
      const order = [...new Set(turns.map((t) => t.speaker))];
      expect(order).toEqual(order.map((_, i) => `S${i + 1}`));
      for (let i = 1; i < turns.length; i++) expect(turns[i]!.start).toBeGreaterThanOrEqual(turns[i - 1]!.end - 1e-9);
    });
  }

  it('honours a known speaker count and speaker bounds', async () => {
    const samples = readWav(join(MEETINGS, 'meeting-short-03.wav'));
    const two = await diarizer.diarize(samples, { numSpeakers: 2 });
    expect(new Set(two.map((t) => t.speaker)).size).toBe(2);
    const atMost3 = await diarizer.diarize(samples, { maxSpeakers: 3 });
    expect(new Set(atMost3.map((t) => t.speaker)).size).toBe(3);
    const known = await diarizer.diarize(samples, { numSpeakers: 5 });
    expect(score(join(MEETINGS, 'meeting-short-03'), known).der25).toBeLessThanOrEqual(0.02);
  });

  it('rejects with AbortedError when aborted, before and during the work', async () => {
    const samples = readWav(join(MEETINGS, 'meeting-short-01.wav'));
    await expect(diarizer.diarize(samples, { abortSignal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    const ac = new AbortController();
    const p = diarizer.diarize(samples, { abortSignal: ac.signal });
    setImmediate(() => ac.abort());
    await expect(p).rejects.toBeInstanceOf(AbortedError);
  });

  it('takes any audio input: a WAV path, and 8 kHz PCM (resampled)', async () => {
    const prefix = join(MEETINGS, 'meeting-short-01');
    expect(score(prefix, await diarizer.diarize(`${prefix}.wav`)).der25).toBeLessThanOrEqual(0.02);
    const x = readWav(`${prefix}.wav`);
    const down = new Float32Array(Math.floor(x.length / 2));
    for (let i = 0; i < down.length; i++) down[i] = (x[2 * i]! + x[2 * i + 1]!) / 2;
    const turns = await diarizer.diarize({ format: 'f32', samples: down, sampleRate: 8000 });
    expect(new Set(turns.map((t) => t.speaker)).size).toBe(2);
  });

  it('returns no turns for silence', async () => {
    expect(await diarizer.diarize(new Float32Array(16000 * 3))).toEqual([]);
  });
});

describeReal('Diarizer on freshly generated meetings (other seeds)', () => {
  let dir = '';
  let ok = false;
  const specs = [
    { seed: 311, n: 3 },
    { seed: 412, n: 4 },
  ];
  beforeAll(() => {
    const tool = join(SHARED_DIR, 'tools', 'make-meeting.py');
    let toolsOk = false;
    try {
      execFileSync('espeak-ng', ['--version'], { stdio: 'ignore' });
      execFileSync('sox', ['--version'], { stdio: 'ignore' });
      execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
      toolsOk = true;
    } catch {
      toolsOk = false;
    }
    if (!toolsOk) {
      // haveAssets throws in CI, where the generator's dependencies must be installed.
      haveAssets('/espeak-ng-sox-python3-numpy-for-make-meeting');
      return;
    }
    dir = mkdtempSync(join(tmpdir(), 'hybrid-asr-meet-'));
    for (const s of specs) {
      execFileSync('python3', [tool, '--out', join(dir, `m${s.seed}`), '--seed', String(s.seed), '--num-speakers', String(s.n), '--duration', '120'], { stdio: 'ignore' });
    }
    ok = true;
  }, 180_000);
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  for (const s of specs) {
    it(`seed ${s.seed}, ${s.n} speakers: DER within target`, async (ctx) => {
      if (!ok) ctx.skip();
      const prefix = join(dir, `m${s.seed}`);
      const turns = await new Diarizer(models).diarize(readWav(`${prefix}.wav`));
      const r = score(prefix, turns);
      console.log(`[DER] generated seed ${s.seed}: ${(r.der0 * 100).toFixed(2)} % no collar, ${(r.der25 * 100).toFixed(2)} % collar, speakers ${r.hyp}/${r.ref}`);
      expect(r.hyp).toBe(s.n);
      expect(r.der25).toBeLessThanOrEqual(0.02);
      expect(r.der0).toBeLessThanOrEqual(0.1);
    });
  }
});

describeReal('OnlineDiarizer: live labels and final reconciliation', () => {
  for (const name of ['meeting-short-02', 'meeting-10min-01']) {
    it(`${name} in 15 s ticks: append-only turns, stable labels per voice, correct remap`, async () => {
      const prefix = join(MEETINGS, name);
      const samples = readWav(`${prefix}.wav`);
      const ref = readRttm(`${prefix}.rttm`);
      const live = new OnlineDiarizer({ ...models, maxCentroidSamples: 8 });
      const tick = 16000 * 15;
      let previous: SpeakerTurn[] = [];
      /** Per reference speaker: its dominant provisional label, once it has >= 10 s of speech. */
      const dominant = new Map<string, string>();
      let ticks = 0;
      for (let i = 0; i <= samples.length; i += tick) {
        const returned = i < samples.length ? live.push(samples.subarray(i, i + tick)) : live.flush();
        const now = [...live.turns];
        ticks++;
        // "Stable" (1): what was shown is never revised: earlier turns are an exact prefix of later ones,
        // and each tick returns exactly the turns it appended.
        expect(now.slice(0, previous.length)).toEqual(previous);
        expect(now.slice(previous.length)).toEqual(returned);
        previous = now;
        // "Stable" (2): each voice keeps the provisional label it was first given: once a reference
        // speaker has >= 10 s of live-labelled speech, the label covering most of it never changes.
        const seen = diarizationErrorRate(ref.filter((t) => t.end <= (now.at(-1)?.end ?? 0)), now);
        for (const [refSpk, hypSpk] of seen.mapping) {
          const covered = ref.filter((t) => t.speaker === refSpk && t.end <= (now.at(-1)?.end ?? 0)).reduce((a, t) => a + t.end - t.start, 0);
          if (covered < 10) continue;
          const before = dominant.get(refSpk);
          if (before === undefined) dominant.set(refSpk, hypSpk);
          else expect(hypSpk, `${refSpk} relabelled at tick ${ticks}`).toBe(before);
        }
      }
      expect(ticks).toBeGreaterThan(5);
      for (const s of live.speakerEmbeddings()) expect(s.samples.length).toBeLessThanOrEqual(8);

      const fin = await live.finalize(samples);
      const f = score(prefix, fin.turns);
      const p = score(prefix, fin.provisional);
      console.log(`[DER] ${name} live: ${(p.der0 * 100).toFixed(2)} % / ${(p.der25 * 100).toFixed(2)} % (speakers ${p.hyp}/${p.ref}); final: ${(f.der0 * 100).toFixed(2)} % / ${(f.der25 * 100).toFixed(2)} % (speakers ${f.hyp}/${f.ref})`);
      expect(f.hyp).toBe(f.ref);
      expect(f.der25).toBeLessThanOrEqual(0.02);
      expect(f.der0).toBeLessThanOrEqual(0.1);
      // Remap checked against ground truth: a provisional label must map to the final label of the
      // reference speaker it mostly covers.
      const provMap = diarizationErrorRate(ref, fin.provisional).mapping; // ref → provisional
      const finalMap = diarizationErrorRate(ref, fin.turns).mapping; // ref → final
      for (const [refSpk, prov] of provMap) expect(fin.remap[prov], `remap of ${prov}`).toBe(finalMap.get(refSpk));
      // Every provisional label is remapped onto a final label.
      for (const l of new Set(fin.provisional.map((t) => t.speaker))) expect(new Set(fin.turns.map((t) => t.speaker))).toContain(fin.remap[l]);
    });
  }
});

describeReal('typed errors for bad models and options; the process survives', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hybrid-asr-diar-'));
    writeFileSync(join(dir, 'corrupt.onnx'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
    writeFileSync(join(dir, 'lfs.onnx'), 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n');
    const real = readFileSync(join(SPEAKER_MODEL, 'tiny-speaker-embedding.onnx'));
    writeFileSync(join(dir, 'truncated.onnx'), real.subarray(0, Math.floor(real.length / 2)));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const silence = new Float32Array(16000);

  it('missing, corrupt, truncated and LFS-pointer models are ModelErrors', async () => {
    const cases: [string, Record<string, string>][] = [
      ['missing VAD', { vadModel: join(dir, 'nope.onnx') }],
      ['corrupt VAD', { vadModel: join(dir, 'corrupt.onnx') }],
      ['LFS embedding', { embeddingModel: join(dir, 'lfs.onnx') }],
      ['truncated embedding', { embeddingModel: join(dir, 'truncated.onnx') }],
      ['missing segmentation', { segmentationModel: join(dir, 'nope.onnx') }],
      ['corrupt segmentation', { segmentationModel: join(dir, 'corrupt.onnx') }],
      ['truncated segmentation', { segmentationModel: join(dir, 'truncated.onnx') }],
    ];
    for (const [what, o] of cases) {
      const err = await new Diarizer({ ...models, ...o }).diarize(silence).catch((e: unknown) => e);
      expect(ModelError.isInstance(err), what).toBe(true);
      expect(() => new OnlineDiarizer({ ...models, ...o }).push(silence), what).toThrow(ModelError);
    }
  });

  it('bad options and audio are InvalidArgumentErrors naming the problem', async () => {
    expect(() => new Diarizer({ embeddingModel: SPEAKER_MODEL })).toThrow(/`vadModel`/);
    expect(() => new Diarizer({ ...models, windowSec: 0 })).toThrow(/`windowSec` must be/);
    expect(() => new Diarizer({ ...models, hopSec: 5 })).toThrow(/`hopSec` must be/);
    expect(() => new OnlineDiarizer({ ...models, maxCentroidSamples: -1 })).toThrow(/`maxCentroidSamples`/);
    const d = new Diarizer(models);
    await expect(d.diarize(silence, { numSpeakers: 0 })).rejects.toThrow(/`numSpeakers`/);
    await expect(d.diarize(silence, { minSpeakers: 3, maxSpeakers: 2 })).rejects.toThrow(/`minSpeakers`/);
    await expect(d.diarize(Float32Array.of(0, Number.NaN))).rejects.toThrow(/non-finite/);
    await expect(d.diarize(Uint8Array.of(1, 2, 3, 4))).rejects.toBeInstanceOf(InvalidAudioError);
  });

  it('sanity: the files used above really exist', () => {
    expect(existsSync(join(dir, 'corrupt.onnx'))).toBe(true);
  });
});
