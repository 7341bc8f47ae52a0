import type { Segment } from '../../spec/index.js';
import type { ResolvedModel } from '../../models/index.js';
import type { SherpaOnlineRecognizer, SherpaOnlineStream, SherpaResult } from '../../internal/sherpa.js';
import { decodeError } from './decode-errors.js';
import { segmentFromResult } from './words.js';

/** Silence appended at the end of a stream so the last partial chunk is decoded. */
const TAIL_PAD_SEC = 0.6;

/**
 * One utterance-by-utterance pass of a streaming (online) model over a stream of samples: feeds
 * audio, decodes what is ready, and cuts a segment at each endpoint. Times are on the stream's
 * real timeline (synthetic padding fed to the model is subtracted).
 */
export class OnlineRun {
  readonly #r: SherpaOnlineRecognizer;
  readonly #rate: number;
  readonly #model: ResolvedModel;
  #stream: SherpaOnlineStream;
  /** Real samples fed so far. */
  samples = 0;
  /** Start of the open utterance on the stream's timeline, seconds. */
  segmentStartSec = 0;
  /** Real time at which the current sherpa stream began, seconds. */
  #streamStartSec = 0;
  /** Synthetic (padding) seconds fed to the current stream so far, and as of the open utterance's start. */
  #synthSec = 0;
  #segSynthSec = 0;

  /**
   * @param r - the loaded recognizer.
   * @param rate - the model's sample rate, Hz (the rate of every array fed).
   * @param model - the model, for error messages.
   */
  constructor(r: SherpaOnlineRecognizer, rate: number, model: ResolvedModel) {
    this.#r = r;
    this.#rate = rate;
    this.#model = model;
    this.#stream = r.createStream();
  }

  /** Decodes what is ready and returns the current result; native errors become typed ones. */
  #decodeReady(): SherpaResult {
    try {
      while (this.#r.isReady(this.#stream)) this.#r.decode(this.#stream);
      return this.#r.getResult(this.#stream);
    } catch (e) {
      throw decodeError(this.#model, e);
    }
  }

  /** Offset of the open utterance on the real timeline (sherpa's start_time counts padding too). */
  #offset(res: SherpaResult): number {
    return res.start_time !== undefined ? this.#streamStartSec + res.start_time - this.#segSynthSec : this.segmentStartSec;
  }

  /**
   * Starts a new sherpa stream at the current sample: what follows decodes exactly as it would
   * for a stream that starts here (which is what a resumed server session does).
   */
  #fresh(): void {
    this.#stream = this.#r.createStream();
    this.segmentStartSec = this.samples / this.#rate;
    this.#streamStartSec = this.segmentStartSec;
    this.#synthSec = 0;
    this.#segSynthSec = 0;
  }

  #reset(): void {
    this.#r.reset(this.#stream);
    this.segmentStartSec = this.samples / this.#rate;
    this.#segSynthSec = this.#synthSec;
  }

  /** Feeds samples; returns the open utterance's text and, at an endpoint, the finished segment. */
  feed(samples: Float32Array): { text: string; final?: Segment } {
    this.#stream.acceptWaveform({ sampleRate: this.#rate, samples });
    this.samples += samples.length;
    const res = this.#decodeReady();
    if (this.#r.isEndpoint(this.#stream)) {
      const seg = this.#cut(res);
      this.#reset();
      return seg ? { text: '', final: seg } : { text: '' };
    }
    return { text: res.text.trim() };
  }

  /**
   * Ends the open utterance now (the VAD heard its speech end): synthetic tail padding makes the
   * model emit its last letters at once instead of after real trailing silence.
   */
  flushUtterance(): Segment | undefined {
    const pad = Math.round(TAIL_PAD_SEC * this.#rate);
    this.#stream.acceptWaveform({ sampleRate: this.#rate, samples: new Float32Array(pad) });
    this.#synthSec += pad / this.#rate;
    const res = this.#decodeReady();
    const seg = this.#cut(res);
    this.#fresh();
    return seg;
  }

  /** The finished utterance, on the real timeline. */
  #cut(res: SherpaResult): Segment | undefined {
    return segmentFromResult(res, this.#offset(res), this.samples / this.#rate);
  }

  /** Pads the tail so it is decoded, ends the input, and returns the last segment. */
  finish(): Segment | undefined {
    this.#stream.acceptWaveform({ sampleRate: this.#rate, samples: new Float32Array(Math.round(TAIL_PAD_SEC * this.#rate)) });
    this.#stream.inputFinished();
    const res = this.#decodeReady();
    return segmentFromResult(res, this.#offset(res), this.samples / this.#rate);
  }
}
