import { toAbortError } from '../errors/index.js';
import type { AudioChunk, TranscriptionEvent } from '../spec/index.js';
import { AsyncChannel } from '../internal/channel.js';
import { sanitizeWords, wordsOfSegments } from './commit-policy.js';
import { round3 } from './committed.js';
import type { LiveLedger } from './ledger.js';
import { asAsrError, type LiveHost, type LiveMode } from './mode.js';
import type { ResolvedLiveOptions } from './options.js';
import type { PcmSpool } from './spool.js';

/** Chunks queued for the backend's stream before `push()` waits (backpressure). */
const FEED_CAPACITY = 64;

/**
 * Streaming live decoding: the audio is fed once to the backend's `transcribeStream()`; its
 * `final` segments are committed as they come, its partials passed on. After a recovery the
 * audio from the frontier on is fed again first (the model's state was lost with the process).
 * A tick here only reports (and journals) what was fed since the last one.
 * @internal
 */
export class StreamingMode implements LiveMode {
  readonly name = 'streaming';
  readonly #host: LiveHost;
  readonly #ledger: LiveLedger;
  readonly #spool: PcmSpool;
  readonly #o: ResolvedLiveOptions;
  readonly #feed = new AsyncChannel<AudioChunk>({ capacity: FEED_CAPACITY });
  /** Where the stream starts on the recording's timeline (the frontier, after a recovery). */
  readonly #offsetSec: number;
  /** The spooled audio fed again after a recovery, before any pushed audio. */
  readonly #replay: Promise<void>;
  readonly #consumer: Promise<void>;
  #journalPending: Promise<void> = Promise.resolve();
  /** Bytes fed to the stream so far. */
  #fedBytes = 0;
  #fedAtLastTick = 0;
  #lastTickAt: number;
  /** How far (seconds) the stream's results reached. */
  #resultEndSec: number;
  #committedSinceTick = 0;

  /** Opens the backend's stream and starts feeding it (the spooled audio past the frontier first). */
  constructor(host: LiveHost, ledger: LiveLedger, spool: PcmSpool, o: ResolvedLiveOptions) {
    this.#host = host;
    this.#ledger = ledger;
    this.#spool = spool;
    this.#o = o;
    this.#lastTickAt = o.now();
    const resumeByte = spool.byteAt(ledger.frontierSec);
    this.#offsetSec = resumeByte / spool.bytesPerSec;
    this.#resultEndSec = this.#offsetSec;
    const stream = o.backend.transcribeStream(this.#feed, {
      ...o.transcription,
      partials: true,
      ...(o.abortSignal ? { abortSignal: o.abortSignal } : {}),
    });
    this.#replay = this.#feedSpooled(resumeByte);
    this.#consumer = this.#consume(stream);
  }

  async afterAppend(bytes: Uint8Array): Promise<void> {
    const samples = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength - (bytes.byteLength % 2)));
    await this.#replay; // after a recovery, the spooled audio goes to the model first
    await this.#feed.put({ samples, sampleRate: this.#o.sampleRate, channels: this.#o.channels });
    this.#fedBytes += samples.byteLength;
    if (this.#fedBytes - this.#fedAtLastTick >= this.#o.intervalSec * this.#spool.bytesPerSec) this.#tick();
  }

  idle(): Promise<void> {
    return this.#journalPending;
  }

  async finish(): Promise<void> {
    await this.#replay;
    this.#feed.close();
    await this.#consumer;
    this.#tick(true);
  }

  /** Feeds what was spooled before a recovery (later pushes feed their own audio). */
  async #feedSpooled(resumeByte: number): Promise<void> {
    const spool = this.#spool;
    try {
      const replayEnd = spool.bytesWritten;
      if (resumeByte < replayEnd) {
        const step = spool.align(spool.bytesPerSec);
        for (let b = resumeByte; b < replayEnd; b += step) {
          const buf = await spool.read(b, Math.min(replayEnd, b + step));
          const samples = new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
          await this.#feed.put({ samples, sampleRate: spool.sampleRate, channels: spool.channels });
          this.#fedBytes += buf.length;
        }
      }
    } catch (e) {
      this.#host.fail(e);
      this.#feed.close();
    }
  }

  async #consume(stream: AsyncIterable<TranscriptionEvent>): Promise<void> {
    const off = this.#offsetSec;
    const ledger = this.#ledger;
    try {
      for await (const ev of stream) {
        if (ev.type === 'partial') {
          this.#resultEndSec = Math.max(this.#resultEndSec, ev.end + off);
          this.#host.send({ type: 'partial', text: ev.text, start: round3(ev.start + off), end: round3(ev.end + off) });
        } else if (ev.type === 'final') {
          const words = sanitizeWords(
            wordsOfSegments([ev.segment]).map((w) => ({ ...w, start: w.start + off, end: w.end + off })),
            ledger.frontierSec,
            Infinity,
          );
          const segEnd = Math.max(ev.segment.end + off, words[words.length - 1]?.end ?? 0);
          this.#resultEndSec = Math.max(this.#resultEndSec, segEnd);
          this.#committedSinceTick += await ledger.commit(words, Math.max(ledger.frontierSec, segEnd), this.#offsetByte() + this.#fedBytes);
        } else if (ev.type === 'error') {
          this.#host.send({ type: 'error', error: ev.error, recoverable: ev.recoverable });
        } else if (ev.type === 'end') {
          this.#resultEndSec = Math.max(this.#resultEndSec, ev.durationSec + off);
        }
      }
    } catch (e) {
      this.#host.fail(toAbortError(this.#o.abortSignal, e));
    } finally {
      this.#feed.close();
    }
  }

  #offsetByte(): number {
    return this.#spool.byteAt(this.#offsetSec);
  }

  /** Reports (and journals, in the background) what was fed since the last tick. */
  #tick(final = false): void {
    const spool = this.#spool;
    const ledger = this.#ledger;
    const bps = spool.bytesPerSec;
    const bytes = this.#fedBytes - this.#fedAtLastTick;
    if (bytes <= 0 && !final) return;
    const now = this.#o.now();
    const processingSec = now - this.#lastTickAt;
    this.#lastTickAt = now;
    const startSec = this.#offsetSec + this.#fedAtLastTick / bps;
    const endSec = this.#offsetSec + this.#fedBytes / bps;
    this.#fedAtLastTick = this.#fedBytes;
    ledger.lastProcessedByte = this.#offsetByte() + this.#fedBytes;
    const lagSec = final ? 0 : Math.max(0, endSec - this.#resultEndSec);
    const index = ledger.countTick({ bytesRead: bytes, decodedSec: bytes / bps, calls: 0, processingSec });
    const committed = this.#committedSinceTick;
    this.#committedSinceTick = 0;
    this.#journalPending = ledger.writeJournal().then(
      () => undefined,
      (e: unknown) => this.#host.send({ type: 'error', error: asAsrError(e), recoverable: true }),
    );
    ledger.reportTick(
      {
        type: 'tick',
        index,
        mode: 'streaming',
        windowStartSec: round3(startSec),
        windowEndSec: round3(endSec),
        windowSec: round3(bytes / bps),
        backendCalls: 0,
        bytesRead: bytes,
        processingSec,
        lagSec: round3(lagSec),
        audioSec: round3(spool.durationSec),
        committedWords: committed,
        frontierSec: round3(ledger.frontierSec),
        coalesced: false,
      },
      lagSec,
      final,
    );
  }
}
