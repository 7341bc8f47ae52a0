import { Readable } from 'node:stream';
import { mulberry32 } from '../helpers/prng.js';
import { describe, expect, it } from 'vitest';
import { ASRError, InvalidAudioError, decodeAudio, encodeWav, openAudio } from '../../src/index.js';

const prng = mulberry32;

function seeds(): Buffer[] {
  const x = new Float32Array(800);
  for (let i = 0; i < x.length; i++) x[i] = 0.6 * Math.sin(i / 7);
  const stereo = new Float32Array(1600);
  for (let i = 0; i < stereo.length; i++) stereo[i] = 0.3 * Math.cos(i / 5);
  const ext = encodeWav(x, 22050, { bitsPerSample: 24 });
  // Rewrite as WAVE_FORMAT_EXTENSIBLE (40-byte fmt) so the GUID path is fuzzed too.
  const fmt = Buffer.alloc(48);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(40, 4);
  ext.copy(fmt, 8, 20, 36);
  fmt.writeUInt16LE(0xfffe, 8);
  fmt.writeUInt16LE(22, 24);
  fmt.writeUInt16LE(24, 26);
  fmt.writeUInt16LE(1, 32);
  Buffer.from([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]).copy(fmt, 34);
  const extensible = Buffer.concat([ext.subarray(0, 12), fmt, ext.subarray(36)]);
  extensible.writeUInt32LE(extensible.length - 8, 4);
  const streamed = encodeWav(x, 16000);
  streamed.writeUInt32LE(0xffffffff, 40);
  const junk = encodeWav(x, 11025, { channels: 2 });
  const withJunk = Buffer.concat([junk.subarray(0, 36), Buffer.from('LIST\x05\x00\x00\x00INFOx\x00', 'latin1'), junk.subarray(36)]);
  withJunk.writeUInt32LE(withJunk.length - 8, 4);
  const rf = encodeWav(x, 16000);
  const ds64 = Buffer.alloc(36);
  ds64.write('ds64', 0, 'latin1');
  ds64.writeUInt32LE(28, 4);
  ds64.writeBigUInt64LE(BigInt(rf.length - 8 + 36), 8);
  ds64.writeBigUInt64LE(BigInt(rf.length - 44), 16);
  const rf64 = Buffer.concat([Buffer.from('RF64\xff\xff\xff\xffWAVE', 'latin1'), ds64, rf.subarray(12, 40), Buffer.from([0xff, 0xff, 0xff, 0xff]), rf.subarray(44)]);
  return [
    streamed,
    withJunk,
    rf64,
    encodeWav(x, 16000),
    encodeWav(x, 8000, { bitsPerSample: 8 }),
    encodeWav(stereo, 44100, { channels: 2, float: true }),
    encodeWav(x, 48000, { float: true, bitsPerSample: 64 }),
    encodeWav(stereo, 16000, { channels: 4, bitsPerSample: 32 }),
    extensible,
  ];
}

function mutate(src: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(src);
  const ops = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < ops; k++) {
    const r = rnd();
    const pos = Math.floor(rnd() * b.length);
    if (r < 0.3) {
      b[pos] = b[pos]! ^ (1 << Math.floor(rnd() * 8)); // bit flip
    } else if (r < 0.45) {
      b = b.subarray(0, pos); // truncate
    } else if (r < 0.65) {
      // corrupt a header field (sizes, counts, rates, tags live in the first 80 bytes)
      const at = Math.floor(rnd() * Math.min(80, Math.max(1, b.length - 4)));
      const vals = [0, 1, 0xffffffff, 0x7fffffff, 0xfffe, 3, Math.floor(rnd() * 2 ** 32)];
      if (at + 4 <= b.length) b.writeUInt32LE(vals[Math.floor(rnd() * vals.length)]! >>> 0, at);
    } else if (r < 0.8) {
      // insert a random chunk
      const len = Math.floor(rnd() * 20);
      const chunk = Buffer.alloc(8 + len);
      chunk.write(['JUNK', 'data', 'fmt ', 'LIST', 'fact'][Math.floor(rnd() * 5)]!, 0, 'latin1');
      chunk.writeUInt32LE(rnd() < 0.5 ? len : Math.floor(rnd() * 2 ** 32), 4);
      b = Buffer.concat([b.subarray(0, pos), chunk, b.subarray(pos)]);
    } else if (r < 0.9) {
      b.fill(Math.floor(rnd() * 256), pos, Math.min(b.length, pos + Math.floor(rnd() * 16)));
    } else {
      b = Buffer.concat([b, Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)))]);
    }
  }
  return b;
}

function checkOutcome(samples: Float32Array): void {
  for (const v of samples) {
    if (!(v >= -1 && v <= 1)) throw new Error(`sample out of range or not finite: ${v}`);
  }
}

/** Mutations run (the issue asks for at least 10,000). */
const N = 12_000;

describe('fuzz: random mutations of valid WAVs', () => {
  it(`${N.toLocaleString('en-US')} mutations: every outcome is finite samples in [-1, 1] or an InvalidAudioError`, async () => {
    const base = seeds();
    const rnd = prng(0x5eed);
    let ok = 0;
    let typed = 0;
    const codes: Record<string, number> = {};
    for (let i = 0; i < N; i++) {
      const input = mutate(base[i % base.length]!, rnd);
      const viaStream = i % 10 === 0;
      try {
        if (viaStream) {
          // Random chunking, through a Readable or a plain async iterable.
          const parts: Buffer[] = [];
          for (let p = 0; p < input.length; ) {
            const n = 1 + Math.floor(rnd() * 300);
            parts.push(input.subarray(p, p + n));
            p += n;
          }
          const source = i % 20 === 0 ? Readable.from(parts) : (async function* () {
            yield* parts;
          })();
          const r = await openAudio(source, { sampleRate: 16000, chunkFrames: 1 + Math.floor(rnd() * 500) });
          for await (const c of r) checkOutcome(c);
        } else {
          const d = await decodeAudio(input, { sampleRate: 16000 });
          checkOutcome(d.samples);
        }
        ok++;
      } catch (e) {
        // Bad WAV bytes are bad audio: never an argument error, never a bare Error.
        if (!InvalidAudioError.isInstance(e)) {
          throw new Error(`mutation ${i} (seed 0x5eed) threw ${ASRError.isInstance(e) ? e.name : 'a non-ASRError'}: ${String(e)}\n${input.subarray(0, 64).toString('hex')}`);
        }
        const kind = e.message.replace(/"[^"]*"|0x[\da-f]+|[\d,.]+/g, '#');
        codes[kind] = (codes[kind] ?? 0) + 1;
        typed++;
      }
    }
    expect(ok + typed).toBe(N);
    console.log(`fuzz: ${N} mutations, ${ok} decoded, ${typed} typed errors in ${Object.keys(codes).length} kinds`);
    // Both outcomes must occur, or the mutations are too weak / too strong to mean anything.
    expect(ok).toBeGreaterThan(500);
    expect(typed).toBeGreaterThan(500);
  }, 120_000);
});
