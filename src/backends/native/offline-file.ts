import type { Segment } from '../../spec/index.js';
import { throwIfAborted } from '../../errors/index.js';
import { SampleBuffer } from '../../audio/index.js';
import type { VoiceActivityDetector } from '../../vad/index.js';
import { clampSegment, decodeSamples, keepWords } from './decode.js';
import type { LoadedOffline } from './loader.js';
import { yieldToLoop } from './yield.js';

/** Real audio kept on each side of a VAD piece when decoding it (VAD boundaries clip words). */
const CONTEXT_SEC = 0.15;
/**
 * Pieces closer than this are decoded across the gap like a forced cut (the VAD often starts a
 * piece late, so a short gap's far side is heard in the neighbour's context), seconds.
 */
const JOIN_GAP_SEC = 0.6;
/** Real audio decoded across a forced cut in continuous speech (no pause to cut at). */
const CUT_CONTEXT_SEC = 1;
/** VAD pieces of a file that may wait for the decoder while the VAD reads on (each ≤ maxSegmentSec + 2 s). */
const MAX_PIECES_AHEAD = 2;
/**
 * Audio fed to the VAD per turn of the event loop, seconds: the VAD runs on this thread, and a
 * whole read chunk (~8 s) or the catch-up on the first decode window took ~100 ms at once.
 */
const VAD_SLICE_SEC = 0.5;

/** A VAD piece waiting for its right-hand context, seconds. */
interface QueuedPiece {
  start: number;
  end: number;
  /** Real audio to decode before and after the piece. */
  left: number;
  right: number;
  /** Where the previous piece's words end and this one's begin (a forced cut), else -Infinity. */
  cut: number;
}

/**
 * Offline model over a file: the VAD finds pieces ≤ maxSegmentSec; each is decoded (off the
 * event loop) with real surrounding audio, because VAD boundaries clip word edges:
 * {@link CONTEXT_SEC} after a pause, {@link CUT_CONTEXT_SEC} across a forced cut in continuous
 * speech (where both neighbours then keep only the words on their side of the cut). A piece is
 * decoded once its right-hand context has arrived. Memory is bounded by a rolling window of
 * recent audio. Audio that fits one decode window is decoded whole, without the VAD.
 *
 * @param source - mono samples at the model's rate.
 * @returns the segments in order, and the samples read.
 */
