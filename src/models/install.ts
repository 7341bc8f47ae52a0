/**
 * Installing catalog models into the cache.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InvalidArgumentError, ModelError, throwIfAborted } from '../errors/index.js';
import { extractTarBz2 } from './archive.js';
import { findCatalogEntry, MODEL_CATALOG, type CatalogEntry } from './catalog.js';
import { detectLayout } from './detect.js';
import { definedOnly } from '../internal/options.js';
import { DEFAULT_MAX_DOWNLOAD_BYTES, downloadFile, type DownloadProgress } from './download.js';
import { checkManifest, MANIFEST_FILE, type ModelManifest } from './manifest.js';
import { defaultCacheDir, installedModelsDir, loadModelDir, type ResolvedModel } from './resolve.js';
import { sha256File, validateModel } from './validate.js';

/** Options of {@link installModel}. */
export interface InstallOptions {
  /** Cache folder. @defaultValue {@link defaultCacheDir}() */
  readonly cacheDir?: string | undefined;
  /** Download progress. */
  readonly onProgress?: (p: DownloadProgress) => void;
  /** Cancels the install (a partial download is kept for a resume). */
  readonly abortSignal?: AbortSignal | undefined;
  /** Reinstall even when the model is already installed. @defaultValue false */
  readonly force?: boolean | undefined;
  /** The fetch to use. @defaultValue globalThis.fetch */
  readonly fetch?: typeof fetch | undefined;
  /** Install this entry instead of looking `idOrUrl` up in the catalog (mirrors, private models, tests). */
  readonly entry?: CatalogEntry | undefined;
  /** Catalog to look ids up in. @defaultValue {@link MODEL_CATALOG} */
  readonly catalog?: readonly CatalogEntry[] | undefined;
  /** Download retries. @defaultValue 2 */
  readonly retries?: number | undefined;
  /**
   * Most bytes the download may have.
   * @defaultValue the catalog entry's size × 1.25 + 1 MiB; {@link DEFAULT_MAX_DOWNLOAD_BYTES} when the size is unknown
   */
  readonly maxBytes?: number | undefined;
  /** A download that delivers no byte for this long is retried, then fails. @defaultValue 30000 */
  readonly stallTimeoutMs?: number | undefined;
}

/** What a model id may be: a name (letters, digits, `.`, `_`, `-`; not `.` or `..`), never a path. */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Names Windows reserves for devices (with any extension), which no folder may have there. */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * Checks that `id` is a model name, not a path: ids become folder names under the cache, so
 * `../x`, `a/b`, `a\b`, absolute paths, `.`/`..`, NUL bytes, names over 128 characters, names
 * ending in `.` (Windows drops it) and Windows device names (`CON`, `nul.txt`, `COM1`…) are refused.
 *
 * @param id - the id (or file name) to check.
 * @param what - what it is, for the message. @defaultValue 'model id'
 * @returns `id`, when it is a valid name.
 * @throws InvalidArgumentError naming what is wrong.
 */
export function checkModelId(id: unknown, what = 'model id'): string {
  if (typeof id !== 'string' || !MODEL_ID.test(id)) {
    throw new InvalidArgumentError(
      `${what} ${JSON.stringify(id)} is not a valid name: use letters, digits, ".", "_" and "-" (at most 128, starting with a letter or digit); ids are names, not paths`,
    );
  }
  if (id.endsWith('.') || WINDOWS_DEVICE.test(id)) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(id)} is not a valid name: it ends in "." or is a Windows device name (CON, NUL, COM1…)`);
  }
  return id;
}

/** Provenance recorded in an installed model's `model.json`. */
export interface InstallRecord {
  /** Where it was downloaded from. */
  readonly url: string;
  /** sha256 of the download. */
  readonly sha256: string;
  /** Whether that digest was checked against a published one (false: recorded on first use). */
  readonly verified: boolean;
  /** When (ISO 8601). */
  readonly installedAt: string;
}

function entryForUrl(url: string): CatalogEntry {
  const file = basename(new URL(url).pathname);
  const id = file.replace(/\.tar\.bz2$/, '').replace(/\.onnx$/, '').replace(/^sherpa-onnx-/, '');
  if (!MODEL_ID.test(id)) throw new InvalidArgumentError(`Can't derive a model id from ${url}`);
  return { id, family: '', kind: 'offline', url, sizeBytes: 0, sha256: undefined, languages: [], description: `Installed from ${url}` };
}

/**
 * A `--force` reinstall moves the old install aside (`.<id>.previous-<tag>`) and the new one into
 * place with two renames; a process killed between them leaves no `<id>`. Put the old one back.
 */
async function restoreInterrupted(root: string, id: string, finalDir: string): Promise<void> {
  if (await stat(finalDir).then(() => true, () => false)) return;
  const aside = (await readdir(root).catch(() => [] as string[])).filter((n) => n.startsWith(`.${id}.previous-`));
  for (const name of aside) {
    try {
      await rename(join(root, name), finalDir);
      return;
    } catch {
      // Taken back by another process, or the folder is in place now: nothing to restore.
    }
  }
}

/**
 * Installs a catalog model (or an archive URL) into `<cacheDir>/models/<id>`: downloads the
 * archive (resumable, sha256-verified when the catalog has a digest), extracts it safely, writes
 * a `model.json` (recording the sha256 of every file, and of the download: trust on first use
 * when no digest was published), validates it, and returns it. An installed model is returned
 * as-is unless `force` is set.
 *
 * @param idOrUrl - catalog id, or an http(s) URL of a `.tar.bz2` release archive.
 * @param options - cache folder, progress, force, fetch, an explicit entry.
 */
