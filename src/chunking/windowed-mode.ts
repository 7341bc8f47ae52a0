import { AbortedError, throwIfAborted, toAbortError } from '../errors/index.js';
import type { Word } from '../spec/index.js';
import { decideCommit, sanitizeWords, wordsOfSegments, type CommitPolicyOptions } from './commit-policy.js';
import { round3 } from './committed.js';
import type { TickEvent } from './events.js';
import type { LiveLedger } from './ledger.js';
import { asAsrError, type LiveHost, type LiveMode } from './mode.js';
import type { ResolvedLiveOptions } from './options.js';
import type { PcmSpool } from './spool.js';

/**
 * Windowed live decoding: every `intervalSec` of new audio, a tick re-reads the spool from the
 * commit frontier (never more than `contextSec` back), decodes it with `transcribe()` in pieces of
 * at most `maxWindowSec`, commits the settled words (the commit policy) and keeps the newest
 * seconds provisional until the next tick.
 * @internal
 */
export class WindowedMode implements LiveMode {
  readonly name = 'windowed';
  readonly #host: LiveHost;
  readonly #ledger: LiveLedger;
  readonly #spool: PcmSpool;
  readonly #o: ResolvedLiveOptions;
  readonly #maxWindowSec: number;
  /** Words of the last window's newest seconds, not yet committed. */
  #provisional: Word[] = [];
  #tickPromise: Promise<void> | undefined;

  /** Opens nothing: ticks start as audio arrives (`afterAppend`). @param maxWindowSec - longest audio per backend call. */
  constructor(host: LiveHost, ledger: LiveLedger, spool: PcmSpool, o: ResolvedLiveOptions, maxWindowSec: number) {
    this.#host = host;
    this.#ledger = ledger;
    this.#spool = spool;
    this.#o = o;
    this.#maxWindowSec = maxWindowSec;
  }

  afterAppend(): Promise<void> {
    this.#schedule();
    return Promise.resolve();
  }

