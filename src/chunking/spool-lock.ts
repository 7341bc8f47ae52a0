/**
 * One owner per spool: a lock file holding the owner's pid, host and start time, created with
 * O_EXCL. A lock whose process is gone (same host, no such pid) is stale and taken over; a live
 * owner — another process, or this one — is a {@link SpoolLockedError} that names it.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SpoolLockedError, spoolError } from './spool-errors.js';

/** Name of the lock file inside a spool folder. */
export const SPOOL_LOCK_FILE = 'spool.lock';

interface LockContent {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  readonly token: string;
}

/** Whether process `pid` exists on this host. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A held lock; `release()` removes it if it is still ours. */
export interface SpoolLock {
  /** Removes the lock file (idempotent; leaves another owner's lock alone). */
  release(): Promise<void>;
}

/** Takes the lock of spool folder `dir`, or throws {@link SpoolLockedError}. */
export async function lockSpool(dir: string): Promise<SpoolLock> {
  const path = join(dir, SPOOL_LOCK_FILE);
  const mine: LockContent = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(JSON.stringify(mine));
        await fh.sync();
      } finally {
        await fh.close();
      }
      return held(path, mine);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw spoolError(e, 'create the lock file', path);
    }
    let owner: Partial<LockContent> | undefined;
    try {
      owner = JSON.parse(await readFile(path, 'utf8')) as Partial<LockContent>;
    } catch {
      owner = undefined; // unreadable or half-written: treated as stale below if it stays so
    }
    if (owner !== undefined && typeof owner.pid === 'number' && typeof owner.host === 'string') {
      if (owner.host !== mine.host) {
        throw new SpoolLockedError(
          `The spool ${dir} is owned by process ${owner.pid} on host ${owner.host}; if that host no longer runs it, delete ${path}`,
          { pid: owner.pid, host: owner.host },
        );
      }
      if (alive(owner.pid)) {
        throw new SpoolLockedError(
          `The spool ${dir} is owned by process ${owner.pid}${owner.pid === process.pid ? ' (this process)' : ''}, started ${owner.startedAt ?? 'at an unknown time'}; one process at a time may use a spool`,
          { pid: owner.pid, host: owner.host },
        );
      }
    } else if (attempt === 0) {
      // Maybe being written right now: look again before calling it stale.
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    // Stale: its process is gone. Move it aside atomically; of two takers only one wins the O_EXCL create.
    const aside = `${path}.stale-${randomBytes(4).toString('hex')}`;
    try {
      await rename(path, aside);
      await rm(aside, { force: true });
    } catch (e) {
      // ENOENT: another process moved it first (and races us for the O_EXCL create). Anything
      // else (a read-only file system…) means the lock can't be taken at all.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw spoolError(e, 'take over the stale lock', path);
    }
  }
  throw new SpoolLockedError(`The spool ${dir} is being taken over by another process`, { pid: -1, host: mine.host });
}

/** Locks this process holds, removed by one `exit` handler if the process ends without releasing them. */
const heldLocks = new Map<string, string>();
let exitHandlerInstalled = false;

/** Whether the lock file at `path` is still the one with `token`. */
function stillOurs(path: string, token: string): boolean {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as LockContent).token === token;
  } catch {
    return false;
  }
}

function releaseAllOnExit(): void {
  for (const [path, token] of heldLocks) {
    if (!stillOurs(path, token)) continue;
    try {
      unlinkSync(path);
    } catch {
      // gone already
    }
  }
}

function held(path: string, mine: LockContent): SpoolLock {
  heldLocks.set(path, mine.token);
  if (!exitHandlerInstalled) {
    process.once('exit', releaseAllOnExit);
    exitHandlerInstalled = true;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      if (heldLocks.get(path) === mine.token) heldLocks.delete(path);
      if (stillOurs(path, mine.token)) await rm(path, { force: true });
    },
  };
}
