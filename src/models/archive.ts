/**
 * Safe extraction of `.tar.bz2` model archives.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, normalize, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type * as TarStreamModule from 'tar-stream';
import type unbzip2Stream from 'unbzip2-stream';
import { InvalidArgumentError, ModelError, throwIfAborted, toAbortError } from '../errors/index.js';

/** Options of {@link extractTarBz2}. */
interface ExtractOptions {
  /** Cancels extraction (the temporary folder is removed). */
  readonly abortSignal?: AbortSignal | undefined;
  /** Most bytes the archive may expand to. @defaultValue 8 GiB */
  readonly maxBytes?: number | undefined;
  /** Most entries the archive may hold. @defaultValue 10000 */
  readonly maxEntries?: number | undefined;
}

type TarStream = typeof TarStreamModule;
type Unbzip2 = typeof unbzip2Stream;

/**
 * `tar-stream` and `unbzip2-stream` are CommonJS: `import()` of them gives `module.exports` as
 * `default` from ESM and from the CJS build's `__toESM` interop, but a loader that hands back the
 * namespace itself (or `default` nested once more) must work too.
 */
async function loadArchiveLibraries(): Promise<{ tar: TarStream; unbzip2: Unbzip2 }> {
  const [t, u] = await Promise.all([import('tar-stream'), import('unbzip2-stream')]);
  const pick = <T>(m: unknown, ok: (v: unknown) => boolean): T => {
    let v: unknown = m;
    for (let i = 0; i < 3 && !ok(v) && v !== null && typeof v === 'object' && 'default' in v; i++) v = v.default;
    return v as T;
  };
  return {
    tar: pick<TarStream>(t, (v) => typeof (v as TarStream | undefined)?.extract === 'function'),
    unbzip2: pick<Unbzip2>(u, (v) => typeof v === 'function'),
  };
}

/**
 * Checks one tar entry name and returns its normalised relative path ('' for the root).
 * Throws on absolute paths, drive letters and `..` segments.
 */
function safeName(name: string, archive: string): string {
  const raw = name.replace(/\\/g, '/');
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw) || raw.includes('\0')) {
    throw new ModelError(`${archive} contains an absolute path ${JSON.stringify(name)}; refused`, { path: archive });
  }
  if (raw.split('/').includes('..')) {
    throw new ModelError(`${archive} contains a path that leaves the folder (${JSON.stringify(name)}); refused`, { path: archive });
  }
  const n = normalize(raw).replace(/[/\\]+$/, '');
  return n === '.' ? '' : n;
}

/**
 * Extracts a `.tar.bz2` archive into `destDir` (which must not exist yet): into a temporary
 * sibling folder first, renamed into place only when everything was extracted. Only regular
 * files and folders are accepted: absolute paths, `..` segments, symbolic and hard links, device
 * files and FIFOs make the whole archive a {@link ModelError}, and nothing is left behind.
 *
 * @param archivePath - the `.tar.bz2` file.
 * @param destDir - the folder to create.
 * @param options - limits against archive bombs, and `abortSignal`.
 * @returns the relative paths of the files extracted.
 */
export async function extractTarBz2(archivePath: string, destDir: string, options: ExtractOptions = {}): Promise<string[]> {
  const { abortSignal, maxBytes = 8 * 1024 ** 3, maxEntries = 10_000 } = { ...options };
  if (!Number.isFinite(maxBytes) || maxBytes <= 0) throw new InvalidArgumentError(`\`maxBytes\` must be a finite number > 0, got ${maxBytes}`);
  if (!Number.isInteger(maxEntries) || maxEntries <= 0) throw new InvalidArgumentError(`\`maxEntries\` must be a whole number > 0, got ${maxEntries}`);
  throwIfAborted(abortSignal);
  // The archive libraries load when an archive is extracted, not when the package is imported.
  const { tar, unbzip2 } = await loadArchiveLibraries();
  const dest = resolve(destDir);
  if (await stat(dest).then(() => true, () => false)) {
    throw new ModelError(`Can't extract ${archivePath}: ${dest} already exists`, { path: dest });
  }
  await mkdir(dirname(dest), { recursive: true });
  const tmp = join(dirname(dest), `.${basename(dest)}.extract-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  const files: string[] = [];
  const source = createReadStream(archivePath);
  const bz = unbzip2();
  const extract = tar.extract();
  const fail = (e: unknown): void => void extract.destroy(e instanceof Error ? e : new Error(String(e)));
  source.on('error', fail);
  bz.on('error', (e: Error) => fail(new ModelError(`${archivePath} is not a valid bzip2 archive: ${e.message}`, { path: archivePath, cause: e })));
  const onAbort = (): void => fail(toAbortError(abortSignal));
  abortSignal?.addEventListener('abort', onAbort, { once: true });
  source.pipe(bz).pipe(extract);
  let total = 0;
  let entries = 0;
  try {
    for await (const entry of extract) {
      const h = entry.header;
      if (++entries > maxEntries) throw new ModelError(`${archivePath} has more than ${maxEntries} entries; refused`, { path: archivePath });
      const rel = safeName(h.name, archivePath);
      const type = h.type ?? 'file';
      if (type === 'symlink' || type === 'link') {
        throw new ModelError(`${archivePath} contains a ${type === 'link' ? 'hard link' : 'symbolic link'} ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}; refused`, {
          path: archivePath,
        });
      }
      if (type !== 'file' && type !== 'contiguous-file' && type !== 'directory') {
        throw new ModelError(`${archivePath} contains a ${type} entry ${JSON.stringify(h.name)}; only files and folders are allowed`, { path: archivePath });
      }
      const target = resolve(tmp, rel);
      if (target !== tmp && !target.startsWith(tmp + sep)) {
        throw new ModelError(`${archivePath} contains a path that leaves the folder (${JSON.stringify(h.name)}); refused`, { path: archivePath });
      }
      if (type === 'directory') {
        await mkdir(target, { recursive: true });
        entry.resume();
        continue;
      }
      if (rel === '') throw new ModelError(`${archivePath} has a file entry with an empty name`, { path: archivePath });
      total += h.size ?? 0;
      if (total > maxBytes) throw new ModelError(`${archivePath} expands to more than ${maxBytes} bytes; refused`, { path: archivePath });
      await mkdir(dirname(target), { recursive: true });
      await pipeline(entry, createWriteStream(target, { mode: 0o644 }));
      files.push(rel.split(sep).join('/'));
    }
    throwIfAborted(abortSignal);
    await rename(tmp, dest);
    return files;
  } catch (e) {
    source.destroy();
    await rm(tmp, { recursive: true, force: true });
    if (abortSignal?.aborted) throw toAbortError(abortSignal, e);
    if (ModelError.isInstance(e)) throw e;
    throw new ModelError(`${archivePath} could not be extracted: ${(e as Error).message}`, { path: archivePath, cause: e });
  } finally {
    abortSignal?.removeEventListener('abort', onAbort);
  }
}