  async idle(): Promise<void> {
    while (this.#tickPromise) await this.#tickPromise;
  }

  async finish(signal: AbortSignal): Promise<void> {
    await this.idle();
    await this.#tick(true, signal);
  }

  /** Starts a tick in the background when an interval of new audio is waiting and none runs. */
  #schedule(): void {
    if (this.#tickPromise !== undefined || !this.#host.isRunning()) return;
    const spool = this.#spool;
    if (spool.bytesWritten - this.#ledger.lastProcessedByte < this.#o.intervalSec * spool.bytesPerSec) return;
    this.#tickPromise = (async () => {
      try {
        await this.#tick(false, this.#o.abortSignal);
      } catch (e) {
        const err = toAbortError(this.#o.abortSignal, e);
        if (AbortedError.isInstance(err)) {
          this.#host.fail(err);
        } else {
          // The audio stays spooled and the frontier did not move: the next tick retries.
          this.#host.send({ type: 'error', error: asAsrError(err), recoverable: true });
        }
      } finally {
        this.#tickPromise = undefined;
      }
      if (this.#host.isRunning()) this.#schedule();
    })();
  }

  async #tick(final: boolean, signal: AbortSignal | undefined): Promise<void> {
    const spool = this.#spool;
    const ledger = this.#ledger;
    const o = this.#o;
    const bps = spool.bytesPerSec;
    const t0 = o.now();
    const endByte = spool.bytesWritten;
    const newBytes = endByte - ledger.lastProcessedByte;
    if (!final && newBytes <= 0) return;
    const lookback = spool.align(ledger.lastProcessedByte - o.contextSec * bps);
    let start = Math.max(spool.byteAt(ledger.frontierSec), lookback);
    if (start > spool.byteAt(ledger.frontierSec)) {
      // The frontier fell behind the context window (it can't with the default policy): move it.
      ledger.resetFrontier(start / bps);
      this.#provisional = [];
    }
    const windowStartSec = start / bps;
    const maxWindowBytes = spool.align(this.#maxWindowSec * bps);
    const policy: CommitPolicyOptions = {
      provisionalSec: o.provisionalSec,
      minPauseSec: o.minPauseSec,
      maxTailSec: Math.max(o.provisionalSec + 1, Math.min(o.contextSec, this.#maxWindowSec - o.intervalSec, this.#maxWindowSec / 2)),
      agreeToleranceSec: 0.3,
    };
    let bytesRead = 0;
    let decoded = 0;
    let calls = 0;
    let committed = 0;
    const minBytes = spool.align(0.1 * bps);
    for (;;) {
      throwIfAborted(signal);
      const pieceEnd = Math.min(endByte, start + maxWindowBytes);
      const last = pieceEnd === endByte;
      if (pieceEnd - start < minBytes) {
        if (final) {
          const leftover = sanitizeWords(this.#provisional, ledger.frontierSec, endByte / bps);
          committed += await ledger.commit(leftover, endByte / bps, endByte);
          this.#provisional = [];
        }
        break;
      }
      const buf = await spool.read(start, pieceEnd);
      bytesRead += buf.length;
      const offset = start / bps;
      const tr = await o.backend.transcribe(
        { format: 'pcm16', data: buf, sampleRate: spool.sampleRate, channels: spool.channels },
        { ...o.transcription, ...(signal ? { abortSignal: signal } : {}) },
      );
      calls++;
      decoded += buf.length / bps;
      const words = wordsOfSegments(tr.segments).map((w) => ({ ...w, start: w.start + offset, end: w.end + offset }));
      const decision = decideCommit(
        {
          words,
          previous: this.#provisional,
          frontier: ledger.frontierSec,
          windowEnd: pieceEnd / bps,
          final: final && last,
          quietest: (a, b) => quietest(buf, spool.channels, spool.sampleRate, offset, a, b),
        },
        policy,
      );
      committed += await ledger.commit(decision.commit, decision.frontier, pieceEnd);
      this.#provisional = [...decision.provisional];
      if (last) break;
      const next = spool.byteAt(ledger.frontierSec);
      start = next > start ? next : pieceEnd; // progress is guaranteed by the policy; this is a backstop
    }
    ledger.lastProcessedByte = endByte;
    const processingSec = o.now() - t0;
    const index = ledger.countTick({ bytesRead, decodedSec: decoded, calls, processingSec });
    await ledger.writeJournal();
    const endSec = endByte / bps;
    if (this.#provisional.length > 0) {
      this.#host.send({
        type: 'partial',
        text: this.#provisional.map((w) => w.word).join(' '),
        start: round3(this.#provisional[0]!.start),
        end: round3(endSec),
      });
    }
    const lagSec = (spool.bytesWritten - endByte) / bps;
    const tick: TickEvent = {
      type: 'tick',
      index,
      mode: 'windowed',
      windowStartSec: round3(windowStartSec),
      windowEndSec: round3(endSec),
      windowSec: round3(decoded),
      backendCalls: calls,
      bytesRead,
      processingSec,
      lagSec: round3(lagSec),
      audioSec: round3(spool.durationSec),
      committedWords: committed,
      frontierSec: round3(ledger.frontierSec),
      coalesced: newBytes > o.intervalSec * bps * 1.5,
    };
    ledger.reportTick(tick, lagSec, final);
  }
}

/**
 * The quietest instant (lowest 20 ms energy, 10 ms hop) in `[from, to]` seconds of a PCM window
 * that starts at `offset` seconds; the midpoint when the range holds no whole frame.
 */
function quietest(buf: Buffer, channels: number, sampleRate: number, offset: number, from: number, to: number): number {
  const frameBytes = 2 * channels;
  const total = Math.floor(buf.length / frameBytes);
  const a = Math.max(0, Math.round((from - offset) * sampleRate));
  const b = Math.min(total, Math.round((to - offset) * sampleRate));
  const win = Math.round(0.02 * sampleRate);
  const hop = Math.round(0.01 * sampleRate);
  if (b - a < win) return (from + to) / 2;
  let best = (from + to) / 2;
  let bestE = Infinity;
  const view = new Int16Array(buf.buffer, buf.byteOffset, Math.floor(buf.byteLength / 2));
  for (let s = a; s + win <= b; s += hop) {
    let e = 0;
    for (let i = s; i < s + win; i++) {
      const v = view[i * channels]!;
      e += v * v;
    }
    // Prefer the middle of equally quiet stretches (digital silence): strict < keeps the first; bias by distance to centre.
    const centre = offset + (s + win / 2) / sampleRate;
    const score = e + 1e-6 * Math.abs(centre - (from + to) / 2);
    if (score < bestE) {
      bestE = score;
      best = centre;
    }
  }
  return best;
}
