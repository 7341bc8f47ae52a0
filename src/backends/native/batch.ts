import { fileURLToPath } from 'node:url';
import type { AudioInput, Segment, TranscriptionProgress } from '../../spec/index.js';
import { throwIfAborted } from '../../errors/index.js';
import { openAudio, readWavFileSync, resample } from '../../audio/index.js';
import { type ProgressSink, progressSink } from '../../internal/progress.js';
import { decodeSamples } from './decode.js';
import type { Loaded, LoadedOnline } from './loader.js';
import { transcribeOfflineFile } from './offline-file.js';
import { OnlineRun } from './online-run.js';
import { yieldToLoop } from './yield.js';

/** Audio fed to the online recognizer per step when transcribing a file, seconds. */
const FILE_STEP_SEC = 0.32;
/**
 * Frames per chunk read from a file (8.2 s at 16 kHz, 512 KiB of floats): short files arrive in
 * one piece and are decoded without a copy; long ones stay bounded.
 */
const FILE_CHUNK_FRAMES = 1 << 17;
/** Chunk size when the whole signal is already in memory (decoded for diarization), frames. */
const WHOLE_CHUNK_FRAMES = 8192;

/** How one `transcribe()` call reads and decodes its audio. */
interface BatchOptions {
  /** The whole signal at the model's rate, when the caller has decoded it already (diarization). */
  readonly whole: Float32Array | undefined;
  /** Hotwords joined by '/', when the model takes them. */
  readonly hotwords: string | undefined;
  readonly onProgress: ((p: TranscriptionProgress) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

/** What {@link transcribeBatch} decoded, and the progress sink to finish once the call is done. */
interface BatchResult {
  readonly segments: Segment[];
  readonly durationSec: number;
  readonly progress: ProgressSink;
}

/** The local file path an input names (a path string or a `file:` URL), if it names one. */
function localPath(audio: AudioInput): string | undefined {
  if (typeof audio === 'string') return audio;
  return audio instanceof URL && audio.protocol === 'file:' ? fileURLToPath(audio) : undefined;
}

/**
 * Transcribes a whole recording with memory bounded by the decode window. A small WAV file for
 * an offline model is read synchronously and, if it fits one decode window, decoded in one piece
 * from a reused array; anything longer is read incrementally and decoded piece by piece
 * (offline: cut by the VAD; streaming: chunk by chunk with endpointing).
 */
export async function transcribeBatch(l: Loaded, audio: AudioInput, o: BatchOptions): Promise<BatchResult> {
  const { whole, hotwords, signal } = o;
  const rate = l.model.manifest.sampleRate;
  // A small WAV file for an offline model: read synchronously; if it fits one decode window
  // its samples go into a reused array (copied into the sherpa stream at once): no per-call
  // allocation for V8 to collect.
  throwIfAborted(signal);
  const path = whole || l.kind !== 'offline' ? undefined : localPath(audio);
  const limit = Math.round(l.maxSegmentSec * rate);
  let lent: Float32Array | undefined;
  const small =
    path === undefined || l.kind !== 'offline'
      ? undefined
      : readWavFileSync(path, (n) => (n <= limit ? (lent = l.scratch.borrow(limit)).subarray(0, n) : new Float32Array(n)));
  // At another rate: resampled here (the same filter openAudio() runs), not read again.
  const samples = small && (small.format.sampleRate === rate ? small.samples : resample(small.samples, small.format.sampleRate, rate));
  if (l.kind === 'offline' && samples && samples.length <= limit) {
    const decoding = decodeSamples({ recognizer: l.recognizer, model: l.model }, samples, 0, false, hotwords);
    if (lent) l.scratch.giveBack(lent);
    const seg = await decoding;
    return { segments: seg ? [seg] : [], durationSec: samples.length / rate, progress: progressSink(o.onProgress, undefined) };
  }
  if (lent && l.kind === 'offline') l.scratch.giveBack(lent);
  const ready = samples ?? whole;
  const reader = ready ? undefined : await openAudio(audio, { sampleRate: rate, chunkFrames: FILE_CHUNK_FRAMES, ...(signal ? { abortSignal: signal } : {}) });
  const progress = progressSink(o.onProgress, ready ? ready.length / rate : reader!.durationSec);
  const source = counted(ready ? inChunks(ready, ready === whole ? WHOLE_CHUNK_FRAMES : FILE_CHUNK_FRAMES) : reader!, rate, progress);
  try {
    const r = l.kind === 'offline' ? await transcribeOfflineFile(l, source, hotwords, signal) : await transcribeOnlineFile(l, source, signal);
    return { segments: r.segments, durationSec: r.samples / rate, progress };
  } finally {
    await reader?.close();
  }
}

/** Streaming model over a file: chunk by chunk with endpointing; yields to the event loop between steps. */
async function transcribeOnlineFile(l: LoadedOnline, source: AsyncIterable<Float32Array>, signal?: AbortSignal): Promise<{ segments: Segment[]; samples: number }> {
  const rate = l.model.manifest.sampleRate;
  const segments: Segment[] = [];
  const run = new OnlineRun(l.recognizer, rate, l.model);
  const step = Math.round(FILE_STEP_SEC * rate);
  for await (const chunk of source) {
    for (let i = 0; i < chunk.length; i += step) {
      throwIfAborted(signal);
      const seg = run.feed(chunk.subarray(i, i + step));
      if (seg.final) segments.push(seg.final);
      await yieldToLoop();
    }
  }
  const last = run.finish();
  if (last) segments.push(last);
  return { segments, samples: run.samples };
}

/** Passes `source` through, reporting the seconds read so far (the decode follows closely behind). */
async function* counted(source: AsyncIterable<Float32Array> | Iterable<Float32Array>, rate: number, progress: ProgressSink): AsyncGenerator<Float32Array> {
  let n = 0;
  for await (const chunk of source) {
    n += chunk.length;
    progress.update(n / rate);
    yield chunk;
  }
}

/** `samples` as an iterable of views of at most `size` samples. */
function* inChunks(samples: Float32Array, size: number): Generator<Float32Array> {
  for (let i = 0; i < samples.length; i += size) yield samples.subarray(i, i + size);
}
