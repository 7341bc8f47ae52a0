/**
 * "Prove, then load": no model bytes reach sherpa-onnx in the host process before they have been
 * loaded, and run on a second of audio-shaped input, in a child process that may die safely
 * (sherpa-onnx-node aborts the whole process on a corrupt graph, and on some published models'
 * first decode). The verdict is cached by a digest of the files' contents and of the sherpa
 * config that matters, so only the first load of given bytes pays for the child; a failed verdict
 * is cached too, so a bad model fails fast.
 *
 * The cache is one small JSON file, `model-proofs.json` in the cache folder, replaced atomically
 * (write + rename); concurrent writers merge what they read just before writing, and a lost entry
 * only means a model is proven again. File digests are cached there by (path, size, mtime, ctime,
 * inode, device), so a later process doesn't hash unchanged files again; an entry is trusted only
 * when the file's timestamps were already older than its hashing (a file changed within the
 * timestamp granularity is hashed again).
 * @module
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { InvalidArgumentError, ModelError, throwIfAborted } from '../errors/index.js';
import { type ChildVerdict, runProofChild, runProofChildSync, sherpaConfigFor, type SherpaModelConfig } from './probe.js';
import { type CacheFile, type FileEntry, MODEL_PROOF_CACHE_FILE, PROOF_FORMAT, readCache, type VerdictEntry, writeCache } from './proof-cache.js';
import { defaultCacheDir, type ResolvedModel } from './resolve.js';

;
import { sha256File } from './validate.js';

/** A file digest is trusted only when the file was last changed this long before it was hashed. */
const RACY_MS = 2000;

/** How a proof was settled. */
export type ModelProofSource = 'memory' | 'cache' | 'child';

/** What {@link ModelProofOptions.onProof} reports, once per proof. */
export interface ModelProofEvent {
  /** The model's name (or file, for a model given by path). */
  readonly model: string;
  /** Content digest of the files and the config (hex sha256). */
  readonly digest: string;
  /**
   * `'child'`: a child process loaded and ran the model now; `'cache'`: the verdict file had it;
   * `'memory'`: this process had proven these files already.
   */
  readonly source: ModelProofSource;
  /** Whether the model is proven good. */
  readonly ok: boolean;
  /** Time the proof took, ms (hashing, reading the cache, the child). */
  readonly durationMs: number;
}

/** Options of {@link proveModel}. */
export interface ModelProofOptions {
  /**
   * Folder of the verdict cache (`model-proofs.json`).
   * @defaultValue {@link defaultCacheDir}() (HYBRID_ASR_CACHE, else the OS cache folder)
   */
  readonly cacheDir?: string | undefined;
  /**
   * Read and record cached verdicts. `false` proves the model in a child process on every call
   * (nothing is read or written).
   * @defaultValue true
   */
  readonly cache?: boolean | undefined;
  /** Time allowed for the child's load and decode, ms; a timeout is a {@link ModelError} that is not cached. @defaultValue 120000 */
  readonly timeoutMs?: number | undefined;
  /** Cancels the proof (and kills the child). */
  readonly abortSignal?: AbortSignal | undefined;
  /**
   * The exact sherpa-onnx config to prove.
   * @defaultValue `sherpaConfigFor(model, { provider })`
   * @internal
   */
  readonly sherpaConfig?: SherpaModelConfig | undefined;
  /** Execution provider, when `sherpaConfig` is not given. @defaultValue 'cpu' */
  readonly provider?: string | undefined;
  /** Called once per proof with where the verdict came from (a child started, or not). */
  readonly onProof?: (event: ModelProofEvent) => void;
  /**
   * Expected sha256 (hex) by absolute file path, checked against the digests the proof computes
   * anyway (at no extra cost). {@link proveModel} takes them from the manifest's `sha256`.
   */
  readonly expectedSha256?: Readonly<Record<string, string>> | undefined;
}

/** The result of a successful proof. */
export interface ModelProof {
  /** Content digest of the files and the config (hex sha256). */
  readonly digest: string;
  /** Where the verdict came from. */
  readonly source: ModelProofSource;
}

/** Config keys that tune behaviour but never change whether the model loads and runs. */
const IRRELEVANT = new Set([
  'numThreads',
  'debug',
  'threshold',
  'minSilenceDuration',
  'minSpeechDuration',
  'maxSpeechDuration',
  'enableEndpoint',
  'rule1MinTrailingSilence',
  'rule2MinTrailingSilence',
  'rule3MinUtteranceLength',
]);

