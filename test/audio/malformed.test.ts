import { readFileSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ASRError, InvalidAudioError, InvalidArgumentError, decodeAudio, openAudio } from '../../src/index.js';

const dir = fileURLToPath(new URL('../fixtures/wav/', import.meta.url));
const corpus = JSON.parse(readFileSync(join(dir, 'corpus.json'), 'utf8')) as Record<string, string>;

describe('malformed WAV corpus (test/fixtures/wav)', () => {
  it('has the corpus', () => {
    expect(Object.keys(corpus).length).toBeGreaterThanOrEqual(20);
  });
  for (const [file, message] of Object.entries(corpus)) {
    it(`${file}: typed error from a path, a Buffer and a stream`, async () => {
      const path = join(dir, file);
      for (const input of [path, readFileSync(path), createReadStream(path)]) {
        const err = await decodeAudio(input).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(InvalidAudioError.isInstance(err), `${file} → ${String(err)}`).toBe(true);
        const msg = (err as Error).message;
        // Streams can't know the file size, so truncation is reported when the stream ends.
        if (input instanceof Buffer || typeof input === 'string' || !/truncated/.test(message)) {
          expect(msg).toContain(message);
        } else {
          expect(msg).toMatch(/truncated/);
        }
      }
    });
  }
});

describe('bad raw input', () => {
  const cases: [string, unknown, typeof ASRError][] = [
    ['odd PCM16 byte count', { format: 'pcm16', data: new Uint8Array(3), sampleRate: 16000 }, InvalidAudioError],
    ['PCM16 not whole stereo frames', { format: 'pcm16', data: new Uint8Array(6), sampleRate: 16000, channels: 2 }, InvalidAudioError],
    ['zero rate', { format: 'pcm16', data: new Uint8Array(4), sampleRate: 0 }, InvalidAudioError],
    ['fractional rate', { format: 'f32', samples: new Float32Array(4), sampleRate: 16000.5 }, InvalidAudioError],
    ['zero channels', { format: 'f32', samples: new Float32Array(4), sampleRate: 16000, channels: 0 }, InvalidAudioError],
    ['NaN float', { format: 'f32', samples: Float32Array.from([0, Number.NaN]), sampleRate: 16000 }, InvalidAudioError],
    ['Infinity in bare Float32Array', Float32Array.from([0, Number.POSITIVE_INFINITY]), InvalidAudioError],
    ['empty Float32Array', new Float32Array(0), InvalidAudioError],
    ['unknown raw format', { format: 'mp3', data: new Uint8Array(4) }, InvalidArgumentError],
    ['Int16Array', new Int16Array(10), InvalidArgumentError],
    ['number', 42, InvalidArgumentError],
    ['http URL', new URL('http://127.0.0.1/a.wav'), InvalidArgumentError],
    ['missing file', '/nonexistent/dir/nothing.wav', InvalidAudioError],
    ['a directory', dir, InvalidAudioError],
  ];
  for (const [name, input, cls] of cases) {
    it(name, async () => {
      const err = await decodeAudio(input as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(cls.isInstance(err), String(err)).toBe(true);
    });
  }

  it('names the missing file', async () => {
    await expect(decodeAudio('/nonexistent/x.wav')).rejects.toThrow('Audio file not found: /nonexistent/x.wav');
  });

  it('rejects bad options eagerly, naming them', async () => {
    await expect(openAudio(new Float32Array(10), { sampleRate: -1 })).rejects.toThrow('`sampleRate`');
    await expect(openAudio(new Float32Array(10), { chunkFrames: 0 })).rejects.toThrow('`chunkFrames`');
    await expect(openAudio(new Float32Array(10), { maxDurationSec: 0 })).rejects.toThrow('`maxDurationSec`');
  });

  it('enforces maxDurationSec', async () => {
    await expect(decodeAudio(new Float32Array(32000), { maxDurationSec: 1 })).rejects.toThrow(/limit of 1 s|limit is 1 s/);
  });
});
