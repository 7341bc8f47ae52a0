/**
 * What "prove, then load" costs: for each model in HYBRID_ASR_MODELS (../shared/models), the
 * first load of given bytes (a child process loads the model and decodes a second of low noise;
 * the files are hashed for the verdict's digest) against a direct load in this process, and the
 * later loads that read the verdict from the cache file (a new process) or from memory.
 *
 *   npx tsx bench/model-proof.ts [--runs 5] [--json]
 *
 * Medians over `--runs`; the load average is printed beside the figures (the machine may be shared).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSherpa } from '../src/internal/sherpa.js';
import { findModels, proveModel, sha256File, sherpaConfigFor, type ResolvedModel } from '../src/models/index.js';
import { forgetProofsInMemory } from '../src/models/proof.js';
import { arg, done, line, median } from './lib.js';

const runs = Math.max(1, Number(arg('--runs', '5')));
const modelsDir = process.env.HYBRID_ASR_MODELS ?? join(import.meta.dirname, '..', '..', 'shared', 'models');
const models = await findModels({ modelsDir, cacheDir: join(tmpdir(), 'hybrid-asr-bench-none') });
const sherpa = loadSherpa();

function directLoad(m: ResolvedModel): number {
  const { className, config } = sherpaConfigFor(m);
  const t0 = performance.now();
  const obj = className === 'Vad' ? new sherpa.Vad(config, 30) : new sherpa[className](config);
  const ms = performance.now() - t0;
  if (!obj) throw new Error('no object');
  return ms;
}

const la = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const results: Record<string, unknown>[] = [];
line('model', 'child proof | hash | cached (new process) | memory | direct load   [ms, median]   load avg');
for (const m of models) {
  const child: number[] = [];
  const hash: number[] = [];
  const cached: number[] = [];
  const mem: number[] = [];
  const direct: number[] = [];
  const loadBefore = loadavg()[0]!;
  for (let i = 0; i < runs; i++) {
    const cacheDir = mkdtempSync(join(tmpdir(), 'hybrid-asr-proof-bench-'));
    try {
      forgetProofsInMemory();
      let t = performance.now();
      const first = await proveModel(m, { cacheDir });
      child.push(performance.now() - t);
      if (first.source !== 'child') throw new Error(`expected a child proof, got ${first.source}`);
      t = performance.now();
      for (const p of new Set(Object.values(m.paths))) await sha256File(p);
      hash.push(performance.now() - t);
      forgetProofsInMemory(); // as a new process would start
      t = performance.now();
      const second = await proveModel(m, { cacheDir });
      cached.push(performance.now() - t);
      if (second.source !== 'cache') throw new Error(`expected a cached verdict, got ${second.source}`);
      t = performance.now();
      const third = await proveModel(m, { cacheDir });
      mem.push(performance.now() - t);
      if (third.source !== 'memory') throw new Error(`expected a verdict in memory, got ${third.source}`);
      direct.push(directLoad(m));
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }
  const r = {
    model: m.manifest.name,
    kind: m.manifest.kind,
    family: m.manifest.family,
    runs,
    childProofMs: median(child),
    hashMs: median(hash),
    cachedProofMs: median(cached),
    memoryProofMs: median(mem),
    directLoadMs: median(direct),
    firstLoadOverheadMs: median(child),
    loadAverage1m: [loadBefore, loadavg()[0]!],
  };
  results.push(r);
  line(
    m.manifest.name,
    `${r.childProofMs.toFixed(0).padStart(6)} | ${r.hashMs.toFixed(1).padStart(5)} | ${r.cachedProofMs.toFixed(2).padStart(6)} | ${r.memoryProofMs.toFixed(3).padStart(6)} | ${r.directLoadMs.toFixed(0).padStart(5)}   [${la()}]`,
  );
}
done({ bench: 'model-proof', node: process.version, platform: `${process.platform}-${process.arch}`, loadAverage: loadavg(), results });