export async function installModel(idOrUrl: string, options: InstallOptions = {}): Promise<ResolvedModel & { readonly install?: InstallRecord }> {
  const { cacheDir = defaultCacheDir(), onProgress, abortSignal, force = false, fetch: fetchImpl, catalog = MODEL_CATALOG, retries, maxBytes, stallTimeoutMs } =
    definedOnly(options);
  if (typeof idOrUrl !== 'string' || idOrUrl === '') throw new InvalidArgumentError('`idOrUrl` must be a catalog id or a URL');
  const isUrl = /^https?:\/\//.test(idOrUrl);
  if (!isUrl) checkModelId(idOrUrl);
  throwIfAborted(abortSignal);
  const entry = options.entry ?? findCatalogEntry(idOrUrl, catalog) ?? (isUrl ? entryForUrl(idOrUrl) : undefined);
  if (!entry) {
    throw new ModelError(`"${idOrUrl}" is not in the model catalog; known ids: ${catalog.map((e) => e.id).join(', ')}`, { path: idOrUrl });
  }
  // Every path below is built from these two names: neither may climb out of the cache.
  checkModelId(entry.id);
  let urlFile: string;
  try {
    urlFile = checkModelId(decodeURIComponent(basename(new URL(entry.url).pathname)), 'download file name');
  } catch (e) {
    throw new InvalidArgumentError(`The download URL ${JSON.stringify(entry.url)} does not end in a file name`, { cause: e });
  }
  const root = installedModelsDir(cacheDir);
  const finalDir = join(root, entry.id);
  await restoreInterrupted(root, entry.id, finalDir);
  const installed = await stat(finalDir).then(() => true, () => false);
  if (installed && !force) return loadModelDir(finalDir, 'catalog');
  await mkdir(root, { recursive: true });
  const download = join(cacheDir, 'downloads', urlFile);
  const cap = maxBytes ?? (entry.sizeBytes > 0 ? Math.ceil(entry.sizeBytes * 1.25) + 1024 ** 2 : DEFAULT_MAX_DOWNLOAD_BYTES);
  const got = await downloadFile(entry.url, download, {
    ...(entry.sha256 !== undefined ? { sha256: entry.sha256 } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(abortSignal ? { abortSignal } : {}),
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
    ...(retries !== undefined ? { retries } : {}),
    ...(stallTimeoutMs !== undefined ? { stallTimeoutMs } : {}),
    maxBytes: cap,
  });

  const tag = randomBytes(4).toString('hex');
  const staging = join(root, `.${entry.id}.staging-${tag}`);
  const previous = join(root, `.${entry.id}.previous-${tag}`);
  let placed = false;
  try {
    let modelRoot = staging;
    if (urlFile.endsWith('.tar.bz2') || urlFile.endsWith('.tbz2')) {
      await extractTarBz2(got.path, staging, abortSignal ? { abortSignal } : {});
      const top = await readdir(staging, { withFileTypes: true });
      if (top.length === 1 && top[0]?.isDirectory()) modelRoot = join(staging, top[0].name);
    } else {
      await mkdir(staging);
      await copyFile(got.path, join(staging, entry.files?.model ?? urlFile));
    }
    throwIfAborted(abortSignal);

    let manifest: ModelManifest | undefined;
    const hasManifest = await stat(join(modelRoot, MANIFEST_FILE)).then(() => true, () => false);
    if (!hasManifest) {
      if (entry.files && entry.family) {
        manifest = checkManifest(
          {
            name: entry.id,
            kind: entry.kind,
            family: entry.family,
            files: entry.files,
            sampleRate: entry.sampleRate ?? 16000,
            ...(entry.languages.length > 0 ? { languages: entry.languages } : {}),
          },
          join(finalDir, MANIFEST_FILE),
        );
      } else {
        const detected = await detectLayout(modelRoot);
        if (!detected) throw new ModelError(`The archive from ${entry.url} holds no recognisable model layout`, { path: entry.url });
        manifest = { ...detected, name: entry.id };
      }
      const sha: Record<string, string> = {};
      for (const rel of Object.values(manifest.files)) sha[rel] = await sha256File(join(modelRoot, rel), abortSignal);
      const install: InstallRecord = { url: entry.url, sha256: got.sha256, verified: entry.sha256 !== undefined, installedAt: new Date().toISOString() };
      await writeFile(join(modelRoot, MANIFEST_FILE), `${JSON.stringify({ ...manifest, sha256: sha, install }, null, 2)}\n`);
    }
    // Checked where it stands, before it replaces anything: a refused manifest or model leaves
    // no models/<id> behind, and --force keeps the old install until the new one is proven good.
    const candidate = await loadModelDir(modelRoot, 'catalog');
    await validateModel(candidate, abortSignal ? { abortSignal } : {});
    if (installed) await rename(finalDir, previous);
    await rename(modelRoot, finalDir);
    placed = true;
    return { ...(await loadModelDir(finalDir, 'catalog')), install: { url: entry.url, sha256: got.sha256, verified: entry.sha256 !== undefined, installedAt: new Date().toISOString() } };
  } finally {
    // Whatever happened, the download and the staging area go; the old install goes only once
    // the new one is in place (else it is put back).
    await rm(got.path, { force: true });
    await rm(staging, { recursive: true, force: true });
    if (installed) {
      if (placed) await rm(previous, { recursive: true, force: true });
      else if (await stat(previous).then(() => true, () => false)) await rename(previous, finalDir);
    }
  }
}
