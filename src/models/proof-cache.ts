/**
 * The proof verdict cache: one small JSON file, `model-proofs.json` in the cache folder, replaced
 * atomically (write + rename); concurrent writers merge what they read just before writing, and a
 * lost entry only means a model is proven again.
 * @internal
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Bump when the child program or the digest's material changes: older verdicts are then ignored. @internal */
export const PROOF_FORMAT = 2;
/** File name of the verdict cache inside the cache folder. */
export const MODEL_PROOF_CACHE_FILE = 'model-proofs.json';
/** Most entries of each kind kept in the file (the newest). */
const MAX_ENTRIES = 1000;

/** A file digest, trusted while the file's identity and timestamps are unchanged. @internal */
export interface FileEntry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
  sha256: string;
  hashedAt: number;
}
/** A verdict by content digest. @internal */
export interface VerdictEntry {
  ok: boolean;
  reason?: string | undefined;
  model: string;
  at: number;
}
/** The verdict cache file. @internal */
export interface CacheFile {
  format: number;
  files: Record<string, FileEntry>;
  verdicts: Record<string, VerdictEntry>;
}

/** The cache file's contents; an empty cache when it is missing, unreadable or of another format. @internal */
export function readCache(file: string): CacheFile {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    if (v && v.format === PROOF_FORMAT && typeof v.files === 'object' && typeof v.verdicts === 'object') return v;
  } catch {
    // missing or unreadable: an empty cache (it is rebuilt)
  }
  return { format: PROOF_FORMAT, files: {}, verdicts: {} };
}

function trim<T extends { at?: number; hashedAt?: number }>(rec: Record<string, T>): Record<string, T> {
  const entries = Object.entries(rec);
  if (entries.length <= MAX_ENTRIES) return rec;
  entries.sort((a, b) => (b[1].at ?? b[1].hashedAt ?? 0) - (a[1].at ?? a[1].hashedAt ?? 0));
  return Object.fromEntries(entries.slice(0, MAX_ENTRIES));
}

/** Merges new entries into the cache file: re-read just before writing, write a temp file, rename over. Best effort. @internal */
export function writeCache(dir: string, files: Record<string, FileEntry>, verdicts: Record<string, VerdictEntry>): void {
  const file = join(dir, MODEL_PROOF_CACHE_FILE);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    const cur = readCache(file);
    const next: CacheFile = { format: PROOF_FORMAT, files: trim({ ...cur.files, ...files }), verdicts: trim({ ...cur.verdicts, ...verdicts }) };
    writeFileSync(tmp, JSON.stringify(next));
    renameSync(tmp, file);
  } catch {
    // A read-only or full cache folder costs a proof next time, nothing more.
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
  }
}

