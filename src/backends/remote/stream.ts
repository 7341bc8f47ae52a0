import { APIStatusError, ASRError, StreamInterruptedError, toAbortError } from '../../errors/index.js';
import { sleep } from '../../internal/abort.js';
import { AsyncChannel } from '../../internal/channel.js';
import { registerError } from '../../internal/error-registry.js';
import { STREAM_PROTOCOL_VERSION, type ServerMessage, type StartMessage } from '../../protocol/index.js';
import type { AudioChunk, Segment, StreamConfig, Transcription, TranscriptionEvent } from '../../spec/index.js';
import { StreamConnection, type ConnectionHost } from './connection.js';
import { defaultWebSocket, type ResolvedRemoteOptions } from './options.js';
import { ReplayAudio } from './replay.js';

/** Lifecycle hooks the stream reports to its backend. @internal */
interface StreamHooks {
  /** The connection was lost; attempt `attempt` follows in `delayMs`. */
  reconnect(attempt: number, delayMs: number, error: ASRError): void;
  /** The session resumed at `offsetSec` on the stream's timeline. */
  resume(sessionId: string, offsetSec: number): void;
}

/** An ASRError the server sent in an `error` message. */
class ServerStreamError extends ASRError {
  override readonly code: string;
  readonly #retryable: boolean;
  constructor(code: string, message: string, retryable: boolean) {
    super(message);
    this.code = code;
    this.#retryable = retryable;
  }
  override get isRetryable(): boolean {
    return this.#retryable;
  }
}
registerError(ServerStreamError, 'ServerStreamError');

/**
 * The client side of streaming protocol v1, as a coordinator: the source's audio goes into a
 * {@link ReplayAudio} (held back while the replay buffer is full), each connection is a
 * {@link StreamConnection} (which sends from the cursor with backpressure), and this class runs
 * the reconnect loop (capped backoff, resume from the acknowledged offset) and turns server
 * messages into the caller's events. See docs/streaming-protocol.md.
 * @internal
 */
export class StreamClient {
  readonly #o: ResolvedRemoteOptions;
  readonly #config: StreamConfig;
  readonly #hooks: StreamHooks;
  readonly #source: AsyncIterator<AudioChunk>;
  readonly #out = new AsyncChannel<TranscriptionEvent>();
  readonly #stop = new AbortController();
  readonly #audio: ReplayAudio;
  readonly #host: ConnectionHost;
  #inputDone = false;
  #sessionId: string | undefined;
  /** The current (or last) connection. */
  #conn: StreamConnection | undefined;
  #ended = false;
  #finished = false;
  #lastFinalEnd = -1;
  readonly #finals: Segment[] = [];
  /** Wakes the connect loop while it waits for the first audio. */
  #wakeFirstAudio: (() => void) | undefined;
  #wakeProducer: (() => void) | undefined;
  /** Whether the producer waits for room in the replay buffer. */
  #producerWaiting = false;
  /** Called on the next `ready` (resets the reconnect attempts after a successful resume). */
  #onReady: (() => void) | undefined;

  constructor(o: ResolvedRemoteOptions, audio: AsyncIterable<AudioChunk>, config: StreamConfig, hooks: StreamHooks) {
    this.#o = o;
    this.#config = config;
    this.#hooks = hooks;
    this.#source = audio[Symbol.asyncIterator]();
    this.#audio = new ReplayAudio(o.replayBufferSec);
    this.#host = {
      options: o,
      audio: this.#audio,
      startMessage: () => this.#startMessage(),
      onMessage: (m, c) => this.#handle(m, c),
      onConfirmed: (sent, c) => {
        if (this.#conn === c && this.#audio.confirm(sent)) this.#wakeProducer?.();
      },
      ended: () => this.#ended,
      finished: () => this.#finished,
      inputDone: () => this.#inputDone,
      producerWaiting: () => this.#producerWaiting,
      interrupted: (message) => this.#interrupted(message, undefined),
    };
  }

