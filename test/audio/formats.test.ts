import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkNormalizer, Resampler, chunkToMono, decodeAudio, encodeWav, openAudio, resample } from '../../src/index.js';
import { AUDIO_DIR, haveAssets } from '../helpers/shared.js';

const SOURCES = [join(AUDIO_DIR, 'asr', 'jfk.wav'), join(AUDIO_DIR, 'espeak', 'espeak-001.wav')];

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

const run = haveAssets(...SOURCES) && hasSox();
const d = run ? describe : describe.skip;

d('every WAV format decodes like its 16-bit mono 16 kHz twin made by sox', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'hasr-fmt-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  // [name, sox output options, minimum SNR in dB vs the twin]
  // Same-rate integer/float formats must match to within 16-bit quantisation (the twin itself is
  // 16-bit, so any format with ≥ 16 bits reproduces it exactly; 8-bit is bounded by its own
  // quantisation, ~6 dB per bit). Other rates go through two different resamplers (ours and
  // sox's), so they are compared with an SNR floor instead of sample equality.
  const same: [string, string[], number][] = [
    ['u8', ['-b', '8', '-e', 'unsigned-integer'], 25],
    ['s16', ['-b', '16', '-e', 'signed-integer'], 200],
    ['s24 (extensible)', ['-b', '24', '-e', 'signed-integer'], 200],
    ['s32 (extensible)', ['-b', '32', '-e', 'signed-integer'], 200],
    ['f32', ['-b', '32', '-e', 'floating-point'], 200],
    ['f64', ['-b', '64', '-e', 'floating-point'], 200],
    ['stereo', ['-c', '2'], 200],
    ['5 channels', ['-c', '5'], 200],
  ];
  for (const src of SOURCES) {
    for (const [name, opts, minSnr] of same) {
      it(`${name} (${src.split('/').pop()})`, async () => {
        const twin = await decodeAudio(src);
        expect(twin.sampleRate).toBe(16000);
        const path = join(tmp, `${name.replace(/\W+/g, '_')}-${src.split('/').pop()}`);
        execFileSync('sox', [src, ...opts, path]);
        for (const input of [path, readFileSync(path), createReadStream(path)]) {
          const got = await decodeAudio(input, { sampleRate: 16000 });
          expect(got.samples.length).toBe(twin.samples.length);
          expect(snrDb(twin.samples, got.samples)).toBeGreaterThan(minSnr);
        }
      });
    }
    for (const rate of [8000, 22050, 44100, 48000]) {
      it(`${rate} Hz resampled to 16 kHz matches sox's twin (${src.split('/').pop()})`, async () => {
        // The twin: sox resamples the source to `rate` and back to 16 kHz; ours decodes the
        // `rate` file to 16 kHz. Both lose what is above the lower Nyquist, so compare the two.
        const mid = join(tmp, `r${rate}-${src.split('/').pop()}`);
        const twinPath = join(tmp, `r${rate}-twin-${src.split('/').pop()}`);
        execFileSync('sox', [src, '-r', String(rate), mid]);
        execFileSync('sox', [mid, '-r', '16000', '-b', '16', '-c', '1', twinPath]);
        const twin = await decodeAudio(twinPath);
        const got = await decodeAudio(mid, { sampleRate: 16000 });
        expect(Math.abs(got.samples.length - twin.samples.length)).toBeLessThanOrEqual(1);
        expect(got.durationSec).toBeCloseTo(twin.durationSec, 3);
        expect(snrDb(twin.samples, got.samples)).toBeGreaterThan(30);
      });
    }
  }
});

function tone(freq: number, rate: number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 0.5 * Math.sin((2 * Math.PI * freq * i) / rate);
  return a;
}
function rms(a: Float32Array, margin = 256): number {
  let s = 0;
  for (let i = margin; i < a.length - margin; i++) s += a[i]! ** 2;
  return Math.sqrt(s / (a.length - 2 * margin));
}

