/**
 * One error hierarchy for the whole package. Every decision to retry or fail over reads
 * {@link ASRError.isRetryable}, never `message`. Use the static `isInstance` guards rather than
 * `instanceof` where two copies of the package may meet (bundlers, Electron main vs renderer).
 *
 * @module
 */

import { hasErrorMark, registerError } from '../internal/error-registry.js';

/** Options common to every error constructor. */
export interface ASRErrorOptions {
  /** The underlying error. */
  readonly cause?: unknown;
}

/** Base class of every error thrown by hybrid-asr. */
export class ASRError extends Error {
  /** Stable machine-readable code. */
  readonly code: string = 'asr_error';
  /** Whether repeating the call, or sending it to another backend, may succeed. */
  get isRetryable(): boolean {
    return false;
  }

  /**
   * @param message - what went wrong, in words a user can act on.
   * @param options - `cause`.
   */
  constructor(message: string, options?: ASRErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    // `name` comes from the prototype (set by registerError), so it survives minification.
  }

  /**
   * Cross-realm type guard: true for errors of this class (or a subclass) from any copy of the
   * package. `ASRError.isInstance(e)` is true for every hybrid-asr error.
   */
  static isInstance<T extends ASRError>(this: { readonly prototype: T }, e: unknown): e is T {
    return hasErrorMark(this.prototype, e);
  }
}

/** The audio can't be decoded: bad WAV header, truncated data, NaN samples, empty input… */
export class InvalidAudioError extends ASRError {
  override readonly code: string = 'invalid_audio';
}

/** An option or argument is out of range or of the wrong type. The message names it. */
export class InvalidArgumentError extends ASRError {
  override readonly code: string = 'invalid_argument';
}

/**
 * The backend can't serve requests here and now: native addon missing, model not found,
 * backend disposed, or the request needs a capability the backend's model lacks.
 */
export class BackendUnavailableError extends ASRError {
  override readonly code: string = 'backend_unavailable';
  override get isRetryable(): boolean {
    return true;
  }
}

/** A model is missing, corrupt, of the wrong family, or failed its checksum. */
export class ModelError extends ASRError {
  override readonly code: string = 'model_error';
  /** Path of the offending model file or folder, when known. */
  readonly path: string | undefined;

  /**
   * @param message - what is wrong with the model.
   * @param options - `cause`, and `path` of the offending file.
   */
  constructor(message: string, options?: ASRErrorOptions & { readonly path?: string }) {
    super(message, options);
    this.path = options?.path;
  }
}

/** The operation was cancelled through an `AbortSignal`. */
export class AbortedError extends ASRError {
  override readonly code: string = 'aborted';

  /** @param message - defaults to "The operation was aborted". */
  constructor(message = 'The operation was aborted', options?: ASRErrorOptions) {
    super(message, options);
  }
}

/**
 * An operation on this machine (decoding, a model load, a file read) ran past the deadline of the
 * caller's signal (`AbortSignal.timeout()`). An {@link AbortedError}, so code that handles
 * cancellation handles it too; not retryable. Network timeouts are {@link ConnectionTimeoutError}.
 */
export class TimeoutError extends AbortedError {
  override readonly code: string = 'operation_timeout';

  /** @param message - defaults to "The operation timed out". */
  constructor(message = 'The operation timed out', options?: ASRErrorOptions) {
    super(message, options);
  }
}

/** The connection to a server failed (refused, reset, DNS, TLS) before a response arrived. */
export class ConnectionError extends ASRError {
  override readonly code: string = 'connection_error';
  override get isRetryable(): boolean {
    return true;
  }
}

/** A request or connection to a server took longer than its timeout. Retryable. */
export class ConnectionTimeoutError extends ConnectionError {
  override readonly code: string = 'timeout';
}

/**
 * A live stream lost its server and could not resume. Retryable: the audio the server had not
 * acknowledged travels with the error, so a caller (the hybrid manager) can hand it to another
 * backend without losing anything.
 */
export class StreamInterruptedError extends ConnectionError {
  override readonly code: string = 'stream_interrupted';
  /** Mono float samples in [-1, 1] that were sent (or queued) but never acknowledged. */
  readonly unacknowledgedAudio: Float32Array;
  /** Sample rate of {@link StreamInterruptedError.unacknowledgedAudio}. */
  readonly sampleRate: number;
  /** Where the unacknowledged audio starts, in seconds on the stream's timeline. */
  readonly audioOffsetSec: number;

  /**
   * @param message - what happened.
   * @param details - the unacknowledged audio, its rate and its offset on the stream's timeline.
   */
  constructor(
    message: string,
    details: { readonly unacknowledgedAudio: Float32Array; readonly sampleRate: number; readonly audioOffsetSec: number },
    options?: ASRErrorOptions,
  ) {
    super(message, options);
    this.unacknowledgedAudio = details.unacknowledgedAudio;
    this.sampleRate = details.sampleRate;
    this.audioOffsetSec = details.audioOffsetSec;
  }
}

/** Options of {@link APIStatusError}. */
export interface APIStatusErrorOptions extends ASRErrorOptions {
  /** Response headers. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Parsed response body, when there was one. */
  readonly body?: unknown;
}

/**
 * A server answered with a non-2xx status. Use {@link APIStatusError.fromResponse} to get the
 * status-specific subclass (as openai-node does).
 */
