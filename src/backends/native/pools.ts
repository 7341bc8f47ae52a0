import type { VoiceActivityDetector } from '../../vad/index.js';

/** Idle detectors kept for reuse. */
const MAX_IDLE_VADS = 4;
/** Idle scratch arrays kept for reuse. */
const MAX_IDLE_SCRATCH = 2;

/**
 * Idle VAD instances of one loaded backend: building one costs a model load, and calls may run
 * concurrently, so each call borrows one and gives it back reset.
 */
export class VadPool {
  readonly #idle: VoiceActivityDetector[] = [];
  readonly #create: () => Promise<VoiceActivityDetector>;

  /** @param create - builds a new detector when none is idle. */
  constructor(create: () => Promise<VoiceActivityDetector>) {
    this.#create = create;
  }

  /** An idle detector, or a new one. */
  acquire(): Promise<VoiceActivityDetector> {
    const idle = this.#idle.pop();
    return idle ? Promise.resolve(idle) : this.#create();
  }

  /** Resets `vad` and keeps it for the next call (up to {@link MAX_IDLE_VADS}). */
  release(vad: VoiceActivityDetector): void {
    vad.reset();
    if (this.#idle.length < MAX_IDLE_VADS) this.#idle.push(vad);
  }
}

/**
 * Idle sample arrays for small files, reused so that decoding a short clip allocates nothing for
 * V8 to collect (the samples are copied into the sherpa stream at once).
 */
export class ScratchArrays {
  readonly #idle: Float32Array[] = [];

  /** An idle array of at least `n` samples, or a new one. */
  borrow(n: number): Float32Array {
    const a = this.#idle.pop();
    return a && a.length >= n ? a : new Float32Array(n);
  }

  /** Returns a borrowed array (at most {@link MAX_IDLE_SCRATCH} are kept idle). */
  giveBack(a: Float32Array): void {
    if (this.#idle.length < MAX_IDLE_SCRATCH) this.#idle.push(a);
  }
}