export async function transcribeOfflineFile(
  l: LoadedOffline,
  source: AsyncIterable<Float32Array>,
  hotwords: string | undefined,
  signal?: AbortSignal,
): Promise<{ segments: Segment[]; samples: number }> {
  const rate = l.model.manifest.sampleRate;
  const decoder = { recognizer: l.recognizer, model: l.model };
  /** The rolling window of recent audio. */
  const recent = new SampleBuffer();
  const capacity = Math.round((l.maxSegmentSec + 2 * CUT_CONTEXT_SEC + 4) * rate);
  const segments: Segment[] = [];
  /**
   * Decodes `samples` (starting at `offset` seconds); VAD-cut pieces get silence padding
   * (`pad`), a whole file does not. Words whose middle lies before `cut` (seconds) belong to
   * the previous piece. Runs strictly in piece order (see `schedule`).
   */
  const decodePiece = async (samples: Float32Array, offset: number, pad: boolean, cut: number): Promise<void> => {
    throwIfAborted(signal);
    const end = offset + samples.length / rate;
    const found = await decodeSamples(decoder, samples, offset, pad, hotwords);
    let floor = -Infinity;
    if (Number.isFinite(cut)) {
      // The previous piece ends right here (a forced cut in continuous speech): both decodes
      // saw the audio around the cut, so each keeps only the words on its side of it.
      const prev = segments.pop();
      const kept = prev && keepWords(prev, -Infinity, cut);
      if (kept) segments.push(kept);
      // Two decodes time the words at the cut independently: keep the timeline monotonic.
      floor = kept?.words.at(-1)?.end ?? -Infinity;
    }
    const mine = found && keepWords(found, cut, Infinity);
    const seg = mine && floor > mine.start ? clampSegment(mine, floor, end) : mine;
    if (seg) segments.push(seg);
  };
  // Decoding runs on the addon's thread while this loop reads and runs the VAD on the next
  // audio (the VAD costs about twice what decoding its pieces does): pieces are decoded one at
  // a time, in order, at most MAX_PIECES_AHEAD of them waiting (their audio is copied out of
  // the rolling window when they are scheduled, so the window's bound holds).
  let chain: Promise<void> = Promise.resolve();
  const waiting: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;
  const schedule = (from: number, to: number, pad: boolean, cut = -Infinity): void => {
    const { samples, start } = recent.slice(from, to);
    chain = chain.then(() => (failure ? undefined : decodePiece(samples, start / rate, pad, cut)));
    // Recorded here and rethrown by the reading loop: a rejection is never left unhandled.
    const settled = chain.catch((error: unknown) => {
      failure ??= { error };
    });
    waiting.push(settled);
  };
  const rethrow = (): void => {
    if (failure) throw failure.error;
  };
  /** VAD pieces waiting for their right-hand context. */
  const queue: QueuedPiece[] = [];
  /** End of the previous piece, seconds. */
  let lastEnd: number | undefined;
  const enqueue = (pieces: { start: number; end: number; continues?: boolean | undefined }[]): void => {
    for (const [i, piece] of pieces.entries()) {
      const next = pieces[i + 1];
      const contiguous = lastEnd !== undefined && piece.start - lastEnd < JOIN_GAP_SEC;
      // Speech that goes on after a piece (the next piece starts at once, or the VAD cut it at
      // the length limit) means a forced cut: decode well across it. A piece the VAD ended at
      // a pause has at least its minimum silence after it.
      const cutAfter = next ? next.start - piece.end < JOIN_GAP_SEC : piece.continues === true;
      queue.push({
        start: piece.start,
        end: piece.end,
        left: contiguous ? CUT_CONTEXT_SEC : CONTEXT_SEC,
        right: cutAfter ? CUT_CONTEXT_SEC : CONTEXT_SEC,
        cut: contiguous ? (lastEnd! + piece.start) / 2 : -Infinity,
      });
      lastEnd = piece.end;
    }
  };
  const drain = async (all: boolean): Promise<void> => {
    while (queue.length && (all || recent.end >= Math.round((queue[0]!.end + queue[0]!.right) * rate))) {
      const q = queue.shift()!;
      schedule(Math.max(0, Math.round((q.start - q.left) * rate)), Math.round((q.end + q.right) * rate), true, q.cut);
    }
    while (waiting.length > (all ? 0 : MAX_PIECES_AHEAD)) await waiting.shift();
    rethrow();
  };
  // Audio that fits in one decode window is decoded whole, without the VAD; the VAD starts
  // only once the input proves longer than maxSegmentSec (it then catches up on what is kept).
  const whole = Math.round(l.maxSegmentSec * rate);
  let vad: VoiceActivityDetector | undefined;
  const slice = Math.round(VAD_SLICE_SEC * rate);
  /**
   * Feeds `samples` to the VAD a slice per turn of the event loop; the pieces are enqueued
   * together, as one push of the whole chunk would (a piece's successor decides its context).
   */
  const feedVad = async (v: VoiceActivityDetector, samples: Float32Array): Promise<void> => {
    const pieces: ReturnType<VoiceActivityDetector['push']> = [];
    for (let at = 0; at < samples.length; at += slice) {
      if (at > 0) await yieldToLoop();
      pieces.push(...v.push(samples.subarray(at, at + slice)));
    }
    enqueue(pieces);
  };
  try {
    for await (const chunk of source) {
      throwIfAborted(signal);
      rethrow();
      recent.append(chunk);
      recent.dropBefore(recent.end - capacity);
      if (vad) await feedVad(vad, chunk);
      else if (recent.end > whole) {
        vad = await l.vads.acquire();
        await feedVad(vad, recent.slice(0).samples);
      } else continue;
      await drain(false);
    }
    if (vad) {
      enqueue(vad.finish());
      await drain(true);
    } else if (recent.end > 0) await decodePiece(recent.slice(0).samples, 0, false, -Infinity);
  } finally {
    // Nothing decodes on after the call returns or throws (an abort is seen between pieces).
    failure ??= { error: undefined };
    await Promise.all(waiting);
    if (vad) l.vads.release(vad);
  }
  return { segments, samples: recent.end };
}
