/**
 * The spool as a crash, a second process or a full disk meets it: one owner at a time, partial
 * recovery with typed warnings, and typed errors (with a JSON error event from `hybrid-asr live`)
 * for file-system failures. Real files, real child processes, real tmpfs mounts.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, statfs, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ChunkedLiveProcessor,
  PcmSpool,
  readCommittedWords,
  SPOOL_AUDIO_FILE,
  SPOOL_COMMITS_FILE,
  SpoolError,
  SPOOL_LOCK_FILE,
  SpoolLockedError,
  WAV_HEADER_BYTES,
} from '../../src/chunking/index.js';
import { TestBackend } from '../../src/testing/index.js';
import { AUDIO_DIR, OFFLINE_MODEL, PROJECT_ROOT } from '../helpers/shared.js';
import { asIfOwnerDied } from './owner-death.js';

const RATE = 16000;
const BPS = RATE * 2;
const root = await mkdtemp(join(tmpdir(), 'hybrid-asr-spool-hard-'));
const mounts: string[] = [];
afterAll(async () => {
  for (const m of mounts) spawnSync('umount', [m]);
  await rm(root, { recursive: true, force: true });
});

let n = 0;
let dir: string;
beforeEach(() => {
  dir = join(root, `s${n++}`);
});

/** A crashed session's spool: `sec` seconds of audio and commits of `words` words, owner dead. */
async function crashedSpool(spoolDir: string, sec: number, words: string[]): Promise<void> {
  const spool = await PcmSpool.create({ dir: spoolDir, sampleRate: RATE });
  await spool.append(new Uint8Array(sec * BPS));
  for (const [i, w] of words.entries()) {
    await spool.appendCommit({ frontier: (i + 1) * 0.5, processedByte: Math.min(sec * BPS, (i + 1) * 0.5 * BPS), words: [[w, i * 0.5, i * 0.5 + 0.3]] });
  }
  await spool.writeJournal({ lastProcessedByte: sec * BPS, committedUntilSec: words.length * 0.5, emittedWords: words.length, ticks: 1 });
  await spool.abandon();
  await asIfOwnerDied(spoolDir);
}

/** A tmpfs of `size` mounted at a new folder; undefined where mounting is not allowed (not in CI). */
function tmpfs(size: string): string | undefined {
  const at = join(root, `mnt${n++}`);
  execFileSync('mkdir', ['-p', at]);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at]);
  if (r.status !== 0) {
    if (process.env.CI) throw new Error(`mount failed: ${r.stderr.toString()}`);
    return undefined;
  }
  mounts.push(at);
  return at;
}

describe('one owner per spool', () => {
  it('two concurrent recoveries in two processes: one wins, the other gets SpoolLockedError naming it; no word is duplicated', async () => {
    const words = ['alpha', 'beta', 'gamma', 'delta'];
    await crashedSpool(dir, 4, words);
    const run = (): Promise<Record<string, unknown>> =>
      new Promise((resolve) => {
        const c = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'test', 'chunking', 'fixtures', 'recover-once.ts'), dir], { cwd: PROJECT_ROOT });
        let out = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.on('close', () => resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>));
      });
    const [a, b] = await Promise.all([run(), run()]);
    const won = [a, b].filter((r) => r.ok);
    const lost = [a, b].filter((r) => !r.ok);
    expect(won, JSON.stringify([a, b])).toHaveLength(1);
    expect(lost[0]).toMatchObject({ name: 'SpoolLockedError', code: 'spool_locked', locked: true, ownerPid: won[0]!.pid });
    expect(String(lost[0]!.message)).toContain(`process ${String(won[0]!.pid)}`);
    expect(won[0]!.words).toBe(words.length);
    expect((await readCommittedWords(dir)).map((w) => w.word)).toEqual(words);
  });

  it('a second recover() in the same process is refused while the first holds the spool; a dead owner’s lock is taken over', async () => {
    await crashedSpool(dir, 2, ['one']);
    const backend = new TestBackend({ capabilities: { streaming: false } });
    const first = await ChunkedLiveProcessor.recover(dir, { backend });
    const err = await ChunkedLiveProcessor.recover(dir, { backend }).catch((e: unknown) => e);
    expect(SpoolLockedError.isInstance(err), String(err)).toBe(true);
    expect((err as SpoolLockedError).ownerPid).toBe(process.pid);
    expect(String(err)).toMatch(/\(this process\)/);
    await first.stop({ fullPass: false });
    // Released by stop(): the spool can be opened again.
    const { spool } = await PcmSpool.open(dir);
    await spool.close();
  });
  it('a process that exits without stop() removes its lock; one killed with SIGKILL leaves it, and it is taken over', async () => {
    const code = (exit: string): string =>
      `import { PcmSpool } from './src/chunking/index.ts'; await PcmSpool.create({ dir: ${JSON.stringify(dir)}, sampleRate: 16000 }); ${exit}`;
    const clean = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code('process.exit(0);')], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(clean.status, clean.stderr).toBe(0);
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(dir, SPOOL_LOCK_FILE))).toBe(false);
    await rm(dir, { recursive: true, force: true });
    const killed = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code("process.kill(process.pid, 'SIGKILL');")], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(dir, SPOOL_LOCK_FILE))).toBe(true);
    const { spool } = await PcmSpool.open(dir); // the dead owner's lock is stale
    await spool.close();
    expect(existsSync(join(dir, SPOOL_LOCK_FILE))).toBe(false);
  });
});