let addonVersion: string | undefined;
function sherpaVersion(): string {
  if (addonVersion === undefined) {
    try {
      addonVersion = String((createRequire(import.meta.url)('sherpa-onnx-node/package.json') as { version?: unknown }).version);
    } catch {
      addonVersion = 'unknown';
    }
  }
  return addonVersion;
}

/** Absolute paths named in the config (the model files sherpa will open), in a stable order. */
function configPaths(config: unknown, out = new Set<string>()): Set<string> {
  if (typeof config === 'string') {
    if (isAbsolute(config)) out.add(config);
  } else if (Array.isArray(config)) for (const v of config) configPaths(v, out);
  else if (typeof config === 'object' && config !== null) for (const [k, v] of Object.entries(config)) if (!IRRELEVANT.has(k)) configPaths(v, out);
  return out;
}

/** The config with irrelevant keys dropped, keys sorted, and each file path replaced by `map(path)`. */
function normalise(config: unknown, map: (p: string) => string): unknown {
  if (typeof config === 'string') return isAbsolute(config) ? map(config) : config;
  if (Array.isArray(config)) return config.map((v) => normalise(v, map));
  if (typeof config === 'object' && config !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(config).sort()) if (!IRRELEVANT.has(k)) out[k] = normalise((config as Record<string, unknown>)[k], map);
    return out;
  }
  return config;
}

