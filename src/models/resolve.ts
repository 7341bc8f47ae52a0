/**
 * Turning `--model <spec>` into a model folder: a path, a name under HYBRID_ASR_MODELS, or an
 * installed catalog id.
 * @module
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { InvalidArgumentError, ModelError, throwIfAborted } from '../errors/index.js';
import { findCatalogEntry, MODEL_CATALOG, type CatalogEntry } from './catalog.js';
import { detectLayout } from './detect.js';
import { MANIFEST_FILE, MODEL_KINDS, parseManifest, type ModelKind, type ModelManifest } from './manifest.js';

/** A model folder with its manifest and the absolute path of each file. */
export interface ResolvedModel {
  /** Absolute path of the model folder. */
  readonly dir: string;
  /** The manifest (read from model.json, or worked out from the layout). */
  readonly manifest: ModelManifest;
  /** Absolute path per role. */
  readonly paths: Readonly<Record<string, string>>;
  /** Where the manifest came from: `'manifest'` (model.json), `'detected'` (layout), `'catalog'` (installed from the catalog). */
  readonly source: string;
}

/** Options of {@link resolveModel} and {@link findModels}. */
export interface ResolveOptions {
  /** Folder of model folders. @defaultValue process.env.HYBRID_ASR_MODELS */
  readonly modelsDir?: string | undefined;
  /** Cache folder where catalog models are installed. @defaultValue {@link defaultCacheDir}() */
  readonly cacheDir?: string | undefined;
  /** Expected kind(s); a model of another kind is a {@link ModelError}. */
  readonly kind?: ModelKind | readonly ModelKind[] | undefined;
  /** Cancels the lookup. */
  readonly abortSignal?: AbortSignal | undefined;
  /** Catalog to look ids up in. @defaultValue {@link MODEL_CATALOG} */
  readonly catalog?: readonly CatalogEntry[] | undefined;
}

/**
 * The cache folder: `HYBRID_ASR_CACHE`, else the OS cache folder (`$XDG_CACHE_HOME/hybrid-asr` or
 * `~/.cache/hybrid-asr` on Linux, `~/Library/Caches/hybrid-asr` on macOS,
 * `%LOCALAPPDATA%\hybrid-asr\Cache` on Windows).
 */
export function defaultCacheDir(): string {
  const env = process.env.HYBRID_ASR_CACHE;
  if (env) return resolvePath(env);
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'hybrid-asr');
  if (process.platform === 'win32') {
    return join(process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'hybrid-asr', 'Cache');
  }
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'hybrid-asr');
}

/** Folder under the cache where catalog models are installed. @internal */
export function installedModelsDir(cacheDir: string): string {
  return join(cacheDir, 'models');
}

function kindsOf(kind: ResolveOptions['kind']): readonly ModelKind[] | undefined {
  if (kind === undefined) return undefined;
  const list: readonly ModelKind[] = typeof kind === 'string' ? [kind] : kind;
  for (const k of list) {
    if (!(MODEL_KINDS as readonly string[]).includes(k)) {
      throw new InvalidArgumentError(`\`kind\` must be one of ${MODEL_KINDS.join(', ')}, got ${JSON.stringify(k)}`);
    }
  }
  return list;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Reads a model folder: its `model.json` when there is one, else a recognised release layout.
 *
 * @param dir - the folder.
 * @param source - recorded as {@link ResolvedModel.source} when the folder has a manifest.
 */
export async function loadModelDir(dir: string, source = 'manifest'): Promise<ResolvedModel> {
  const abs = resolvePath(dir);
  if (!(await isDir(abs))) throw new ModelError(`Model folder ${abs} does not exist or is not a folder`, { path: abs });
  const manifestPath = join(abs, MANIFEST_FILE);
  let text: string | undefined;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ModelError(`${manifestPath} can't be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { path: manifestPath, cause: e });
    }
  }
  let manifest: ModelManifest;
  let src = source;
  if (text !== undefined) {
    manifest = parseManifest(text, manifestPath);
  } else {
    const detected = await detectLayout(abs);
    if (!detected) {
      throw new ModelError(
        `${abs} has no ${MANIFEST_FILE} and its files don't match a known sherpa-onnx release layout (transducer, whisper, moonshine, single-model CTC); add a ${MANIFEST_FILE}`,
        { path: abs },
      );
    }
    manifest = detected;
    src = 'detected';
  }
  const paths = Object.fromEntries(Object.entries(manifest.files).map(([role, rel]) => [role, join(abs, rel)]));
  return { dir: abs, manifest, paths, source: src };
}

function checkKind(model: ResolvedModel, kinds: readonly ModelKind[] | undefined): ResolvedModel {
  if (kinds && !kinds.includes(model.manifest.kind)) {
    throw new ModelError(
      `Model "${model.manifest.name}" (${model.dir}) is a ${model.manifest.kind} model (${model.manifest.family}), but ${kinds.join(' or ')} is needed here`,
      { path: model.dir },
    );
  }
  return model;
}