export class APIStatusError extends ASRError {
  override readonly code: string = 'http_error';
  /** HTTP status code. */
  readonly status: number;
  /** Response headers (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed response body, when there was one. */
  readonly body: unknown;

  /**
   * @param status - HTTP status code.
   * @param message - what the server said.
   * @param options - headers, body and cause.
   */
  constructor(status: number, message: string, options?: APIStatusErrorOptions) {
    super(message, options);
    this.status = status;
    this.headers = options?.headers ?? {};
    this.body = options?.body;
  }

  /** 408, 409, 429 and 5xx are worth retrying (openai-node's policy). */
  override get isRetryable(): boolean {
    return this.status === 408 || this.status === 409 || this.status === 429 || this.status >= 500;
  }

  /** Builds the subclass that matches `status`. */
  static fromResponse(status: number, message: string, options?: APIStatusErrorOptions): APIStatusError {
    const Ctor = STATUS_CLASSES.get(status) ?? (status >= 500 ? InternalServerError : APIStatusError);
    return new Ctor(status, message, options);
  }
}

/** 400: the server rejected the request. */
export class BadRequestError extends APIStatusError {
  override readonly code: string = 'bad_request';
}
/** 401: missing or wrong API key. */
export class AuthenticationError extends APIStatusError {
  override readonly code: string = 'authentication_error';
}
/** 403: the key is not allowed to do this. */
export class PermissionDeniedError extends APIStatusError {
  override readonly code: string = 'permission_denied';
}
/** 404: no such endpoint or model. */
export class NotFoundError extends APIStatusError {
  override readonly code: string = 'not_found';
}
/** 409: conflict (retryable). */
export class ConflictError extends APIStatusError {
  override readonly code: string = 'conflict';
}
/** 413: the upload or the audio is longer than the server accepts. */
export class PayloadTooLargeError extends APIStatusError {
  override readonly code: string = 'payload_too_large';
}
/** 422: the request was well-formed but can't be processed. */
export class UnprocessableEntityError extends APIStatusError {
  override readonly code: string = 'unprocessable_entity';
}
/** 429: rate or concurrency limit; honour `retry-after`. */
export class RateLimitError extends APIStatusError {
  override readonly code: string = 'rate_limited';
}
/** 5xx: the server failed (retryable). */
export class InternalServerError extends APIStatusError {
  override readonly code: string = 'server_error';
}

const STATUS_CLASSES = new Map<number, new (s: number, m: string, o?: APIStatusErrorOptions) => APIStatusError>([
  [400, BadRequestError],
  [401, AuthenticationError],
  [403, PermissionDeniedError],
  [404, NotFoundError],
  [409, ConflictError],
  [413, PayloadTooLargeError],
  [422, UnprocessableEntityError],
  [429, RateLimitError],
]);

// Parents before children: each chain extends its parent's.
registerError(ASRError, 'ASRError');
registerError(InvalidAudioError, 'InvalidAudioError');
registerError(InvalidArgumentError, 'InvalidArgumentError');
registerError(BackendUnavailableError, 'BackendUnavailableError');
registerError(ModelError, 'ModelError');
registerError(AbortedError, 'AbortedError');
registerError(TimeoutError, 'TimeoutError');
registerError(ConnectionError, 'ConnectionError');
registerError(ConnectionTimeoutError, 'ConnectionTimeoutError');
registerError(StreamInterruptedError, 'StreamInterruptedError');
registerError(APIStatusError, 'APIStatusError');
registerError(BadRequestError, 'BadRequestError');
registerError(AuthenticationError, 'AuthenticationError');
registerError(PermissionDeniedError, 'PermissionDeniedError');
registerError(NotFoundError, 'NotFoundError');
registerError(ConflictError, 'ConflictError');
registerError(PayloadTooLargeError, 'PayloadTooLargeError');
registerError(UnprocessableEntityError, 'UnprocessableEntityError');
registerError(RateLimitError, 'RateLimitError');
registerError(InternalServerError, 'InternalServerError');

/**
 * Turns whatever an aborted operation threw (a DOMException `AbortError`, a `TimeoutError`, the
 * signal's reason) into an {@link AbortedError} or {@link TimeoutError}; other errors
 * pass through unchanged.
 */
export function toAbortError(signal: AbortSignal | undefined, e?: unknown): unknown {
  if (ASRError.isInstance(e)) return e;
  if (signal?.aborted) return abortErrorOf(signal);
  const name = (e as { name?: unknown } | undefined)?.name;
  if (name === 'TimeoutError') return new TimeoutError(undefined, { cause: e });
  if (name === 'AbortError') return new AbortedError(undefined, { cause: e });
  return e;
}

/**
 * The error for an aborted `signal`: its reason when that is a hybrid-asr error, a
 * {@link TimeoutError} for `AbortSignal.timeout()`, else an {@link AbortedError} with the reason
 * as `cause`.
 * @internal
 */
export function abortErrorOf(signal: AbortSignal): ASRError {
  const reason: unknown = signal.reason;
  if (ASRError.isInstance(reason)) return reason;
  const name = (reason as { name?: unknown } | undefined)?.name;
  if (name === 'TimeoutError') return new TimeoutError(undefined, { cause: reason });
  return new AbortedError(undefined, { cause: reason });
}

/** Throws an {@link AbortedError} (or timeout error) when `signal` is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortErrorOf(signal);
}