describe('partial recovery', () => {
  it('garbage and null lines in the commit log are skipped and reported; the rest of the log is kept', async () => {
    await crashedSpool(dir, 3, ['one', 'two']);
    const log = join(dir, SPOOL_COMMITS_FILE);
    const [l1, l2] = (await readFile(log, 'utf8')).trim().split('\n');
    await writeFile(log, `${l1}\ngarbage{\nnull\n${l2}\n{"frontier":1}\n[1,2]\n`);
    const { spool, recovery } = await PcmSpool.open(dir);
    expect(recovery.commits.map((c) => c.words[0]![0])).toEqual(['one', 'two']);
    expect(recovery.warnings).toEqual([expect.objectContaining({ type: 'recovery', kind: 'bad-commit-lines', lines: [2, 3, 5, 6] })]);
    await spool.close();
    // The log now holds the good records only, and every reader agrees.
    expect((await readCommittedWords(dir)).map((w) => w.word)).toEqual(['one', 'two']);
  });

  it('readCommittedWords() reads past a null or garbage line of a live log (a null line was a TypeError)', async () => {
    await crashedSpool(dir, 2, ['one', 'two']);
    const log = join(dir, SPOOL_COMMITS_FILE);
    const [l1, l2] = (await readFile(log, 'utf8')).trim().split('\n');
    await writeFile(log, `${l1}\nnull\n{oops\n${l2}\n`);
    expect((await readCommittedWords(dir)).map((w) => w.word)).toEqual(['one', 'two']);
  });

  it('audio 1 s shorter than the journal says: the session continues from the audio on disk, commits past it dropped, with warnings', async () => {
    await crashedSpool(dir, 3, ['a', 'b', 'c', 'd', 'e', 'f']); // commits up to 3 s
    await truncate(join(dir, SPOOL_AUDIO_FILE), WAV_HEADER_BYTES + 2 * BPS);
    await asIfOwnerDied(dir);
    const p = await ChunkedLiveProcessor.recover(dir, { backend: new TestBackend({ capabilities: { streaming: false } }) });
    // Subscribed after recover() resolved: the recovery events still come, first, once each.
    const seen: string[] = [];
    for (const t of ['recovery', 'final', 'tick', 'end'] as const) p.on(t, (e) => seen.push(e.type === 'recovery' ? `recovery:${e.warning.kind}` : e.type));
    const w = p.recovered!.warnings;
    expect(w.map((x) => x.kind)).toEqual(['audio-truncated', 'commits-beyond-audio']);
    expect(w[0]!.droppedSec).toBeCloseTo(1, 3);
    expect(p.recovered!.audioSec).toBeCloseTo(2, 3);
    expect(p.recovered!.committedWords).toBe(4); // a–d were decoded from the first 2 s
    await p.push(new Uint8Array(BPS)); // and it goes on
    const t = await p.stop({ fullPass: false });
    expect(t.segments.flatMap((s) => s.words).map((x) => x.word)).toEqual(['a', 'b', 'c', 'd']);
    expect(seen.slice(0, 2)).toEqual(['recovery:audio-truncated', 'recovery:commits-beyond-audio']);
    expect(seen.filter((x) => x.startsWith('recovery'))).toHaveLength(2);
    expect(seen.at(-1)).toBe('end');
    // The final transcript says what was dropped.
    expect(t.warnings).toEqual(w.map((x) => ({ type: 'other', message: x.message })));
  });

  it('recovery events come without a push() or stop(), to listeners and to an events() iterator opened after recover() resolves', async () => {
    await crashedSpool(dir, 2, ['one']);
    await writeFile(join(dir, SPOOL_COMMITS_FILE), `${await readFile(join(dir, SPOOL_COMMITS_FILE), 'utf8')}garbage\n`);
    const p = await ChunkedLiveProcessor.recover(dir, { backend: new TestBackend({ capabilities: { streaming: false } }) });
    const heard: unknown[] = [];
    p.on('recovery', (e) => heard.push(e.warning));
    const iterated: string[] = [];
    const drained = (async () => {
      for await (const e of p.events()) iterated.push(e.type);
    })();
    await new Promise((r) => setImmediate(r)); // after the processor's own deferred emit
    expect(heard).toEqual([expect.objectContaining({ type: 'recovery', kind: 'bad-commit-lines', lines: [2] })]);
    await p.stop({ fullPass: false });
    await drained;
    expect(iterated[0]).toBe('recovery');
    expect(iterated.filter((t) => t === 'recovery')).toHaveLength(1);
  });

  it('hybrid-asr live --recover reports the warnings as JSON lines', async () => {
    await crashedSpool(dir, 2, ['x']);
    await writeFile(join(dir, SPOOL_COMMITS_FILE), `${(await readFile(join(dir, SPOOL_COMMITS_FILE), 'utf8'))}null\n`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'live', dir, '--recover', '-m', OFFLINE_MODEL], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; warning?: { kind: string } });
    expect(lines.find((l) => l.type === 'warning')?.warning?.kind).toBe('bad-commit-lines');
    expect(r.stderr).toMatch(/warning: Skipped 1 line/);
  });
});

