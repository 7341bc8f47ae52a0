/**
 * The shape every error of this package has, so that the spec stays type-only. The classes live in
 * `hybrid-asr`'s errors module (`ASRError` and subclasses).
 */
export interface ASRErrorLike extends Error {
  /** Stable machine-readable code, e.g. `'invalid_audio'`. */
  readonly code: string;
  /** Whether repeating the same call (or sending it elsewhere) may succeed. */
  readonly isRetryable: boolean;
}
