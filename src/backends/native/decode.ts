import type { Segment } from '../../spec/index.js';
import type { ResolvedModel } from '../../models/index.js';
import type { SherpaOfflineRecognizer } from '../../internal/sherpa.js';
import { decodeError } from './decode-errors.js';
import { segmentFromResult } from './words.js';

/** Silence padded after (and, without real context, before) each decoded piece: clean edges. */
export const PAD_SEC = 0.2;

/**
 * Shortest audio handed to an offline model, seconds. Less than a few feature frames makes
 * onnxruntime fail inside the encoder (a Reshape of an empty tensor: an error from decodeAsync, an
 * abort of the process from decode); shorter audio is padded with trailing silence, so a clip of
 * 20 ms gives an empty (or short) transcript like any other near-silent clip.
 */
const MIN_DECODE_SEC = 0.5;

/** A copy of `samples` with {@link PAD_SEC} of silence after it and, when `left`, before it. */
export function padded(samples: Float32Array, rate: number, left = true): Float32Array {
  const pad = Math.round(PAD_SEC * rate);
  const out = new Float32Array(samples.length + (left ? 2 : 1) * pad);
  out.set(samples, left ? pad : 0);
  return out;
}

/** `samples`, or a copy padded with trailing silence to {@link MIN_DECODE_SEC}. */
export function atLeast(samples: Float32Array, rate: number): Float32Array {
  const min = Math.round(MIN_DECODE_SEC * rate);
  if (samples.length >= min) return samples;
  const out = new Float32Array(min);
  out.set(samples);
  return out;
}

/** An offline recognizer and the model it runs. */
interface OfflineDecoder {
  readonly recognizer: SherpaOfflineRecognizer;
  readonly model: ResolvedModel;
}

/**
 * Decodes `samples` (starting at `offset` seconds on the file's timeline) in one offline stream;
 * the segment found, kept inside the samples' span. `pad` appends silence (VAD-cut pieces: CTC
 * needs a few frames past the last word to emit it; before a piece there is real context already,
 * and a left pad measured no better). The samples are copied into the stream before this returns
 * its promise, so a caller may reuse their array at once.
 */
export async function decodeSamples(d: OfflineDecoder, samples: Float32Array, offset: number, pad: boolean, hotwords: string | undefined): Promise<Segment | undefined> {
  const rate = d.model.manifest.sampleRate;
  const end = offset + samples.length / rate;
  const s = hotwords !== undefined ? d.recognizer.createStream(hotwords) : d.recognizer.createStream();
  const input = atLeast(pad ? padded(samples, rate, false) : samples, rate);
  s.acceptWaveform({ sampleRate: rate, samples: input });
  const r = await d.recognizer.decodeAsync(s).catch((e: unknown) => Promise.reject(decodeError(d.model, e)));
  const found = segmentFromResult(r, offset, offset + input.length / rate);
  return found && clampSegment(found, offset, end);
}

/** Keeps a segment (and its words) inside the piece it came from. */
export function clampSegment(seg: Segment, start: number, end: number): Segment {
  const c = (t: number): number => Math.min(end, Math.max(start, t));
  const words = seg.words.map((w) => ({ ...w, start: c(w.start), end: c(w.end) }));
  return { ...seg, start: c(seg.start), end: Math.max(c(seg.start), c(seg.end)), words };
}

/**
 * The segment with only the words whose middle lies in [from, to); its text, times and confidence
 * follow the kept words. Undefined when none is left.
 */
export function keepWords(seg: Segment, from: number, to: number): Segment | undefined {
  const words = seg.words.filter((w) => {
    const mid = (w.start + w.end) / 2;
    return mid >= from && mid < to;
  });
  if (words.length === seg.words.length) return seg;
  if (words.length === 0) return undefined;
  const confs = words.map((w) => w.confidence).filter((c): c is number => c !== undefined);
  const { confidence: _drop, ...rest } = seg;
  const out: Segment = {
    ...rest,
    start: Math.max(seg.start, words[0]!.start),
    end: Math.min(seg.end, Math.max(words[words.length - 1]!.end, words[0]!.start)),
    text: words.map((w) => w.word).join(' '),
    words,
  };
  return confs.length ? { ...out, confidence: confs.reduce((a, b) => a + b, 0) / confs.length } : out;
}