it('the resampler removes content above the new Nyquist instead of aliasing it', () => {
  // 11 kHz is above the 8 kHz output Nyquist; sample dropping would fold it to 5 kHz.
  const alias = resample(tone(11_000, 48_000, 48_000), 48_000, 16_000);
  expect(20 * Math.log10(rms(alias) / (0.5 / Math.SQRT2))).toBeLessThan(-40);
  const inBand = resample(tone(1_000, 48_000, 48_000), 48_000, 16_000);
  expect(rms(inBand)).toBeCloseTo(0.5 / Math.SQRT2, 2);
  // Sample dropping would keep the aliased tone at full level: prove the test can tell.
  const dropped = tone(11_000, 48_000, 48_000).filter((_, i) => i % 3 === 0);
  expect(20 * Math.log10(rms(dropped) / (0.5 / Math.SQRT2))).toBeGreaterThan(-1);
});

it('resampling in chunks gives exactly the one-shot result', () => {
  const x = tone(440, 44_100, 44_100);
  const whole = resample(x, 44_100, 16_000);
  const r = new Resampler(44_100, 16_000);
  const parts: number[] = [];
  for (let i = 0; i < x.length; i += 1000) parts.push(...r.process(x.subarray(i, i + 1000)));
  parts.push(...r.flush());
  expect(parts.length).toBe(whole.length);
  expect(Math.max(...parts.map((v, i) => Math.abs(v - whole[i]!)))).toBeLessThan(1e-6);
});

it('raw PCM16, raw float and live chunks downmix and scale correctly', async () => {
  const stereo = new Int16Array([16384, -16384, 8192, 8192, -32768, -32768]);
  const a = await decodeAudio({ format: 'pcm16', data: new Uint8Array(stereo.buffer), sampleRate: 8000, channels: 2 });
  expect(Array.from(a.samples)).toEqual([0, 0.25, -1]);
  expect(a.sampleRate).toBe(8000);
  const f = await decodeAudio({ format: 'f32', samples: Float32Array.from([0.5, 0.25, 1, 0]), sampleRate: 16000, channels: 2 });
  expect(Array.from(f.samples)).toEqual([0.375, 0.5]);
  expect(Array.from(chunkToMono({ samples: stereo, sampleRate: 8000, channels: 2 }))).toEqual([0, 0.25, -1]);
  const n = new ChunkNormalizer(16000);
  const out = [...n.push({ samples: new Int16Array(8000), sampleRate: 8000 }), ...n.flush()];
  expect(out.length).toBe(16000);
  expect(() => n.push({ samples: new Int16Array(10), sampleRate: 48000 })).toThrow(/format changed mid-stream/);
  expect(() => new ChunkNormalizer(16000).push({ samples: Float32Array.from([Number.NaN]), sampleRate: 16000 })).toThrow(/NaN/);
});

it('encodeWav round-trips through decodeAudio for every sample format', async () => {
  const x = tone(300, 16000, 1600);
  for (const opts of [{}, { bitsPerSample: 24 as const }, { bitsPerSample: 32 as const }, { float: true }, { float: true, bitsPerSample: 64 as const }]) {
    const back = await decodeAudio(encodeWav(x, 16000, opts));
    expect(snrDb(x, back.samples)).toBeGreaterThan(80);
  }
});

it('reads streamed WAVs (data size 0 or 0xFFFFFFFF) to the end', async () => {
  const x = tone(300, 16000, 16000);
  for (const size of [0, 0xffffffff]) {
    const wav = encodeWav(x, 16000);
    wav.writeUInt32LE(size, 40);
    wav.writeUInt32LE(size, 4);
    const got = await decodeAudio(wav);
    expect(got.samples.length).toBe(16000);
    const r = await openAudio(
      (async function* () {
        for (let i = 0; i < wav.length; i += 999) yield wav.subarray(i, i + 999);
      })(),
    );
    expect(r.durationSec).toBeUndefined();
    let n = 0;
    for await (const c of r) n += c.length;
    expect(n).toBe(16000);
  }
});

it('skips odd-sized and unknown chunks (with their pad byte)', async () => {
  const wav = encodeWav(tone(300, 16000, 100), 16000);
  const junk = Buffer.concat([Buffer.from('JUNK'), Buffer.from([3, 0, 0, 0]), Buffer.from([1, 2, 3, 0])]);
  const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([4, 0, 0, 0]), Buffer.from('INFO')]);
  const withJunk = Buffer.concat([wav.subarray(0, 12), junk, wav.subarray(12, 36), list, wav.subarray(36)]);
  withJunk.writeUInt32LE(withJunk.length - 8, 4);
  const got = await decodeAudio(withJunk);
  expect(got.samples.length).toBe(100);
});
