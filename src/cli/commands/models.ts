import type { Command } from 'commander';
import { basename } from 'node:path';
import { InvalidArgumentError } from '../../errors/index.js';
import {
  defaultCacheDir,
  findCatalogEntry,
  installModel,
  MODEL_CATALOG,
  proveModel,
  resolveModel,
  scanModels,
  validateModel,
  type CatalogEntry,
  type DownloadProgress,
} from '../../models/index.js';
import { action, parsePositiveNumber } from '../io.js';
import { createProgress, formatMegabytes, parseProgressMode, type ProgressMode } from '../progress.js';


/**
 * The catalog entry to install, with `HYBRID_ASR_CATALOG_URL` (a mirror: the file name of the
 * published URL is appended to it) or `--url` (the exact archive URL) applied.
 */
function entryFor(id: string, url: string | undefined, sha256: string | undefined): CatalogEntry {
  const known = findCatalogEntry(id);
  const mirror = process.env.HYBRID_ASR_CATALOG_URL;
  if (!known && !url) {
    throw new InvalidArgumentError(`"${id}" is not in the catalog (known: ${MODEL_CATALOG.map((e) => e.id).join(', ')}); pass --url to install an archive`);
  }
  const base: CatalogEntry = known ?? {
    id,
    family: '',
    kind: 'offline',
    url: url as string,
    sizeBytes: 0,
    sha256: undefined,
    languages: [],
    description: `Installed from ${url}`,
  };
  let finalUrl = url ?? base.url;
  if (!url && mirror) finalUrl = `${mirror.replace(/\/+$/, '')}/${basename(new URL(base.url).pathname)}`;
  return { ...base, url: finalUrl, sha256: sha256 ?? (url ? undefined : base.sha256) };
}

/** `--max-size`: bytes, or a number with KB/MB/GB (powers of 1000) or KiB/MiB/GiB. */
function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KIB|MIB|GIB)?$/i.exec(value.trim());
  const unit = (m?.[2] ?? 'B').toUpperCase();
  const scale: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3 };
  const n = m ? Math.floor(Number(m[1]) * scale[unit]!) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`--max-size must be a size such as 500MB or 2GB, got "${value}"`);
  return n;
}

/**
 * Registers `hybrid-asr models list|download|verify`.
 *
 * - `list [--json]`: models under HYBRID_ASR_MODELS and the cache (with unreadable folders), and the catalog.
 * - `download <id> [--url <url>] [--sha256 <hex>] [--force] [--stall-timeout <sec>] [--max-size <size>] [--progress auto|bar|lines|none]`:
 *   installs a catalog model into the cache (HYBRID_ASR_CACHE). HYBRID_ASR_CATALOG_URL points
 *   downloads at a mirror (the published file name is appended to it). `<id>` is a name, never a
 *   path; `--stall-timeout` (default 30 s) and `--max-size` (default: the catalog size + 25 %,
 *   else 4 GiB) bound a download's time without data and its size.
 * - `verify <model> [--checksums] [--probe]`: static validation (exit 2 with the reason when bad),
 *   optionally sha256 checks, then the proof (load + decode in a child process, verdict cached;
 *   `--probe` proves again even when a verdict is cached).
 */