describe('file-system failures are typed errors', () => {
  it('a missing audio file is a SpoolError (ENOENT) and leaves the spool unlocked', async () => {
    await crashedSpool(dir, 1, []);
    await unlink(join(dir, SPOOL_AUDIO_FILE));
    const err = await PcmSpool.open(dir).catch((e: unknown) => e);
    expect(SpoolError.isInstance(err), String(err)).toBe(true);
    expect((err as SpoolError).errno).toBe('ENOENT');
    expect(String(err)).toMatch(/the file is missing/);
    await writeFile(join(dir, SPOOL_AUDIO_FILE), Buffer.alloc(WAV_HEADER_BYTES));
    const { spool } = await PcmSpool.open(dir); // not locked by the failed attempt
    await spool.close();
  });

  it('a full disk (ENOSPC, a real tmpfs): push() rejects with SpoolError; hybrid-asr live prints a JSON error event', async () => {
    const mnt = tmpfs('256k');
    if (mnt === undefined) return;
    const p = new ChunkedLiveProcessor({ backend: new TestBackend({ capabilities: { streaming: false } }), spoolDir: join(mnt, 'api') });
    await p.start();
    let err: unknown;
    for (let i = 0; i < 20 && err === undefined; i++) await p.push(new Uint8Array(BPS)).catch((e: unknown) => (err = e));
    expect(SpoolError.isInstance(err), String(err)).toBe(true);
    expect((err as SpoolError).errno).toBe('ENOSPC');
    expect(String(err)).toMatch(/no space left on the device \(ENOSPC\)/);
    await p.stop().catch(() => undefined);
    await rm(join(mnt, 'api'), { recursive: true, force: true });

    const meeting = join(AUDIO_DIR, 'meetings', 'meeting-short-01.wav');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'live', meeting, '-m', OFFLINE_MODEL, '--speed', 'max', '--spool-dir', join(mnt, 'cli')], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(r.status).toBe(1);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(last).toMatchObject({ type: 'error', code: 'spool_error', recoverable: false });
    expect(String(last.message)).toMatch(/ENOSPC/);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/^hybrid-asr: Could not write the spool audio .*ENOSPC/);
  });

  it('the disk fills up while a recovered session finalizes: exactly one JSON error event, exit 1', async () => {
    const mnt = tmpfs('1m');
    if (mnt === undefined) return;
    const s = join(mnt, 'full');
    // A crashed session: 4 s of speech spooled, nothing decoded yet, its owner dead.
    const speech = (await readFile(join(AUDIO_DIR, 'espeak', 'espeak-001.wav'))).subarray(WAV_HEADER_BYTES);
    const spool = await PcmSpool.create({ dir: s, sampleRate: RATE });
    await spool.append(speech);
    await spool.writeJournal({});
    await spool.abandon();
    await asIfOwnerDied(s);
    // One free page: recovery fits (its journal replaces the old one), the final tick's first
    // commit-log line takes the page, and the journal write after it finds the disk full.
    const { bavail, bsize } = await statfs(mnt);
    await writeFile(join(mnt, 'filler'), Buffer.alloc((bavail - 1) * bsize));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'live', s, '--recover', '-m', OFFLINE_MODEL], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(1);
    const errors = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'spool_error', recoverable: false });
    expect(String(errors[0]!.message)).toMatch(/no space left on the device \(ENOSPC\)/);
  });

  it('a read-only file system (EROFS, a real remount): recover() is a SpoolError, and so is hybrid-asr live --recover', async () => {
    const mnt = tmpfs('4m');
    if (mnt === undefined) return;
    const s = join(mnt, 'ro');
    await mkdir(s);
    await crashedSpool(s, 1, ['w']);
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    const err = await PcmSpool.open(s).catch((e: unknown) => e);
    expect(SpoolError.isInstance(err), String(err)).toBe(true);
    expect((err as SpoolError).errno).toBe('EROFS');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'live', s, '--recover', '-m', OFFLINE_MODEL], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toMatchObject({ type: 'error', code: 'spool_error' });
    expect(r.stderr).toMatch(/read-only \(EROFS\)/);
  });
});