function looksLikePath(spec: string): boolean {
  return isAbsolute(spec) || spec.startsWith('.') || spec.startsWith('~') || spec.includes('/') || spec.includes('\\');
}

/** Subfolders of `dir` (none when it doesn't exist). */
async function subdirs(dir: string | undefined): Promise<string[]> {
  if (!dir) return [];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    const out: string[] = [];
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory() || (e.isSymbolicLink() && (await isDir(join(dir, e.name))))) out.push(join(dir, e.name));
    }
    return out.sort();
  } catch {
    return [];
  }
}

/** A folder that looked like a model folder but could not be read. */
export interface ModelProblem {
  /** The folder. */
  readonly dir: string;
  /** What is wrong. */
  readonly error: ModelError;
}

/**
 * Lists the model folders under `modelsDir` and the cache, with the ones that could not be read.
 * Only manifests and layouts are read here; use {@link validateModel} to check the files.
 *
 * @param options - where to look, and which kinds to keep.
 */
export async function scanModels(options: ResolveOptions = {}): Promise<{ models: ResolvedModel[]; problems: ModelProblem[] }> {
  const { modelsDir = process.env.HYBRID_ASR_MODELS, cacheDir = defaultCacheDir(), abortSignal } = options;
  const kinds = kindsOf(options.kind);
  throwIfAborted(abortSignal);
  const models: ResolvedModel[] = [];
  const problems: ModelProblem[] = [];
  const sources: [string | undefined, string][] = [
    [modelsDir, 'manifest'],
    [installedModelsDir(cacheDir), 'catalog'],
  ];
  for (const [root, source] of sources) {
    for (const dir of await subdirs(root)) {
      throwIfAborted(abortSignal);
      try {
        const m = await loadModelDir(dir, source);
        if (!kinds || kinds.includes(m.manifest.kind)) models.push(m);
      } catch (e) {
        if (!ModelError.isInstance(e)) throw e;
        problems.push({ dir, error: e });
      }
    }
  }
  return { models, problems };
}

/**
 * Every readable model folder under `modelsDir` and the cache (folders that can't be read are
 * left out; {@link scanModels} reports them).
 *
 * @param options - where to look, and which kinds to keep.
 */
export async function findModels(options: ResolveOptions = {}): Promise<ResolvedModel[]> {
  return (await scanModels(options)).models;
}

/**
 * Resolves `--model <spec>`: a folder path, the name of a folder (or of a manifest) under
 * `modelsDir`, or the id of a catalog model already installed in the cache. Never downloads:
 * a catalog model that isn't installed is a {@link ModelError} that says which command installs it.
 *
 * @param spec - folder path, model name, or catalog id.
 * @param options - where to look and which kinds are acceptable.
 */
export async function resolveModel(spec: string, options: ResolveOptions = {}): Promise<ResolvedModel> {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new InvalidArgumentError(`\`model\` must be a non-empty string (a folder, a model name or a catalog id), got ${JSON.stringify(spec)}`);
  }
  const { modelsDir = process.env.HYBRID_ASR_MODELS, cacheDir = defaultCacheDir(), abortSignal, catalog = MODEL_CATALOG } = options;
  const kinds = kindsOf(options.kind);
  throwIfAborted(abortSignal);

  const expanded = spec.startsWith('~/') ? join(homedir(), spec.slice(2)) : spec;
  if (looksLikePath(spec) || (await isDir(expanded))) {
    return checkKind(await loadModelDir(expanded), kinds);
  }
  if (modelsDir && (await isDir(join(modelsDir, spec)))) {
    return checkKind(await loadModelDir(join(modelsDir, spec)), kinds);
  }
  const installed = join(installedModelsDir(cacheDir), spec);
  if (await isDir(installed)) return checkKind(await loadModelDir(installed, 'catalog'), kinds);

  // A manifest whose "name" differs from its folder name.
  const { models } = await scanModels({ ...(modelsDir !== undefined ? { modelsDir } : {}), cacheDir, ...(abortSignal ? { abortSignal } : {}) });
  const byName = models.find((m) => m.manifest.name === spec);
  if (byName) return checkKind(byName, kinds);

  const entry = findCatalogEntry(spec, catalog);
  if (entry) {
    throw new ModelError(`Model "${spec}" is in the catalog but not downloaded yet: run \`hybrid-asr models download ${spec}\``, { path: installed });
  }
  const available = models.filter((m) => !kinds || kinds.includes(m.manifest.kind)).map((m) => m.manifest.name);
  const ids = catalog.filter((e) => !kinds || kinds.includes(e.kind)).map((e) => e.id);
  throw new ModelError(
    `No model "${spec}": not a folder, not a model in ${modelsDir ?? '(HYBRID_ASR_MODELS not set)'} or ${installedModelsDir(cacheDir)}, not a catalog id. ` +
      `Available: ${available.length > 0 ? available.join(', ') : '(none)'}; catalog: ${ids.join(', ')}`,
    { path: spec },
  );
}
