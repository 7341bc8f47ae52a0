/** Test helper: what a spool's lock looks like once its owner process has died (kill -9). */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SPOOL_LOCK_FILE } from '../../src/chunking/spool-lock.js';

/**
 * In-process "crash" tests drop a processor without stop(); its process (this one) lives on, so
 * its lock would still be live. This rewrites the lock as a dead process's: the pid of a child
 * that has exited, on this host.
 */
export async function asIfOwnerDied(spoolDir: string): Promise<void> {
  const pid = spawnSync(process.execPath, ['-e', '']).pid;
  await writeFile(join(spoolDir, SPOOL_LOCK_FILE), JSON.stringify({ pid, host: hostname(), startedAt: new Date(0).toISOString(), token: 'dead' }));
}
