/**
 * Every WAV format the reader supports decodes to the same samples as sox's own 16-bit mono 16 kHz
 * twin of the same file. Fixtures are made at test time with sox from real recordings in the
 * shared audio folder (so nothing large is committed).
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAudio } from '../../src/index.js';
import { AUDIO_DIR, haveAssets } from '../helpers/shared.js';

const A = join(AUDIO_DIR, 'asr', 'jfk.wav');
const B = join(AUDIO_DIR, 'asr', 'librispeech-1089-134686-0001.wav');
const C = join(AUDIO_DIR, 'espeak', 'espeak-001.wav');
const D = join(AUDIO_DIR, 'asr', 'timit-LDC93S1.wav');
const E = join(AUDIO_DIR, 'asr', 'ljspeech-LJ002-0020.wav');

function hasSox(): boolean {
  try {
    execFileSync('sox', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI) throw new Error('CI must have sox (apt-get install sox)');
    console.warn('[skip] sox not installed');
    return false;
  }
}

/** Signal-to-error ratio in dB of `x` against `ref` over their common length. */
function snrDb(ref: Float32Array, x: Float32Array): number {
  const n = Math.min(ref.length, x.length);
  let sig = 0;
  let err = 0;
  for (let i = 0; i < n; i++) {
    sig += ref[i]! ** 2;
    err += (ref[i]! - x[i]!) ** 2;
  }
  return err === 0 ? Infinity : 10 * Math.log10(sig / err);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** `sox -D` (no dither: plain rounding, so "within quantisation" means ≤ half a 16-bit step). */
function sox(...args: string[]): void {
  execFileSync('sox', ['-D', ...args]);
}

/** Rewrites a float WAV's fmt chunk as WAVE_FORMAT_EXTENSIBLE with the IEEE-float sub-format GUID. */
function toExtensibleFloat(wav: Buffer): Buffer {
  const parts: Buffer[] = [wav.subarray(0, 12)];
  for (let p = 12; p + 8 <= wav.length; ) {
    const id = wav.toString('latin1', p, p + 4);
    const size = wav.readUInt32LE(p + 4);
    const end = Math.min(wav.length, p + 8 + size + (size & 1));
    if (id === 'fmt ') {
      const fmt = Buffer.alloc(8 + 40);
      fmt.write('fmt ', 0, 'latin1');
      fmt.writeUInt32LE(40, 4);
      wav.copy(fmt, 8, p + 8, p + 24); // tag, channels, rate, byte rate, align, bits
      fmt.writeUInt16LE(0xfffe, 8);
      fmt.writeUInt16LE(22, 24); // cbSize
      fmt.writeUInt16LE(fmt.readUInt16LE(22), 26); // valid bits
      fmt.writeUInt32LE(3, 28); // channel mask: front left | front right
      Buffer.from('0300000000001000800000aa00389b71', 'hex').copy(fmt, 32);
      parts.push(fmt);
    } else parts.push(wav.subarray(p, end));
    p = end;
  }
  const out = Buffer.concat(parts);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

const run = haveAssets(A, B, C, D, E) && hasSox();
const d = run ? describe : describe.skip;

d('every WAV format decodes like its 16-bit mono 16 kHz twin made by sox', () => {
  let tmp: string;
  let stereo: string;
  let five: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'hasr-fmt-'));
    // Multi-channel sources with a different recording in each channel, so averaging is tested
    // for real (sox -M pads the shorter ones with silence).
    stereo = join(tmp, 'stereo-src.wav');
    five = join(tmp, 'five-src.wav');
    sox('-M', A, C, stereo);
    sox('-M', A, B, C, D, E, five);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  // [name, source, sox output options, expected formatTag, channels, bits]
  type Case = [string, () => string, string[], number, number, number];
  const same: Case[] = [
    ['u8', () => A, ['-b', '8', '-e', 'unsigned-integer'], 1, 1, 8],
    ['s16', () => A, ['-b', '16', '-e', 'signed-integer'], 1, 1, 16],
    ['s24 (sox writes WAVE_FORMAT_EXTENSIBLE)', () => B, ['-b', '24', '-e', 'signed-integer'], 0xfffe, 1, 24],
    ['s32 (WAVE_FORMAT_EXTENSIBLE)', () => C, ['-b', '32', '-e', 'signed-integer'], 0xfffe, 1, 32],
    ['f32', () => A, ['-b', '32', '-e', 'floating-point'], 3, 1, 32],
    ['f64', () => B, ['-b', '64', '-e', 'floating-point'], 3, 1, 64],
    ['stereo s16, a different recording per channel', () => stereo, ['-b', '16'], 1, 2, 16],
    ['stereo u8', () => stereo, ['-b', '8', '-e', 'unsigned-integer'], 1, 2, 8],
    ['stereo s24 (WAVE_FORMAT_EXTENSIBLE)', () => stereo, ['-b', '24'], 0xfffe, 2, 24],
    ['5 channels s16 (WAVE_FORMAT_EXTENSIBLE)', () => five, ['-b', '16'], 0xfffe, 5, 16],
    ['5 channels f32', () => five, ['-b', '32', '-e', 'floating-point'], 3, 5, 32],
    ['5 channels f64', () => five, ['-b', '64', '-e', 'floating-point'], 3, 5, 64],
  ];
  for (const [name, source, opts, tag, channels, bits] of same) {
    it(`${name}: equal to the twin within 16-bit quantisation, from a path, a Buffer and a stream`, async () => {
      const path = join(tmp, `${name.replace(/\W+/g, '_')}.wav`);
      const twinPath = `${path}.twin.wav`;
      sox(source(), ...opts, path);
      sox(path, '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', twinPath);
      const twin = await decodeAudio(twinPath);
      for (const input of [path, readFileSync(path), createReadStream(path)]) {
        const got = await decodeAudio(input, { sampleRate: 16000 });
        expect(got.format).toMatchObject({ formatTag: tag, channels, bitsPerSample: bits, sampleRate: 16000 });
        expect(got.samples.length).toBe(twin.samples.length);
        // sox rounds to the nearest 16-bit step: at most half a step (plus float rounding).
        expect(maxAbsDiff(got.samples, twin.samples)).toBeLessThanOrEqual(0.5 / 32768 + 1e-6);
      }
    });
  }

  it('WAVE_FORMAT_EXTENSIBLE with the IEEE-float sub-format (stereo f32)', async () => {
    const path = join(tmp, 'ext-float.wav');
    const twinPath = join(tmp, 'ext-float.twin.wav');
    sox(stereo, '-b', '32', '-e', 'floating-point', path);
    writeFileSync(path, toExtensibleFloat(readFileSync(path)));
    sox(path, '-c', '1', '-b', '16', '-e', 'signed-integer', twinPath);
    const twin = await decodeAudio(twinPath);
    const got = await decodeAudio(path, { sampleRate: 16000 });
    expect(got.format).toMatchObject({ formatTag: 0xfffe, encoding: 'float', channels: 2, bitsPerSample: 32 });
    expect(got.samples.length).toBe(twin.samples.length);
    expect(maxAbsDiff(got.samples, twin.samples)).toBeLessThanOrEqual(0.5 / 32768 + 1e-6);
  });

  // Other rates go through two different resamplers (ours: Kaiser windowed sinc, 80 dB stop band
  // from the lower Nyquist, pass band to ~89 % of it; sox's default: 125 dB, pass band to ~91 %),
  // so the outputs differ in the narrow band where their transition bands differ. Both are
  // linear-phase with zero delay, so no alignment is needed. The high-rate files get white noise
  // above 9 kHz mixed in, which a correct resampler removes and a naive one folds into the band.
  // Measured on these files: ours 37–82 dB against sox (worst: 8 kHz up-sampling of espeak speech,
  // whose energy reaches the band edge); nearest-sample resampling −2–16 dB, linear interpolation
  // −2–26 dB. 30 dB separates them; each case also checks that nearest-sample scores < 20 dB.
  const rated: [string, () => string, string, string[]][] = [];
  for (const rate of ['8000', '11025', '22050', '44100', '48000']) {
    rated.push([`${rate} Hz s16 (jfk)`, () => A, rate, []]);
    rated.push([`${rate} Hz s16 (espeak)`, () => C, rate, []]);
  }
  rated.push(['44.1 kHz stereo s24 (extensible)', () => stereo, '44100', ['-b', '24']]);
  rated.push(['48 kHz 5-channel f32', () => five, '48000', ['-b', '32', '-e', 'floating-point']]);
  rated.push(['22.05 kHz u8', () => B, '22050', ['-b', '8', '-e', 'unsigned-integer']]);
  for (const [name, source, rate, opts] of rated) {
    it(`${name} resampled to 16 kHz matches sox's twin (SNR > 30 dB)`, async () => {
      const base = join(tmp, `r-${name.replace(/\W+/g, '_')}`);
      const path = `${base}.wav`;
      const twinPath = `${base}.twin.wav`;
      if (Number(rate) > 16000) {
        const speech = `${base}.speech.wav`;
        const noise = `${base}.noise.wav`;
        sox(source(), '-r', rate, '-b', '32', '-e', 'floating-point', speech);
        const seconds = execFileSync('soxi', ['-D', speech]).toString().trim();
        const channels = execFileSync('soxi', ['-c', speech]).toString().trim();
        sox('-n', '-r', rate, '-c', channels, '-b', '32', '-e', 'floating-point', noise, 'synth', seconds, 'whitenoise', 'vol', '0.25', 'sinc', '9000');
        sox('-m', speech, noise, ...(opts.length ? opts : ['-b', '16']), path);
      } else sox(source(), '-r', rate, ...opts, path);
      sox(path, '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', twinPath);
      const twin = await decodeAudio(twinPath);
      const got = await decodeAudio(path, { sampleRate: 16000 });
      expect(got.sampleRate).toBe(16000);
      expect(got.format.sampleRate).toBe(Number(rate));
      expect(Math.abs(got.samples.length - twin.samples.length)).toBeLessThanOrEqual(1);
      expect(got.durationSec).toBeCloseTo(twin.durationSec, 3);
      expect(snrDb(twin.samples, got.samples)).toBeGreaterThan(30);
      // The threshold can fail: nearest-sample resampling of the same file scores far below it.
      const native = await decodeAudio(path);
      const ratio = Number(rate) / 16000;
      const nearest = Float32Array.from({ length: twin.samples.length }, (_, i) => native.samples[Math.min(native.samples.length - 1, Math.floor(i * ratio))]!);
      expect(snrDb(twin.samples, nearest)).toBeLessThan(20);
    });
  }
});
