import type { Segment, TranscriptionEvent } from '../../spec/index.js';
import { throwIfAborted } from '../../errors/index.js';
import { SampleBuffer } from '../../audio/index.js';
import { PAD_SEC, atLeast, clampSegment, padded } from './decode.js';
import { decodeError } from './decode-errors.js';
import type { LoadedOffline } from './loader.js';
import type { LiveInput } from './live-input.js';
import { segmentFromResult } from './words.js';

/** Slack kept beyond `maxSegmentSec` in the open utterance's audio, seconds. */
const OPEN_SLACK_SEC = 2;

/**
 * Live transcription with an offline model behind the VAD (pseudo-streaming): the open
 * utterance is re-decoded for a partial every `partialIntervalMs` while the VAD hears speech,
 * and a final comes when the VAD closes the utterance. The VAD is borrowed from the pool for the
 * stream's life.
 */
export async function* vadStream(l: LoadedOffline, input: LiveInput, partialIntervalMs: number): AsyncGenerator<TranscriptionEvent> {
  const { norm, partials, signal } = input;
  const rate = l.model.manifest.sampleRate;
  const vad = await l.vads.acquire();
  try {
    const intervalSamples = Math.round((partialIntervalMs / 1000) * rate);
    let total = 0;
    // Audio since the last closed segment, for partials of the open utterance (bounded by maxSegmentSec).
    const open = new SampleBuffer();
    /** Where the open audio starts on the stream's timeline, seconds. */
    let openStart = 0;
    let sinceDecode = 0;
    let lastPartial = '';
    const cap = Math.round((l.maxSegmentSec + OPEN_SLACK_SEC) * rate);
    const decode = async (samples: Float32Array, offset: number, end: number): Promise<Segment | undefined> => {
      const s = l.recognizer.createStream();
      s.acceptWaveform({ sampleRate: rate, samples: atLeast(padded(samples, rate), rate) });
      const r = await l.recognizer.decodeAsync(s).catch((e: unknown) => Promise.reject(decodeError(l.model, e)));
      const seg = segmentFromResult(r, offset - PAD_SEC, end + PAD_SEC);
      return seg ? clampSegment(seg, offset, end) : undefined;
    };
    const closeSegments = async function* (pieces: { start: number; end: number; samples: Float32Array }[]): AsyncGenerator<TranscriptionEvent> {
      for (const p of pieces) {
        throwIfAborted(signal);
        const seg = await decode(p.samples, p.start, p.end);
        if (seg) yield { type: 'final', segment: seg };
        lastPartial = '';
        open.clear();
        openStart = p.end;
        sinceDecode = 0;
      }
    };
    for await (const chunk of input.audio) {
      throwIfAborted(signal);
      const samples = norm.push(chunk);
      total += samples.length;
      open.append(samples);
      sinceDecode += samples.length;
      // Over the cap, the oldest pieces go (never the newest).
      for (let first = open.pieceAt(open.start); open.length > cap && first && first.start + first.samples.length < open.end; first = open.pieceAt(open.start)) {
        open.dropBefore(first.start + first.samples.length);
        openStart += first.samples.length / rate;
      }
      yield* closeSegments(vad.push(samples));
      if (partials && vad.inSpeech && sinceDecode >= intervalSamples) {
        sinceDecode = 0;
        const buf = open.slice(open.start).samples;
        const seg = await decode(buf, openStart, openStart + buf.length / rate);
        if (seg && seg.text !== lastPartial) {
          lastPartial = seg.text;
          yield { type: 'partial', text: seg.text, start: seg.start, end: total / rate };
        }
      }
    }
    const tail = norm.flush();
    if (tail.length) {
      total += tail.length;
      yield* closeSegments(vad.push(tail));
    }
    yield* closeSegments(vad.finish());
    yield { type: 'end', durationSec: total / rate };
  } finally {
    l.vads.release(vad);
  }
}
