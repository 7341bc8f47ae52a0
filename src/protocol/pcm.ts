/**
 * The audio frames of the streaming protocol: mono little-endian PCM in the session's encoding.
 * The client encodes with {@link encodePcm}, the server decodes with {@link decodePcm}.
 *
 * @module
 */
import type { StreamEncoding } from './messages.js';

/** Bytes per sample of an encoding. */
export function bytesPerSample(encoding: StreamEncoding): number {
  return encoding === 'pcm_s16le' ? 2 : 4;
}

/** Encodes mono float samples as one binary frame (s16: clipped to [-1, 1] and rounded). */
export function encodePcm(samples: Float32Array, encoding: StreamEncoding): Buffer {
  if (encoding === 'pcm_f32le') return Buffer.from(samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength));
  const out = Buffer.allocUnsafe(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]!));
    out.writeInt16LE(Math.round(v < 0 ? v * 32768 : v * 32767), i * 2);
  }
  return out;
}

/**
 * Decodes one binary frame (a whole number of samples, see {@link bytesPerSample}) into samples
 * that own their memory, or says what is wrong with it (NaN or infinite float samples).
 */
export function decodePcm(frame: Uint8Array, encoding: StreamEncoding): { samples: Int16Array | Float32Array } | { problem: string } {
  const copy = new Uint8Array(frame.length);
  copy.set(frame);
  if (encoding === 'pcm_s16le') return { samples: new Int16Array(copy.buffer) };
  const f = new Float32Array(copy.buffer);
  for (const x of f) {
    if (!Number.isFinite(x)) return { problem: 'A pcm_f32le frame contains NaN or Infinity' };
  }
  return { samples: f };
}
