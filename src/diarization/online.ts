/**
 * Live speaker diarization with stable provisional labels, and the final reconciliation.
 * @module
 */
import { InvalidArgumentError, BackendUnavailableError, throwIfAborted } from '../errors/index.js';
import type { SpeakerTurn } from '../spec/index.js';
import { dot, l2normalize } from './clustering.js';
import { Diarizer, speakerName, trimSpan, type DiarizationAudio, type DiarizeOptions } from './diarizer.js';
import { EmbeddingExtractor, modelFile, SpeechDetector, type Span } from './native.js';
import { num, resolveDiarizerOptions, type DiarizerOptions, type ResolvedDiarizerOptions } from './options.js';
import { reconcileSpeakers } from './reconcile.js';
import { makeWindows, windowsToTurns } from './windows.js';

/** Options of {@link OnlineDiarizer}. */
export interface OnlineDiarizerOptions extends DiarizerOptions {
  /**
   * Embeddings kept per speaker (a uniform reservoir sample) besides its centroid; memory stays
   * bounded however long the stream runs.
   * @defaultValue 32
   */
  readonly maxCentroidSamples?: number | undefined;
  /**
   * Mutually similar unmatched windows needed before a new speaker is created (guards against a
   * stray window becoming a speaker of its own).
   * @defaultValue 2
   */
  readonly minNewSpeakerWindows?: number | undefined;
  /**
   * An unmatched window that found no partners among this many later windows joins the nearest
   * known speaker. Bounds how long a span waits for its labels.
   * @defaultValue 6
   */
  readonly maxPendingWindows?: number | undefined;
}

/** Result of {@link OnlineDiarizer.finalize}. */
export interface FinalDiarization {
  /** Turns of the whole recording from the final pass, labelled "S1", "S2", … */
  readonly turns: SpeakerTurn[];
  /** The provisional (live) turns, as emitted. */
  readonly provisional: SpeakerTurn[];
  /** Provisional label → final label (see {@link reconcileSpeakers}). */
  readonly remap: Record<string, string>;
}

interface Speaker {
  readonly label: string;
  readonly sum: Float32Array;
  centroid: Float32Array;
  count: number;
  readonly samples: Float32Array[];
}

interface PendingWindow {
  readonly emb: Float32Array;
  label: number;
  /** Global window index, for expiry. */
  readonly seq: number;
}

interface PendingSpan {
  readonly span: Span;
  readonly windows: { start: number; end: number }[];
  readonly items: PendingWindow[];
}

/**
 * Live diarization: push 16 kHz audio as it arrives and get speaker turns with **stable**
 * provisional labels: a turn, once returned, is never changed or withdrawn, and a voice keeps the
 * label it was first given (windows are matched to running speaker centroids; a new speaker is
 * created only when {@link OnlineDiarizerOptions.minNewSpeakerWindows} unmatched windows agree).
 *
 * Memory is bounded: per speaker a centroid and at most `maxCentroidSamples` embeddings; audio is
 * held only for the speech span in progress.
 *
 * At the end, {@link OnlineDiarizer.finalize} re-clusters the whole recording and returns the final
 * turns with a provisional → final label map, so an app can relabel what it already showed.
 *
 * @example
 * ```ts
 * const live = new OnlineDiarizer({ vadModel, embeddingModel });
 * for await (const chunk of mic) show(live.push(chunk));   // new turns, labels "S1", "S2", …
 * show(live.flush());
 * const { turns, remap } = await live.finalize(wholeRecording);
 * ```
 */
export class OnlineDiarizer {
  readonly #o: ResolvedDiarizerOptions & { maxCentroidSamples: number; minNewSpeakerWindows: number; maxPendingWindows: number };
  readonly #userOptions: DiarizerOptions;
  #vad: SpeechDetector | undefined;
  #extractor: EmbeddingExtractor | undefined;
  readonly #speakers: Speaker[] = [];
  readonly #queue: PendingSpan[] = [];
  readonly #turns: SpeakerTurn[] = [];
  #seq = 0;
  #lastLabel = -1;
  #finished = false;
  #disposed = false;
  #rng = 0x9e3779b9;

