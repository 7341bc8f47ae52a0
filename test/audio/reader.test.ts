import { appendFileSync, createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AbortedError, InvalidArgumentError, InvalidAudioError, decodeAudio, encodeWav, openAudio } from '../../src/index.js';

function tone(freq: number, rate: number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 0.5 * Math.sin((2 * Math.PI * freq * i) / rate);
  return a;
}
function snrDb(ref: Float32Array, x: Float32Array): number {
  let sig = 0;
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    sig += ref[i]! ** 2;
    err += (ref[i]! - x[i]!) ** 2;
  }
  return err === 0 ? Infinity : 10 * Math.log10(sig / err);
}
async function* pieces(b: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}
async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}
const openFds = (): number => readdirSync('/proc/self/fd').length;

const tmp = mkdtempSync(join(tmpdir(), 'hasr-reader-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('decodeAudio / openAudio inputs', () => {
  it('raw PCM16 and raw float: downmixed, scaled, at their own rate unless asked', async () => {
    const stereo = new Int16Array([16384, -16384, 8192, 8192, -32768, -32768]);
    const a = await decodeAudio({ format: 'pcm16', data: new Uint8Array(stereo.buffer), sampleRate: 8000, channels: 2 });
    expect(Array.from(a.samples)).toEqual([0, 0.25, -1]);
    expect(a.sampleRate).toBe(8000);
    expect(a.format).toEqual({ sampleRate: 8000, channels: 2, bitsPerSample: 16, encoding: 'pcm', formatTag: 0, dataBytes: undefined });
    const f = await decodeAudio({ format: 'f32', samples: Float32Array.from([0.5, 0.25, 1, 0]), sampleRate: 16000, channels: 2 });
    expect(Array.from(f.samples)).toEqual([0.375, 0.5]);
    const up = await decodeAudio({ format: 'pcm16', data: new Uint8Array(16000), sampleRate: 8000 }, { sampleRate: 16000 });
    expect(up.samples.length).toBe(16000);
    expect(up.durationSec).toBe(1);
    const bare = await decodeAudio(Float32Array.from([0.1, -0.2]));
    expect(bare.sampleRate).toBe(16000);
    expect(bare.samples).toEqual(Float32Array.from([0.1, -0.2]));
  });

  it('a path, a file: URL, a Buffer, a Readable, a web ReadableStream and 1-byte chunks give the same samples', async () => {
    const x = tone(440, 22_050, 22_050);
    const wav = encodeWav(x, 22_050, { bitsPerSample: 24 });
    const path = join(tmp, 'same.wav');
    writeFileSync(path, wav);
    const ref = await decodeAudio(wav, { sampleRate: 16000 });
    expect(ref.samples.length).toBe(16000);
    for (const input of [
      path,
      pathToFileURL(path),
      createReadStream(path, { highWaterMark: 333 }),
      Readable.from(pieces(wav, 4096)),
      Readable.toWeb(Readable.from(pieces(wav, 100))) as unknown as AsyncIterable<Uint8Array>,
      pieces(wav, 1),
    ]) {
      const got = await decodeAudio(input, { sampleRate: 16000 });
      expect(got.samples).toEqual(ref.samples);
    }
    expect(snrDb(x.subarray(0, 100), (await decodeAudio(wav)).samples.subarray(0, 100))).toBeGreaterThan(100);
  });

  it('knows the duration up front for sized WAVs, not for streamed ones', async () => {
    const wav = encodeWav(tone(300, 16000, 8000), 16000);
    const r = await openAudio(wav, { sampleRate: 8000 });
    expect(r.durationSec).toBe(0.5);
    expect(r.sampleRate).toBe(8000);
    expect(r.format.dataBytes).toBe(16000);
    await r.close();
    wav.writeUInt32LE(0xffffffff, 40);
    const s = await openAudio(wav);
    expect(s.durationSec).toBeUndefined();
    expect(s.format.dataBytes).toBeUndefined();
    await s.close();
  });

  it('reads streamed WAVs (data size 0 or 0xFFFFFFFF) to the end, dropping a trailing partial frame', async () => {
    const x = tone(300, 16000, 16000);
    for (const size of [0, 0xffffffff]) {
      const wav = encodeWav(x, 16000, { channels: 2 });
      wav.writeUInt32LE(size, 40);
      wav.writeUInt32LE(size, 4);
      const cut = Buffer.concat([wav, Buffer.from([1, 2, 3])]); // 3 bytes of a 4-byte frame
      expect((await decodeAudio(cut)).samples.length).toBe(8000);
      const r = await openAudio(pieces(cut, 999));
      expect(r.durationSec).toBeUndefined();
      let n = 0;
      for await (const c of r) n += c.length;
      expect(n).toBe(8000);
    }
  });

  it('reads RF64 (size in the ds64 chunk), stopping at the declared end', async () => {
    const wav = encodeWav(tone(300, 16000, 1000), 16000);
    const ds64 = Buffer.alloc(8 + 28);
    ds64.write('ds64', 0, 'latin1');
    ds64.writeUInt32LE(28, 4);
    ds64.writeBigUInt64LE(BigInt(wav.length + 28), 8);
    ds64.writeBigUInt64LE(2000n, 16);
    const rf = Buffer.concat([Buffer.from('RF64'), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from('WAVE'), ds64, wav.subarray(12, 40), Buffer.from([0xff, 0xff, 0xff, 0xff]), wav.subarray(44), Buffer.from('LIST\x04\x00\x00\x00INFO', 'latin1')]);
    const got = await decodeAudio(rf);
    expect(got.samples.length).toBe(1000);
    expect(got.format.dataBytes).toBe(2000);
  });

  it('skips odd-sized and unknown chunks (with their pad byte), before and after fmt', async () => {
    const wav = encodeWav(tone(300, 16000, 100), 16000);
    const junk = Buffer.concat([Buffer.from('JUNK'), Buffer.from([3, 0, 0, 0]), Buffer.from([1, 2, 3, 0])]);
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([4, 0, 0, 0]), Buffer.from('INFO')]);
    const odd = Buffer.concat([Buffer.from('zzz '), Buffer.from([1, 0, 0, 0]), Buffer.from([7, 0])]);
    const withJunk = Buffer.concat([wav.subarray(0, 12), junk, wav.subarray(12, 36), odd, list, wav.subarray(36)]);
    withJunk.writeUInt32LE(withJunk.length - 8, 4);
    for (const input of [withJunk, pieces(withJunk, 5)]) {
      const got = await decodeAudio(input);
      expect(got.samples).toEqual((await decodeAudio(wav)).samples);
    }
  });

  it('an 8-bit odd-length data chunk with its pad byte', async () => {
    const wav = encodeWav(Float32Array.from([0, 0.5, -0.5]), 8000, { bitsPerSample: 8 });
    const padded = Buffer.concat([wav, Buffer.from([0x80])]);
    const got = await decodeAudio(padded);
    expect(Array.from(got.samples)).toEqual([0, 0.5, -0.5]);
  });
});

