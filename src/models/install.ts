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
import { downloadFile, type DownloadProgress } from './download.js';
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
  if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new InvalidArgumentError(`Can't derive a model id from ${url}`);
  return { id, family: '', kind: 'offline', url, sizeBytes: 0, sha256: undefined, languages: [], description: `Installed from ${url}` };
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
  const { cacheDir = defaultCacheDir(), onProgress, abortSignal, force = false, fetch: fetchImpl, catalog = MODEL_CATALOG, retries } = { ...options };
  if (typeof idOrUrl !== 'string' || idOrUrl === '') throw new InvalidArgumentError('`idOrUrl` must be a catalog id or a URL');
  throwIfAborted(abortSignal);
  const entry = options.entry ?? findCatalogEntry(idOrUrl, catalog) ?? (/^https?:\/\//.test(idOrUrl) ? entryForUrl(idOrUrl) : undefined);
  if (!entry) {
    throw new ModelError(`"${idOrUrl}" is not in the model catalog; known ids: ${catalog.map((e) => e.id).join(', ')}`, { path: idOrUrl });
  }
  const root = installedModelsDir(cacheDir);
  const finalDir = join(root, entry.id);
  if (await stat(finalDir).then(() => true, () => false)) {
    if (!force) return loadModelDir(finalDir, 'catalog');
    await rm(finalDir, { recursive: true, force: true });
  }
  await mkdir(root, { recursive: true });
  const urlFile = basename(new URL(entry.url).pathname);
  const download = join(cacheDir, 'downloads', urlFile);
  const got = await downloadFile(entry.url, download, {
    ...(entry.sha256 !== undefined ? { sha256: entry.sha256 } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(abortSignal ? { abortSignal } : {}),
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
    ...(retries !== undefined ? { retries } : {}),
  });

  const staging = join(root, `.${entry.id}.staging-${randomBytes(4).toString('hex')}`);
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
    await rename(modelRoot, finalDir);
    const model = await loadModelDir(finalDir, 'catalog');
    try {
      await validateModel(model, abortSignal ? { abortSignal } : {});
    } catch (e) {
      await rm(finalDir, { recursive: true, force: true });
      throw e;
    }
    await rm(got.path, { force: true });
    return { ...model, install: { url: entry.url, sha256: got.sha256, verified: entry.sha256 !== undefined, installedAt: new Date().toISOString() } };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
