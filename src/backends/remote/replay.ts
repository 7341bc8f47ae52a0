import { SampleBuffer, chunkToMono, validateChunk } from '../../audio/index.js';
import { InvalidAudioError } from '../../errors/index.js';
import type { AudioChunk } from '../../spec/index.js';

/**
 * The audio side of a remote stream: the chunks taken from the caller's source, as mono float
 * samples on the stream's timeline, kept from the server's acknowledged offset on (for replay after
 * a reconnection, or for the caller after an interruption), and the replay-buffer limit that holds
 * the source back.
 * @internal
 */
export class ReplayAudio {
  readonly #buffer = new SampleBuffer();
  readonly #replayBufferSec: number;
  #sampleRate = 0;
  #channels = 1;
  #ack = 0;
  #confirmed = 0;

  /** @param replayBufferSec - most unacknowledged audio to read ahead (see `RemoteBackendOptions`). */
  constructor(replayBufferSec: number) {
    this.#replayBufferSec = replayBufferSec;
  }

  /** Sample rate of the stream; 0 before the first chunk. */
  get sampleRate(): number {
    return this.#sampleRate;
  }

  /** Samples taken from the source in all. */
  get total(): number {
    return this.#buffer.end;
  }

  /** The server's acknowledged offset: the audio before it is never needed again. */
  get ack(): number {
    return this.#ack;
  }

  /** Samples the server has provably read on the current connection. */
  get confirmed(): number {
    return this.#confirmed;
  }

  /**
   * Validates a chunk (the one live-chunk validator: `InvalidAudioError`) and keeps it as mono.
   * Every chunk of a stream must have the first one's rate and channels.
   */
  append(chunk: AudioChunk): void {
    const { rate, channels } = validateChunk(chunk);
    if (this.#sampleRate === 0) {
      this.#sampleRate = rate;
      this.#channels = channels;
    } else if (rate !== this.#sampleRate || channels !== this.#channels) {
      throw new InvalidAudioError(
        `All chunks of a stream must share one format: got ${rate} Hz × ${channels} after ${this.#sampleRate} Hz × ${this.#channels}`,
      );
    }
    this.#buffer.append(chunkToMono(chunk));
  }

  /** Moves the acknowledged offset forward (never back) and drops what comes before it; true when it moved. */
  acknowledge(ack: number): boolean {
    if (ack <= this.#ack) return false;
    this.#ack = ack;
    this.#buffer.dropBefore(ack);
    return true;
  }

  /** Notes that the server has read everything before `sent` (or, with `reset`, that a connection starts there). */
  confirm(sent: number, reset = false): boolean {
    if (!reset && sent <= this.#confirmed) return false;
    this.#confirmed = sent;
    return true;
  }

  /**
   * Whether the replay buffer is full: `replayBufferSec` of unacknowledged audio is kept, and the
   * server has not provably read all but the last second of it. The server acknowledges only audio
   * it will never need again (the end of a final), so an utterance longer than the buffer could
   * never be acknowledged without more audio: once a pong shows the server has read everything
   * sent, one more second may be read (the server's own queue then bounds how far this goes).
   */
  get full(): boolean {
    const rate = this.#sampleRate || 16000;
    return this.total - this.#ack >= this.#replayBufferSec * rate && this.total >= this.#confirmed + rate;
  }

  /** Kept audio from `from` to the end of the piece that holds it (a view); undefined past the end or before what is kept. */
  pieceAt(from: number): Float32Array | undefined {
    const p = this.#buffer.pieceAt(from);
    return p === undefined || p.start > from ? undefined : p.samples;
  }

  /** A copy of every sample from the acknowledged offset on. */
  unacknowledged(): Float32Array {
    return this.#buffer.slice(this.#ack).samples.slice();
  }
}
