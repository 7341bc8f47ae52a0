import { SampleBuffer, chunkToMono } from '../audio/index.js';
import { InvalidAudioError } from '../errors/index.js';
import type { AudioChunk } from '../spec/index.js';

/**
 * The audio of one live stream as the hybrid manager sees it: pulled from the caller's source once,
 * converted to mono float samples at the source's rate, and kept from the end of the last final on,
 * so that another backend can be started on it after a failure. Audio not yet covered by a final is
 * never dropped (memory: the audio since the last final, ~64 KB/s at 16 kHz); how far ahead of the
 * backend's progress the source is read is the backend's backpressure (a remote stream pulls at most
 * `replayBufferSec` past the server's acknowledgement).
 *
 * Any number of readers ({@link AudioFeed.reader}) can read from a sample position on; each yields
 * the buffered audio first, then live audio as it arrives. Only one pull from the source is in flight
 * at a time, whichever reader asked.
 *
 * @internal
 */
export class AudioFeed {
  readonly #source: AsyncIterator<AudioChunk>;
  /** The audio kept for replay, by absolute sample index (its `start` is the first sample still kept). */
  readonly #buffer = new SampleBuffer();
  #committed = 0;
  #rate = 0;
  #channels = 0;
  #done = false;
  /** What the source threw (boxed: a source may throw anything, `undefined` included). */
  #error: { readonly value: unknown } | undefined;
  #pull: Promise<void> | undefined;
  readonly #cursors = new Set<{ at: number }>();
  /** @param source - the caller's chunks. */
  constructor(source: AsyncIterable<AudioChunk>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  /** Source sample rate (0 before the first chunk). */
  get sampleRate(): number {
    return this.#rate;
  }

  /** Seconds received so far. */
  get totalSec(): number {
    return this.#rate === 0 ? 0 : this.#buffer.end / this.#rate;
  }

  /** What the source (or a malformed chunk) threw, if anything: the caller's problem, not a backend's. */
  get sourceError(): unknown {
    return this.#error?.value;
  }

  /** Whether the source (or a malformed chunk) threw, whatever the value thrown. */
  get sourceFailed(): boolean {
    return this.#error !== undefined;
  }

  /** Marks audio before `sec` as covered by a final: it will never be replayed. */
  commit(sec: number): void {
    if (this.#rate === 0) return;
    const s = Math.min(this.#buffer.end, Math.max(0, Math.floor(sec * this.#rate)));
    if (s <= this.#committed) return;
    this.#committed = s;
    this.#trim();
  }

  /** Where replay starts: the committed point, or the oldest sample still buffered if later. */
  replayFrom(): number {
    return Math.max(this.#committed, this.#buffer.start);
  }

  /** Stops pulling from the source (calls its `return`). */
  async close(): Promise<void> {
    this.#done = true;
    const r = this.#source.return?.bind(this.#source);
    if (r) await Promise.resolve(r()).catch(() => undefined);
  }

  /**
   * Audio from sample `from` on, as mono chunks at the source rate. Ends when the source ends,
   * or when `isActive()` turns false. Throws what the source threw.
   */
  async *reader(from: number, isActive: () => boolean): AsyncGenerator<AudioChunk> {
    const cursor = { at: Math.max(from, this.#buffer.start) };
    this.#cursors.add(cursor);
    try {
      for (;;) {
        if (!isActive()) return;
        if (cursor.at < this.#buffer.end) {
          const piece = this.#buffer.pieceAt(cursor.at);
          if (piece === undefined) return;
          // A copy: the reader's backend may keep or change it; the buffer must stay as it was for a replay.
          const samples = piece.samples.slice();
          cursor.at = piece.start + piece.samples.length;
          this.#trim();
          yield { samples, sampleRate: this.#rate };
          continue;
        }
        if (this.#error !== undefined) throw this.#error.value;
        if (this.#done) return;
        await this.#pullOnce();
      }
    } finally {
      this.#cursors.delete(cursor);
    }
  }

  #pullOnce(): Promise<void> {
    this.#pull ??= (async () => {
      try {
        const step = await this.#source.next();
        if (step.done === true) {
          this.#done = true;
          return;
        }
        this.#append(step.value);
      } catch (e) {
        this.#error = { value: e };
        this.#done = true;
      } finally {
        this.#pull = undefined;
      }
    })();
    return this.#pull;
  }

  #append(chunk: AudioChunk): void {
    const mono = chunkToMono(chunk);
    const ch = chunk.channels ?? 1;
    if (this.#rate === 0) {
      this.#rate = chunk.sampleRate;
      this.#channels = ch;
    } else if (chunk.sampleRate !== this.#rate || ch !== this.#channels) {
      throw new InvalidAudioError(
        `Audio chunk format changed mid-stream: ${chunk.sampleRate} Hz × ${ch} ch after ${this.#rate} Hz × ${this.#channels} ch`,
      );
    }
    if (mono.length === 0) return;
    this.#buffer.append(mono);
    this.#trim();
  }

  /** Drops audio that is committed and read by every reader (never audio not yet final). */
  #trim(): void {
    let minCursor = this.#buffer.end;
    for (const c of this.#cursors) minCursor = Math.min(minCursor, c.at);
    this.#buffer.dropBefore(Math.min(this.#committed, minCursor));
  }
}
