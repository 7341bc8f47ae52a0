/**
 * Typed errors of the live processor's spool: file-system failures that say which file and why,
 * and the lock that makes one process the owner of a spool.
 * @module
 */
import { ASRError, type ASRErrorOptions } from '../errors/index.js';
import { registerError } from '../internal/error-registry.js';

/** Why the spool's files could not be written or read: the disk is full, read-only, a file is gone… */
export class SpoolError extends ASRError {
  override readonly code: string = 'spool_error';
  /** The system error code (`ENOSPC`, `EROFS`, `ENOENT`, `EACCES`…), when there was one. */
  readonly errno: string | undefined;
  /** The file or folder concerned. */
  readonly path: string;

  /**
   * @param message - what failed, in words a user can act on.
   * @param details - the path and the system error code.
   */
  constructor(message: string, details: { readonly path: string; readonly errno?: string | undefined }, options?: ASRErrorOptions) {
    super(message, options);
    this.path = details.path;
    this.errno = details.errno;
  }
}
registerError(SpoolError, 'SpoolError');

/** Another live process owns this spool (a second `recover()`, or two sessions on one folder). */
export class SpoolLockedError extends ASRError {
  override readonly code: string = 'spool_locked';
  /** The owner's process id. */
  readonly ownerPid: number;
  /** The owner's host name. */
  readonly ownerHost: string;

  /**
   * @param message - who owns the spool.
   * @param owner - the owner's pid and host.
   */
  constructor(message: string, owner: { readonly pid: number; readonly host: string }, options?: ASRErrorOptions) {
    super(message, options);
    this.ownerPid = owner.pid;
    this.ownerHost = owner.host;
  }
}
registerError(SpoolLockedError, 'SpoolLockedError');

const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'the file is missing',
  EIO: 'an I/O error',
  EMFILE: 'too many open files',
};

/** Wraps a file-system error of the spool: `what` failed on `path` because of its errno. */
export function spoolError(e: unknown, what: string, path: string): ASRError {
  if (ASRError.isInstance(e)) return e;
  const errno = (e as NodeJS.ErrnoException | undefined)?.code;
  const why = errno !== undefined ? `${REASONS[errno] ?? (e as Error).message} (${errno})` : String((e as Error)?.message ?? e);
  return new SpoolError(`Could not ${what} ${path}: ${why}`, { path, errno }, { cause: e });
}