describe('errors, cancellation and resources', () => {
  it('a missing file is an InvalidAudioError naming the path, from a path, a URL or a file stream', async () => {
    const missing = join(tmp, 'nope', 'missing.wav');
    for (const input of [() => missing, () => pathToFileURL(missing), () => createReadStream(missing)]) {
      const e = await errorOf(decodeAudio(input()));
      expect(InvalidAudioError.isInstance(e), String(e)).toBe(true);
      expect((e as Error).message).toContain(missing);
    }
  });

  it('a source that throws mid-stream gives an InvalidAudioError with the cause', async () => {
    const wav = encodeWav(tone(300, 16000, 16000), 16000);
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield wav.subarray(0, 1000);
      throw new Error('socket hang up');
    }
    const e = await errorOf(decodeAudio(failing()));
    expect(InvalidAudioError.isInstance(e)).toBe(true);
    expect((e as Error).message).toBe('Reading the audio input failed: socket hang up');
    expect((e as Error).cause).toBeInstanceOf(Error);
    const strings = Readable.from(['RIFF....WAVE']);
    await expect(decodeAudio(strings)).rejects.toThrow(/yielded a string/);
  });

  it('a stream that ends before its declared data size is reported as truncated', async () => {
    const wav = encodeWav(tone(300, 16000, 16000), 16000);
    const e = await errorOf(decodeAudio(pieces(wav.subarray(0, 12_044), 4096)));
    expect((e as Error).message).toBe('WAV data chunk truncated: header says 32,000 bytes, input ended after 12,000');
  });

  it('aborting a read of a source that never yields rejects with AbortedError and releases it', async () => {
    const wav = encodeWav(tone(300, 16000, 16000), 16000);
    let returned = false;
    const hung: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => {
        let first = true;
        return {
          next: () => {
            if (first) {
              first = false;
              return Promise.resolve({ done: false, value: wav.subarray(0, 4044) });
            }
            return new Promise<IteratorResult<Uint8Array>>(() => {}); // never settles
          },
          return: () => {
            returned = true;
            return Promise.resolve({ done: true, value: undefined });
          },
        };
      },
    };
    const ac = new AbortController();
    const p = decodeAudio(hung, { abortSignal: ac.signal });
    setImmediate(() => ac.abort());
    const e = await errorOf(p);
    expect(AbortedError.isInstance(e), String(e)).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(returned).toBe(true);
  });

  it('an already-aborted signal reads nothing', async () => {
    let pulled = false;
    const src: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          pulled = true;
          return Promise.resolve({ done: true, value: undefined });
        },
      }),
    };
    await expect(decodeAudio(src, { abortSignal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    expect(pulled).toBe(false);
  });

  it.runIf(existsSync('/proc/self/fd'))('closes the file when the consumer breaks, on close(), and on a decoding error', async () => {
    // Over 1 MiB, so it is read piece by piece (smaller files are read whole and closed at once).
    const path = join(tmp, 'long.wav');
    writeFileSync(path, encodeWav(tone(300, 16000, 640_000), 16000));
    const small = join(tmp, 'small.wav');
    writeFileSync(small, encodeWav(tone(300, 16000, 16_000), 16000));
    const nan = join(tmp, 'nan.wav');
    const f = encodeWav(tone(300, 16000, 160_000), 16000, { float: true });
    f.writeFloatLE(Number.NaN, 44 + 4 * 100_000);
    writeFileSync(nan, f);
    const before = openFds();
    const r1 = await openAudio(path, { chunkFrames: 1000 });
    expect(openFds()).toBe(before + 1);
    for await (const _ of r1) break;
    expect(openFds()).toBe(before);
    const r0 = await openAudio(small);
    expect(openFds()).toBe(before);
    expect((await decodeAudio(small)).samples.length).toBe(16_000);
    await r0.close();
    const r2 = await openAudio(path);
    await r2.close();
    await r2.close();
    expect(openFds()).toBe(before);
    await expect(decodeAudio(nan)).rejects.toThrow('WAV contains a NaN float sample at frame 100,000');
    expect(openFds()).toBe(before);
    await expect(decodeAudio(path, { maxDurationSec: 5 })).rejects.toThrow('Audio is 40.0 s long; the limit is 5 s');
    expect(openFds()).toBe(before);
  });

  it('a small WAV still being written (sizes unknown) is read on past its size at open', async () => {
    const path = join(tmp, 'growing.wav');
    const wav = encodeWav(tone(300, 16000, 16000), 16000);
    wav.writeUInt32LE(0xffffffff, 4);
    wav.writeUInt32LE(0xffffffff, 40);
    writeFileSync(path, wav.subarray(0, 44 + 16000));
    const reader = await openAudio(path, { chunkFrames: 4000 });
    appendFileSync(path, wav.subarray(44 + 16000));
    let n = 0;
    for await (const c of reader) n += c.length;
    expect(n).toBe(16000);
  });

  it('many small files read at once give each its own samples (one read buffer serves them all)', async () => {
    const paths = Array.from({ length: 12 }, (_, i) => {
      const path = join(tmp, `small-${i}.wav`);
      writeFileSync(path, encodeWav(tone(200 + 50 * i, 16000, 8000 + 1000 * i), 16000));
      return path;
    });
    const one = [];
    for (const p of paths) one.push((await decodeAudio(p)).samples);
    // Interleaved: each reader opened before any is read.
    const readers = await Promise.all(paths.map((p) => openAudio(p, { chunkFrames: 3000 })));
    const together = await Promise.all(
      readers.map(async (r) => {
        const parts: number[] = [];
        for await (const c of r) parts.push(...c);
        return parts;
      }),
    );
    for (const [i, t] of together.entries()) {
      expect(t.length).toBe(8000 + 1000 * i);
      expect(Float32Array.from(t)).toEqual(one[i]);
    }
    // A larger file in between (the asynchronous path) changes nothing.
    const big = join(tmp, 'big.wav');
    writeFileSync(big, encodeWav(tone(440, 16000, 16000 * 40), 16000));
    const [a, b] = await Promise.all([decodeAudio(big), decodeAudio(paths[3]!)]);
    expect(a.samples.length).toBe(16000 * 40);
    expect(b.samples).toEqual(one[3]);
  });

  it.skipIf(process.platform === 'win32')('a FIFO path is refused at once with a typed error (opening it would wait for a writer)', async () => {
    const fifo = join(tmp, 'pipe.wav');
    execFileSync('mkfifo', [fifo]);
    const e = await errorOf(decodeAudio(fifo));
    expect(e).toBeInstanceOf(InvalidAudioError);
    expect((e as Error).message).toBe(`Audio path is not a file: ${fifo}`);
  });

  it('maxDurationSec stops a stream of unknown length as soon as it is exceeded', async () => {
    const wav = encodeWav(tone(300, 16000, 16000 * 10), 16000);
    wav.writeUInt32LE(0xffffffff, 40);
    let pulled = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const p of pieces(wav, 4096)) {
        pulled += p.length;
        yield p;
      }
    }
    await expect(decodeAudio(counted(), { maxDurationSec: 2 })).rejects.toThrow('Audio is longer than the limit of 2 s');
    expect(pulled).toBeLessThan(wav.length / 2);
  });

  it('a reader can be iterated once', async () => {
    const r = await openAudio(encodeWav(tone(300, 16000, 100), 16000));
    for await (const _ of r) void _;
    await expect(r[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('audio at a rate too far from the requested one is a typed error, not a huge kernel', async () => {
    const wav = encodeWav(new Float32Array(100), 8000);
    await expect(decodeAudio(wav, { sampleRate: 16 })).rejects.toThrow(InvalidAudioError);
    await expect(decodeAudio(wav, { sampleRate: 16 })).rejects.toThrow(/Cannot resample this 8,000 Hz audio to 16 Hz/);
  });

  it('encodeWav validates its arguments and refuses NaN', () => {
    expect(() => encodeWav(new Float32Array(3), 16000, { channels: 2 })).toThrow(InvalidArgumentError);
    expect(() => encodeWav(new Float32Array(2), 0)).toThrow(/`sampleRate`/);
    expect(() => encodeWav(Float32Array.from([Number.NaN]), 16000)).toThrow(InvalidAudioError);
  });

  it('encodeWav round-trips through decodeAudio for every sample format', async () => {
    const x = tone(300, 16000, 1600);
    for (const [opts, minSnr] of [
      [{ bitsPerSample: 8 as const }, 35],
      [{}, 85],
      [{ bitsPerSample: 24 as const }, 120],
      [{ bitsPerSample: 32 as const }, 120],
      [{ float: true }, 120],
      [{ float: true, bitsPerSample: 64 as const }, 120],
    ] as const) {
      const back = await decodeAudio(encodeWav(x, 16000, opts));
      expect(snrDb(x, back.samples), JSON.stringify(opts)).toBeGreaterThan(minSnr);
    }
  });
});