  /**
   * @param options - models and settings; validated here, files checked on the first push.
   * @throws InvalidArgumentError naming the bad option.
   */
  constructor(options: OnlineDiarizerOptions) {
    const base = resolveDiarizerOptions(options);
    const maxCentroidSamples = num('maxCentroidSamples', options.maxCentroidSamples ?? 32, 0, 100000, { integer: true });
    const minNewSpeakerWindows = num('minNewSpeakerWindows', options.minNewSpeakerWindows ?? 2, 1, 1000, { integer: true });
    const maxPendingWindows = num('maxPendingWindows', options.maxPendingWindows ?? 6, 1, 100000, { integer: true });
    if (base.vadModel === undefined) throw new InvalidArgumentError('`vadModel` is required for live diarization');
    this.#o = { ...base, maxCentroidSamples, minNewSpeakerWindows, maxPendingWindows };
    this.#userOptions = options;
  }

  #load(): void {
    if (this.#disposed) throw new BackendUnavailableError('This OnlineDiarizer has been disposed');
    if (this.#vad !== undefined) return;
    // The final pass uses the segmentation model, when one is given: fail early on a bad one.
    if (this.#o.segmentationModel !== undefined) modelFile(this.#o.segmentationModel, 'Segmentation');
    const vadPath = modelFile(this.#o.vadModel!, 'VAD', 'vad');
    const extractor = new EmbeddingExtractor(modelFile(this.#o.embeddingModel, 'Speaker embedding', 'speaker-embedding'), this.#o.numThreads);
    this.#vad = new SpeechDetector(
      {
        model: vadPath,
        threshold: this.#o.vadThreshold,
        minSilenceDuration: this.#o.minSilenceSec,
        minSpeechDuration: 0.1,
        maxSpeechDuration: 20,
      },
      true,
    );
    this.#extractor = extractor;
  }

  /** All turns emitted so far, in time order (provisional labels). */
  get turns(): readonly SpeakerTurn[] {
    return this.#turns;
  }

  /** Provisional speaker labels known so far, in order of creation. */
  get speakers(): readonly string[] {
    return this.#speakers.map((s) => s.label);
  }

  /**
   * The centroid and the bounded embedding sample of each provisional speaker (unit vectors).
   */
  speakerEmbeddings(): { label: string; centroid: Float32Array; samples: readonly Float32Array[]; windows: number }[] {
    return this.#speakers.map((s) => ({ label: s.label, centroid: s.centroid, samples: s.samples, windows: s.count }));
  }

  /**
   * Feeds audio (mono, [-1, 1], 16 kHz, any chunk size) and returns the turns decided by it.
   * Runs synchronously (VAD and embeddings of the speech that ended in this chunk).
   * @throws InvalidArgumentError for non-finite samples; ModelError for bad models.
   */
  push(samples: Float32Array): SpeakerTurn[] {
    if (!(samples instanceof Float32Array)) throw new InvalidArgumentError('`samples` must be a Float32Array');
    if (this.#finished) throw new InvalidArgumentError('push() after flush(): the stream has ended');
    for (let i = 0; i < samples.length; i++) {
      if (!Number.isFinite(samples[i]!)) throw new InvalidArgumentError(`\`samples\` holds a non-finite value at index ${i}`);
    }
    this.#load();
    for (const span of this.#vad!.push(samples)) this.#addSpan(span);
    return this.#emit(false);
  }

  /** Ends the stream: decides everything still pending and returns the last turns. Idempotent. */
  flush(): SpeakerTurn[] {
    if (this.#finished) return [];
    this.#load();
    this.#finished = true;
    for (const span of this.#vad!.finish()) this.#addSpan(span);
    return this.#emit(true);
  }

  /**
   * Re-diarizes the whole recording offline and maps the provisional labels onto the final ones.
   * Calls {@link OnlineDiarizer.flush} first when the stream has not ended.
   *
   * @param audio - the whole recording (the same samples that were pushed).
   * @param options - known speaker count, threshold, abort signal.
   */
  async finalize(audio: DiarizationAudio, options?: DiarizeOptions): Promise<FinalDiarization> {
    throwIfAborted(options?.abortSignal);
    this.flush();
    const diarizer = new Diarizer(this.#userOptions);
    try {
      const turns = await diarizer.diarize(audio, options);
      const provisional = [...this.#turns];
      return { turns, provisional, remap: reconcileSpeakers(provisional, turns) };
    } finally {
      diarizer.dispose();
    }
  }

  /** Releases the models. Idempotent. */
  dispose(): void {
    this.#disposed = true;
    this.#vad = undefined;
    this.#extractor = undefined;
  }

  #addSpan(vadSpan: Span): void {
    const all = vadSpan.samples!;
    const trimmed = trimSpan(all, vadSpan, vadSpan.start);
    if (!(trimmed.end > trimmed.start)) return;
    const from = Math.round((trimmed.start - vadSpan.start) * 16000);
    const span: Span = { ...trimmed, samples: all.subarray(from, from + Math.round((trimmed.end - trimmed.start) * 16000)) };
    const windows = makeWindows([span], this.#o.windowSec, this.#o.hopSec, 0.5);
    const samples = span.samples!;
    const items = windows.map((w) => {
      const a = Math.max(0, Math.round((w.start - span.start) * 16000));
      const b = Math.min(samples.length, Math.round((w.end - span.start) * 16000));
      const item: PendingWindow = { emb: l2normalize(this.#extractor!.compute(samples.subarray(a, b))), label: -1, seq: this.#seq++ };
      this.#decide(item);
      return item;
    });
    this.#queue.push({ span: { start: span.start, end: span.end }, windows, items });
    this.#expire(false);
  }

  #candidates(): PendingWindow[] {
    const out: PendingWindow[] = [];
    for (const p of this.#queue) for (const it of p.items) if (it.label < 0) out.push(it);
    return out;
  }

  #decide(item: PendingWindow): void {
    if (this.#speakers.length === 0) {
      this.#newSpeaker([item]);
      return;
    }
    const [best, sim] = this.#nearest(item.emb);
    if (sim >= this.#o.threshold) {
      this.#join(best, item);
      return;
    }
    // Unmatched: a new speaker once enough unmatched windows agree with each other.
    const group = [item, ...this.#candidates().filter((c) => dot(c.emb, item.emb) >= this.#o.threshold)];
    if (group.length >= this.#o.minNewSpeakerWindows) this.#newSpeaker(group);
  }

  #nearest(emb: Float32Array): [number, number] {
    let best = 0;
    let sim = -Infinity;
    this.#speakers.forEach((s, i) => {
      const x = dot(s.centroid, emb);
      if (x > sim) {
        sim = x;
        best = i;
      }
    });
    return [best, sim];
  }

  #newSpeaker(items: PendingWindow[]): void {
    const dim = items[0]!.emb.length;
    const s: Speaker = { label: speakerName(this.#speakers.length), sum: new Float32Array(dim), centroid: new Float32Array(dim), count: 0, samples: [] };
    this.#speakers.push(s);
    for (const it of items) this.#join(this.#speakers.length - 1, it);
  }

  #join(index: number, item: PendingWindow): void {
    const s = this.#speakers[index]!;
    item.label = index;
    for (let j = 0; j < s.sum.length; j++) s.sum[j]! += item.emb[j]!;
    s.centroid = l2normalize(s.sum);
    s.count++;
    const cap = this.#o.maxCentroidSamples;
    if (s.samples.length < cap) s.samples.push(item.emb);
    else if (cap > 0) {
      // reservoir sampling (deterministic xorshift)
      this.#rng ^= this.#rng << 13;
      this.#rng ^= this.#rng >>> 17;
      this.#rng ^= this.#rng << 5;
      const r = (this.#rng >>> 0) % s.count;
      if (r < cap) s.samples[r] = item.emb;
    }
  }

  /** Unmatched windows that waited too long (or all, at the end) join the nearest speaker. */
  #expire(all: boolean): void {
    for (const c of this.#candidates()) {
      if (all || this.#seq - 1 - c.seq >= this.#o.maxPendingWindows) this.#join(this.#nearest(c.emb)[0], c);
    }
  }

  #emit(final: boolean): SpeakerTurn[] {
    if (final) this.#expire(true);
    const out: SpeakerTurn[] = [];
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (head.items.some((it) => it.label < 0)) break;
      let labels = head.items.map((it) => it.label);
      let windows = head.windows;
      if (labels.length === 0) {
        // A span too short for a window: the previous speaker's, else the next decided one's.
        let l = this.#lastLabel;
        if (l < 0) l = this.#queue.find((p) => p.items.length > 0 && p.items.every((it) => it.label >= 0))?.items[0]?.label ?? -1;
        if (l < 0 && final && this.#speakers.length === 0) {
          this.#queue.shift();
          continue;
        }
        if (l < 0) l = final ? 0 : -1;
        if (l < 0) break;
        labels = [l];
        windows = [{ start: head.span.start, end: head.span.end }];
      }
      this.#queue.shift();
      const turns = windowsToTurns(
        [head.span],
        windows.map((w) => ({ span: 0, start: w.start, end: w.end })),
        labels,
        (i) => this.#speakers[i]!.label,
      );
      this.#lastLabel = labels[labels.length - 1]!;
      this.#turns.push(...turns);
      out.push(...turns);
    }
    return out;
  }
}
