/**
 * Cold start: a fresh process that transcribes one short clip, through the built CLI
 * (`node dist/cli/index.js transcribe clip.wav`) against a plain sherpa-onnx-node script doing the
 * same work (the baseline of issue #14: ≤ 1.5×), and the cost of `import 'hybrid-asr'` (ESM and
 * CJS) against an empty Node process. Runs alternate, so load drifts hit both; medians, with the
 * load average beside each figure. Needs `npm run build` first.
 *
 *   npx tsx bench/cold-start.ts [--runs 15] [--clip path.wav] [--json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { arg, done, line, median, wantJson } from './lib.js';

const root = resolve(import.meta.dirname, '..');
const models = process.env.HYBRID_ASR_MODELS ?? resolve(root, '..', 'shared', 'models');
const audio = process.env.HYBRID_ASR_TEST_AUDIO ?? resolve(root, '..', 'shared', 'audio');
const runs = Number(arg('--runs', '15'));
const clip = resolve(arg('--clip', join(audio, 'espeak', 'espeak-001.wav')));
const model = join(models, 'tiny-ctc-en-offline');

// The baseline: what a user would write with sherpa-onnx-node alone (its README's example).
const dir = mkdtempSync(join(tmpdir(), 'cold-start-'));
const plain = join(dir, 'plain.cjs');
writeFileSync(
  plain,
  `const sherpa = require(${JSON.stringify(createRequire(join(root, 'package.json')).resolve('sherpa-onnx-node'))});
const recognizer = new sherpa.OfflineRecognizer({
  featConfig: { sampleRate: 16000, featureDim: 80 },
  modelConfig: { zipformerCtc: { model: ${JSON.stringify(join(model, 'model.onnx'))} }, tokens: ${JSON.stringify(join(model, 'tokens.txt'))}, numThreads: 1, provider: 'cpu', debug: 0 },
  decodingMethod: 'greedy_search',
});
const wave = sherpa.readWave(${JSON.stringify(clip)});
const stream = recognizer.createStream();
stream.acceptWaveform({ sampleRate: wave.sampleRate, samples: wave.samples });
recognizer.decode(stream);
console.log(recognizer.getResult(stream).text.trim().toLowerCase());
`,
);
const esmImport = join(dir, 'import.mjs');
writeFileSync(esmImport, `await import(${JSON.stringify(join(root, 'dist', 'index.js'))});\n`);
const cjsImport = join(dir, 'import.cjs');
writeFileSync(
  cjsImport,
  `require(${JSON.stringify(join(root, 'dist', 'index.cjs'))});
const heavy = Object.keys(require.cache).map((k) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(k)?.[1]).filter(Boolean);
if (process.env.SHOW_MODULES) console.log([...new Set(heavy)].join(' '));
`,
);
const empty = join(dir, 'empty.cjs');
writeFileSync(empty, '');

const env = { ...process.env, HYBRID_ASR_MODELS: models };
const cases: Record<string, string[]> = {
  'node (empty script)': [empty],
  'import hybrid-asr (ESM)': [esmImport],
  'require hybrid-asr (CJS)': [cjsImport],
  'plain sherpa-onnx-node script': [plain],
  'hybrid-asr transcribe (CLI)': [join(root, 'dist', 'cli', 'index.js'), 'transcribe', clip, '-m', model, '--progress', 'none'],
};

function time(args: string[]): { ms: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return { ms, out: r.stdout.trim() };
}

// One untimed run of each: fills the page cache, and the CLI's first load proves the model in a
// child process (a one-time cost, measured separately by bench/model-proof.ts).
const outputs: Record<string, string> = {};
for (const [name, args] of Object.entries(cases)) outputs[name] = time(args).out;
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
const loads: number[] = [];
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(cases)) samples[name]!.push(time(args).ms);
  loads.push(loadavg()[0]!);
}
const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const base = med['node (empty script)']!;
const loaded = spawnSync(process.execPath, [cjsImport], { env: { ...env, SHOW_MODULES: '1' }, encoding: 'utf8' }).stdout.trim();
const ratio = med['hybrid-asr transcribe (CLI)']! / med['plain sherpa-onnx-node script']!;
const results = {
  runs,
  clip,
  loadAverage: { median: median(loads), min: Math.min(...loads), max: Math.max(...loads) },
  medianMs: med,
  importMs: { esm: med['import hybrid-asr (ESM)']! - base, cjs: med['require hybrid-asr (CJS)']! - base },
  cliOverPlain: ratio,
  packagesLoadedByRequire: loaded.split(' ').filter(Boolean),
  texts: { plain: outputs['plain sherpa-onnx-node script'], cli: outputs['hybrid-asr transcribe (CLI)'] },
};
if (!wantJson) {
  console.log(`cold start, ${runs} alternating runs each, clip ${clip}`);
  for (const [k, v] of Object.entries(med)) line(k, `${v.toFixed(0)} ms median`);
  line('import cost over empty node (ESM / CJS)', `${results.importMs.esm.toFixed(0)} / ${results.importMs.cjs.toFixed(0)} ms`);
  line('CLI transcribe ÷ plain sherpa script (target ≤ 1.5)', `${ratio.toFixed(2)}×`);
  line('packages loaded by require("hybrid-asr")', results.packagesLoadedByRequire.join(', ') || '(none)');
  line('load average (1 min) median [min, max]', `${results.loadAverage.median.toFixed(2)} [${results.loadAverage.min.toFixed(2)}, ${results.loadAverage.max.toFixed(2)}]`);
  line('texts (plain | CLI)', `${results.texts.plain} | ${results.texts.cli}`);
}
done(results);