function statSignature(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

function racy(st: Stats, at: number): boolean {
  return at - Math.max(st.mtimeMs, st.ctimeMs) < RACY_MS;
}

/** Verdicts this process has settled, by the config's normalised form with stat signatures (only non-racy files). */
const memory = new Map<string, { digest: string; verdict: VerdictEntry }>();
/** Proofs in flight in this process, by the same key: concurrent loads share one child. */
const inflight = new Map<string, Promise<ModelProof>>();

function sha256FileSync(path: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Everything a proof needs before hashing: the files (real paths, stats) and the in-process key. */
interface Plan {
  label: string;
  dir: string;
  spec: SherpaModelConfig;
  useCache: boolean;
  cacheDir: string;
  files: { path: string; real: string; st: Stats }[];
  key: string;
  cacheable: boolean;
  started: number;
}

function plan(spec: SherpaModelConfig, label: string, dir: string, options: ModelProofOptions): Plan {
  const started = performance.now();
  const useCache = options.cache ?? true;
  if (typeof useCache !== 'boolean') throw new InvalidArgumentError(`\`cache\` must be a boolean, got ${JSON.stringify(useCache)}`);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  if (typeof cacheDir !== 'string' || cacheDir === '') throw new InvalidArgumentError(`\`cacheDir\` must be a non-empty string, got ${JSON.stringify(cacheDir)}`);
  const files = [...configPaths(spec.config)].map((path) => {
    let st: Stats;
    let real: string;
    try {
      real = realpathSync(path);
      st = statSync(real);
    } catch (e) {
      throw new ModelError(`${label}: the model file ${path} is missing (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`, { path, cause: e });
    }
    if (!st.isFile()) throw new ModelError(`${label}: ${path} is not a regular file`, { path });
    return { path, real, st };
  });
  const now = Date.now();
  const cacheable = files.every((f) => !racy(f.st, now));
  const sig = new Map(files.map((f) => [f.path, `${f.real}@${statSignature(f.st)}`]));
  const key = JSON.stringify([spec.className, normalise(spec.config, (p) => sig.get(p) ?? p)]);
  return { label, dir, spec, useCache, cacheDir, files, key, cacheable, started };
}

/** File digests from the cache where it can be trusted; the rest are `undefined` (to hash). */
function knownDigests(p: Plan, cache: CacheFile | undefined): (string | undefined)[] {
  return p.files.map((f) => {
    const e = cache?.files[f.real];
    if (!e) return undefined;
    const same = e.size === f.st.size && e.mtimeMs === f.st.mtimeMs && e.ctimeMs === f.st.ctimeMs && e.ino === f.st.ino && e.dev === f.st.dev;
    return same && e.hashedAt - Math.max(f.st.mtimeMs, f.st.ctimeMs) >= RACY_MS ? e.sha256 : undefined;
  });
}

/** Checks the digests against the expected ones (a corrupted download whose bytes still load). */
function checkExpected(p: Plan, digests: string[], expected: Readonly<Record<string, string>> | undefined): void {
  if (!expected) return;
  const want = new Map(Object.entries(expected).map(([k, v]) => [resolvePath(k), v.toLowerCase()]));
  p.files.forEach((f, i) => {
    const w = want.get(resolvePath(f.path));
    if (w !== undefined && w !== digests[i]) {
      throw new ModelError(`${f.path} failed its checksum: sha256 is ${digests[i]}, the manifest expects ${w}; the file is damaged or not the published one, download it again`, { path: f.path });
    }
  });
}

/** The manifest's sha256 entries by absolute path. @internal */
export function expectedSha256Of(model: ResolvedModel): Record<string, string> | undefined {
  const sums = model.manifest.sha256;
  if (!sums) return undefined;
  return Object.fromEntries(Object.entries(sums).map(([rel, hex]) => [join(model.dir, rel), hex]));
}

function digestOf(p: Plan, digests: string[]): string {
  const byPath = new Map(p.files.map((f, i) => [f.path, `sha256:${digests[i]}`]));
  const material = {
    format: PROOF_FORMAT,
    sherpa: sherpaVersion(),
    platform: `${process.platform}-${process.arch}`,
    className: p.spec.className,
    config: normalise(p.spec.config, (q) => byPath.get(q) ?? q),
  };
  return createHash('sha256').update(JSON.stringify(material)).digest('hex');
}

function failure(p: Plan, reason: string, cachedAt?: number): ModelError {
  const when = cachedAt !== undefined ? ` (verdict cached ${new Date(cachedAt).toISOString()} in ${join(p.cacheDir, MODEL_PROOF_CACHE_FILE)})` : '';
  return new ModelError(`sherpa-onnx can't run model ${p.label} (${p.dir}): ${reason}${when}`, { path: p.dir });
}

function settle(p: Plan, digest: string, source: ModelProofSource, verdict: VerdictEntry, options: ModelProofOptions): ModelProof {
  if (p.cacheable) memory.set(p.key, { digest, verdict });
  options.onProof?.({ model: p.label, digest, source, ok: verdict.ok, durationMs: performance.now() - p.started });
  if (!verdict.ok) throw failure(p, verdict.reason ?? 'it failed before', source === 'child' ? undefined : verdict.at);
  return { digest, source };
}

function fromChild(p: Plan, digest: string, digests: string[], hashedAt: number, v: ChildVerdict, options: ModelProofOptions): ModelProof {
  const verdict: VerdictEntry = v.ok ? { ok: true, model: p.label, at: Date.now() } : { ok: false, reason: v.reason, model: p.label, at: Date.now() };
  if (!v.ok && !v.settled) {
    // A timeout or a failed spawn says nothing lasting about the bytes: not cached, not remembered.
    options.onProof?.({ model: p.label, digest, source: 'child', ok: false, durationMs: performance.now() - p.started });
    throw failure(p, v.reason);
  }
  if (p.useCache) {
    const files: Record<string, FileEntry> = {};
    p.files.forEach((f, i) => {
      files[f.real] = { size: f.st.size, mtimeMs: f.st.mtimeMs, ctimeMs: f.st.ctimeMs, ino: f.st.ino, dev: f.st.dev, sha256: digests[i]!, hashedAt };
    });
    writeCache(p.cacheDir, files, { [digest]: verdict });
  }
  return settle(p, digest, 'child', verdict, options);
}

function labelOf(model: ResolvedModel): string {
  return `"${model.manifest.name}" (${model.manifest.kind} ${model.manifest.family})`;
}

/**
 * Proves a sherpa-onnx config (see {@link proveModel}); `label` and `dir` name the model in
 * messages and events. @internal
 */
export async function proveSherpaConfig(spec: SherpaModelConfig, label: string, dir: string, options: ModelProofOptions = {}): Promise<ModelProof> {
  throwIfAborted(options.abortSignal);
  const p = plan(spec, label, dir, options);
  if (p.useCache) {
    const m = memory.get(p.key);
    if (m) return settle(p, m.digest, 'memory', m.verdict, options);
    const running = inflight.get(p.key);
    if (running) return running;
  }
  const run = (async (): Promise<ModelProof> => {
    const cache = p.useCache ? readCache(join(p.cacheDir, MODEL_PROOF_CACHE_FILE)) : undefined;
    const known = knownDigests(p, cache);
    const hashedAt = Date.now();
    const digests = await Promise.all(
      p.files.map(async (f, i) => {
        const k = known[i];
        if (k !== undefined) return k;
        try {
          return await sha256File(f.real, options.abortSignal);
        } catch (e) {
          if (ModelError.isInstance(e) || (e as { code?: string }).code === 'aborted') throw e;
          throw new ModelError(`${p.label}: can't read ${f.path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { path: f.path, cause: e });
        }
      }),
    );
    checkExpected(p, digests, options.expectedSha256);
    const digest = digestOf(p, digests);
    const cached = cache?.verdicts[digest];
    if (cached) return settle(p, digest, 'cache', cached, options);
    const v = await runProofChild(p.spec, { ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}), ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}) });
    return fromChild(p, digest, digests, hashedAt, v, options);
  })();
  if (!p.useCache) return run;
  inflight.set(p.key, run);
  try {
    return await run;
  } finally {
    inflight.delete(p.key);
  }
}

/**
 * {@link proveSherpaConfig}, blocking: for synchronous constructors. The child runs only on the
 * first load of given bytes (later ones read the cache). @internal
 */
export function proveSherpaConfigSync(spec: SherpaModelConfig, label: string, dir: string, options: Omit<ModelProofOptions, 'abortSignal'> = {}): ModelProof {
  const p = plan(spec, label, dir, options);
  if (p.useCache) {
    const m = memory.get(p.key);
    if (m) return settle(p, m.digest, 'memory', m.verdict, options);
  }
  const cache = p.useCache ? readCache(join(p.cacheDir, MODEL_PROOF_CACHE_FILE)) : undefined;
  const known = knownDigests(p, cache);
  const hashedAt = Date.now();
  const digests = p.files.map((f, i) => {
    const k = known[i];
    if (k !== undefined) return k;
    try {
      return sha256FileSync(f.real);
    } catch (e) {
      throw new ModelError(`${p.label}: can't read ${f.path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { path: f.path, cause: e });
    }
  });
  checkExpected(p, digests, options.expectedSha256);
  const digest = digestOf(p, digests);
  const cached = cache?.verdicts[digest];
  if (cached) return settle(p, digest, 'cache', cached, options);
  const v = runProofChildSync(p.spec, options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {});
  return fromChild(p, digest, digests, hashedAt, v, options);
}

/**
 * Proves a model before the calling process trusts it: the first load of given file bytes (and
 * sherpa config) happens in a child process, which also decodes a second of low noise so the
 * graph really runs; a native abort, `exit()`, null handle or crash there becomes a
 * {@link ModelError} here, and this process never loads the bytes. The verdict is cached by the
 * digest of the files' contents and the config that matters (family, files, provider, decoding
 * method, sample rate, the sherpa-onnx-node version and the platform), in
 * `model-proofs.json` under `cacheDir`: later loads of the same bytes, in this process or another,
 * start no child. A failure verdict is cached too (a timeout is not). The manifest's `sha256`
 * entries are checked against the digests on the way (a damaged download whose weights still
 * load is a {@link ModelError} too).
 *
 * Costs, measured with `bench/model-proof.ts`: a first proof is one Node start plus one model load
 * and decode (about 0.3–0.6 s for the models in the test set); a cached one is a few `stat` calls
 * and one small JSON read (milliseconds); in the same process, a memory lookup.
 *
 * @param model - a resolved (and preferably {@link validateModel | validated}) model.
 * @param options - cache folder, timeout, the exact config, `onProof`, `abortSignal`.
 * @returns the digest and where the verdict came from; throws {@link ModelError} when the model
 *   can't be loaded and run.
 */
export async function proveModel(model: ResolvedModel, options: ModelProofOptions = {}): Promise<ModelProof> {
  const spec = options.sherpaConfig ?? sherpaConfigFor(model, { provider: options.provider ?? 'cpu' });
  const expected = options.expectedSha256 ?? expectedSha256Of(model);
  return proveSherpaConfig(spec, labelOf(model), model.dir, { ...options, ...(expected ? { expectedSha256: expected } : {}) });
}

/** Forgets the verdicts this process holds in memory (the cache file is untouched). For tests and benchmarks. @internal */
export function forgetProofsInMemory(): void {
  memory.clear();
}