  /** Runs the stream and yields its events. */
  async *events(): AsyncGenerator<TranscriptionEvent> {
    const signal = this.#config.abortSignal;
    const onAbort = (): void => this.#out.fail(toAbortError(signal));
    signal?.addEventListener('abort', onAbort, { once: true });
    let completed = false;
    let interrupted = false;
    try {
      void this.#produce().catch((e: unknown) => this.#out.fail(e));
      void this.#connectLoop().catch((e: unknown) => {
        interrupted = StreamInterruptedError.isInstance(e);
        this.#out.fail(e);
      });
      for (;;) {
        const r = await this.#out.next();
        if (r.done === true) break;
        yield r.value;
      }
      completed = true;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#finished = true;
      this.#stop.abort();
      this.#wakeSender();
      this.#wakeProducer?.();
      this.#conn?.release(completed);
      // A consumer that stops early (or an abort) ends the source; an interruption leaves it to the caller.
      if (!completed && !interrupted) void this.#source.return?.().catch(() => undefined);
    }
  }

  #wakeSender(): void {
    this.#wakeFirstAudio?.();
    this.#conn?.wake();
  }

  /**
   * Pulls the source into the replay audio. Backpressure: with the replay buffer full, it stops
   * pulling until the server acknowledges (or reads) some (connected or not). Unacknowledged audio
   * is never dropped, so a resume or a failover always has all of it, however fast the input comes.
   */
  async #produce(): Promise<void> {
    for (;;) {
      if (this.#finished) return;
      while (!this.#finished && this.#audio.full) {
        this.#producerWaiting = true;
        this.#wakeSender();
        await new Promise<void>((r) => (this.#wakeProducer = r));
        this.#wakeProducer = undefined;
        this.#producerWaiting = false;
      }
      if (this.#finished) return;
      const r = await this.#source.next();
      if (this.#finished) return;
      if (r.done === true) {
        this.#inputDone = true;
        this.#wakeSender();
        return;
      }
      this.#audio.append(r.value);
      this.#wakeSender();
    }
  }

  async #connectLoop(): Promise<void> {
    // Wait for the first audio: the start message needs the sample rate.
    while (this.#audio.sampleRate === 0 && !this.#inputDone && !this.#finished) {
      await new Promise<void>((r) => (this.#wakeFirstAudio = r));
      this.#wakeFirstAudio = undefined;
    }
    if (this.#finished) return;
    if (this.#audio.sampleRate === 0) {
      // No audio at all: an empty stream.
      this.#out.push({ type: 'end', durationSec: 0, transcription: this.#transcription(0) });
      this.#out.close();
      return;
    }
    let attempt = 0;
    for (;;) {
      let lost: ASRError;
      try {
        await this.#connect();
        return; // ended normally
      } catch (e) {
        if (this.#finished) return;
        if (!ASRError.isInstance(e) || !e.isRetryable || StreamInterruptedError.isInstance(e)) throw e;
        lost = e;
      }
      if (this.#ended) return;
      if (attempt >= this.#o.reconnect.maxAttempts) throw this.#interrupted(`Lost the stream and could not resume after ${attempt} attempts: ${lost.message}`, lost);
      const retryAfter = APIStatusError.isInstance(lost) ? Number(lost.headers['retry-after']) * 1000 : NaN;
      const backoff = Math.min(this.#o.reconnect.initialDelayMs * 2 ** attempt, this.#o.reconnect.maxDelayMs) * (1 - Math.random() * 0.25);
      const delay = Number.isFinite(retryAfter) && retryAfter >= 0 && retryAfter <= 60_000 ? retryAfter : backoff;
      attempt++;
      this.#hooks.reconnect(attempt, delay, lost);
      await sleep(delay, this.#stop.signal).catch(() => undefined);
      if (this.#finished) return;
      // A successful resume resets the attempt counter (see the `ready` handling).
      this.#onReady = () => (attempt = 0);
    }
  }

  /** One connection: resolves when the session ended normally, rejects when the connection was lost. */
  async #connect(): Promise<void> {
    const WebSocketCtor = this.#o.WebSocket ?? (await defaultWebSocket());
    this.#conn = new StreamConnection(this.#host, WebSocketCtor);
    return this.#conn.done;
  }

  #startMessage(): StartMessage {
    return {
      type: 'start',
      version: STREAM_PROTOCOL_VERSION,
      sample_rate: this.#audio.sampleRate,
      encoding: this.#o.streamEncoding,
      model: this.#o.streamModel,
      partials: this.#config.partials ?? true,
      ...(this.#config.language !== undefined ? { language: this.#config.language } : {}),
      ...(this.#sessionId !== undefined ? { session_id: this.#sessionId, resume_offset: this.#audio.ack } : {}),
    };
  }

  /** The stream cannot go on: the error names, and carries, every sample the server has not acknowledged. */
  #interrupted(message: string, cause: unknown): StreamInterruptedError {
    const from = this.#audio.ack;
    const rate = this.#audio.sampleRate;
    const sec = (n: number): string => (n / rate).toFixed(2);
    return new StreamInterruptedError(
      `${message}; the server has not acknowledged ${sec(this.#audio.total - from)} s of audio from ${sec(from)} s on (StreamInterruptedError.unacknowledgedAudio)`,
      { unacknowledgedAudio: this.#audio.unacknowledged(), sampleRate: rate, audioOffsetSec: from / rate },
      { cause },
    );
  }

  #handle(m: ServerMessage, conn: StreamConnection): void {
    // Messages of later minor versions are not checked: their `ack` may be anything.
    if (Number.isFinite(m.ack) && m.ack <= this.#audio.total && this.#audio.acknowledge(m.ack)) this.#wakeProducer?.();
    switch (m.type) {
      case 'ready': {
        const resumed = this.#sessionId !== undefined;
        this.#sessionId = m.session_id;
        if (m.audio_end < this.#audio.ack || m.audio_end > this.#audio.total) {
          throw this.#interrupted(`The server resumed at sample ${m.audio_end}, outside the kept audio`, undefined);
        }
        if (resumed) this.#hooks.resume(m.session_id, m.audio_end / this.#audio.sampleRate);
        this.#onReady?.();
        this.#audio.confirm(m.audio_end, true);
        conn.startSending(m.audio_end);
        return;
      }
      case 'partial':
        if (this.#config.partials ?? true) this.#out.push({ type: 'partial', text: m.text, start: m.start, end: m.end });
        return;
      case 'final':
        // The ack travels with the final, so a final at or before one already seen is a duplicate.
        if (m.audio_end <= this.#lastFinalEnd) return;
        this.#lastFinalEnd = m.audio_end;
        this.#finals.push(m.segment);
        this.#out.push({ type: 'final', segment: m.segment });
        return;
      case 'warning':
        this.#out.push({ type: 'warning', warning: m.warning });
        return;
      case 'error': {
        const err = new ServerStreamError(m.code, m.message, m.retryable);
        if (!m.fatal) {
          this.#out.push({ type: 'error', error: err, recoverable: true });
          return;
        }
        if (!m.retryable) this.#out.push({ type: 'error', error: err, recoverable: false });
        conn.fail(err);
        return;
      }
      case 'end':
        this.#ended = true;
        this.#out.push({ type: 'end', durationSec: m.duration_sec, transcription: this.#transcription(m.duration_sec) });
        this.#out.close();
        conn.finish();
        return;
      default:
        return; // ack, and message types of later minor versions
    }
  }

  #transcription(durationSec: number): Transcription {
    const segments = [...this.#finals];
    return {
      text: segments.map((s) => s.text.trim()).filter((t) => t !== '').join(' '),
      segments,
      ...(this.#config.language !== undefined ? { language: this.#config.language } : {}),
      durationSec,
      processingTimeSec: 0,
      backend: 'remote',
      warnings: [],
    };
  }
}