export function register(program: Command): void {
  const models = program.command('models').description('List, download and verify models');
  const cacheOpt = (c: Command): Command => c.option('--cache-dir <dir>', 'cache folder (default: HYBRID_ASR_CACHE or the OS cache folder)');

  cacheOpt(models.command('list'))
    .description('List local models (HYBRID_ASR_MODELS and the cache) and the catalog')
    .option('--json', 'print JSON')
    .action(
      action(async (signal, opts: { json?: boolean; cacheDir?: string }) => {
        const cacheDir = opts.cacheDir ?? defaultCacheDir();
        const { models: found, problems } = await scanModels({ cacheDir, abortSignal: signal });
        const installed = new Set(found.filter((m) => m.source === 'catalog').map((m) => basename(m.dir)));
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify(
              {
                models: found.map((m) => ({ name: m.manifest.name, kind: m.manifest.kind, family: m.manifest.family, dir: m.dir, source: m.source })),
                problems: problems.map((p) => ({ dir: p.dir, error: p.error.message })),
                catalog: MODEL_CATALOG.map((e) => ({ ...e, installed: installed.has(e.id) })),
              },
              null,
              2,
            )}\n`,
          );
          return;
        }
        process.stdout.write(`Local models (HYBRID_ASR_MODELS=${process.env.HYBRID_ASR_MODELS ?? '(unset)'}, cache ${cacheDir}):\n`);
        if (found.length === 0) process.stdout.write('  (none)\n');
        for (const m of found) {
          process.stdout.write(`  ${m.manifest.name.padEnd(32)} ${m.manifest.kind.padEnd(18)} ${m.manifest.family.padEnd(14)} ${m.dir}\n`);
        }
        for (const p of problems) process.stdout.write(`  ! ${p.dir}: ${p.error.message}\n`);
        process.stdout.write('\nCatalog (hybrid-asr models download <id>):\n');
        for (const e of MODEL_CATALOG) {
          const size = e.sha256 ? formatMegabytes(e.sizeBytes) : `~${formatMegabytes(e.sizeBytes)}`;
          process.stdout.write(`  ${e.id.padEnd(42)} ${e.kind.padEnd(18)} ${size.padStart(10)} ${installed.has(e.id) ? 'installed' : ''}\n`);
        }
      }),
    );

  cacheOpt(models.command('download <id>'))
    .description('Download and install a catalog model into the cache')
    .option('--url <url>', 'download from this URL instead of the catalog URL')
    .option('--sha256 <hex>', 'expected sha256 of the download')
    .option('--force', 'reinstall when already installed (the old install stays until the new one is verified)')
    .option('--stall-timeout <sec>', 'drop and retry a download that delivers nothing for this long', parsePositiveNumber('--stall-timeout'), 30)
    .option('--max-size <size>', 'largest download accepted, e.g. 500MB or 2GB (default: the catalog size + 25 % + 1 MiB, else 4 GiB)', parseSize)
    .option('--progress <mode>', 'progress on stderr: auto (a bar on a terminal, lines otherwise) | bar | lines | none', parseProgressMode, 'auto')
    .action(
      action(async (signal, id: string, opts: { url?: string; sha256?: string; force?: boolean; progress: ProgressMode; cacheDir?: string; stallTimeout: number; maxSize?: number }) => {
        const entry = entryFor(id, opts.url, opts.sha256);
        if (entry.sha256 === undefined) {
          process.stderr.write(
            `warning: no published sha256 for "${id}"; the digest computed now is recorded in its model.json (trust on first use)\n`,
          );
        }
        const reporter = await createProgress(opts.progress, { label: `downloading ${id}`, format: formatMegabytes, offTty: 'lines' });
        let model;
        try {
          model = await installModel(id, {
            entry,
            cacheDir: opts.cacheDir ?? defaultCacheDir(),
            onProgress: (p: DownloadProgress) => reporter.update(p.receivedBytes, p.totalBytes),
            abortSignal: signal,
            stallTimeoutMs: opts.stallTimeout * 1000,
            ...(opts.maxSize !== undefined ? { maxBytes: opts.maxSize } : {}),
            ...(opts.force ? { force: true } : {}),
          });
        } finally {
          reporter.stop();
        }
        process.stdout.write(`installed ${model.manifest.name} (${model.manifest.kind} ${model.manifest.family}) in ${model.dir}\n`);
        if (model.install) process.stdout.write(`sha256 ${model.install.sha256}${model.install.verified ? ' (verified)' : ' (recorded, not verified)'}\n`);
      }),
    );

  cacheOpt(models.command('verify <model>'))
    .description('Check a model folder, name or installed catalog id before use')
    .option('--checksums', 'verify the sha256 entries of model.json')
    .option('--probe', 'prove it in a child process now, even if a cached verdict exists (it is always proven: loaded and run on 1 s of audio in a child process, verdict cached)')
    .action(
      action(async (signal, spec: string, opts: { checksums?: boolean; probe?: boolean; cacheDir?: string }) => {
        const model = await resolveModel(spec, { cacheDir: opts.cacheDir ?? defaultCacheDir(), abortSignal: signal });
        const t0 = performance.now();
        await validateModel(model, { checksums: opts.checksums === true, abortSignal: signal });
        const ms = performance.now() - t0;
        const t1 = performance.now();
        const proof = await proveModel(model, { cacheDir: opts.cacheDir ?? defaultCacheDir(), cache: opts.probe !== true, abortSignal: signal });
        const how = proof.source === 'child' ? `proven now in a child process, ${(performance.now() - t1).toFixed(0)} ms` : 'proven before: cached verdict';
        process.stdout.write(
          `ok ${model.manifest.name} (${model.manifest.kind} ${model.manifest.family}, ${model.source}) ${model.dir}: files, ONNX headers, metadata, tokens${opts.checksums ? ', sha256' : ''} checked (${ms.toFixed(0)} ms); sherpa-onnx load and decode ${how}\n`,
        );
      }),
    );
}
