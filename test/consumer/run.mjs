#!/usr/bin/env node
// The consumer test: the package as its users meet it. Packs the built package, installs the
// tarball into fresh apps in a temporary folder (no .npmrc), and runs from each a real
// transcription and the error-identity checks: ESM, CommonJS, and strict TypeScript
// (exactOptionalPropertyTypes, no skipLibCheck) under the node10, node16 and bundler resolutions;
// then the README's TypeScript snippets and the examples, as written, against the installed package.
//
//   npm run build && node test/consumer/run.mjs [--keep]
//
// Needs HYBRID_ASR_MODELS and HYBRID_ASR_TEST_AUDIO (defaults: ../shared beside the checkout).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const shared = process.env.HYBRID_ASR_SHARED ?? resolve(root, '..', 'shared');
const models = process.env.HYBRID_ASR_MODELS ?? join(shared, 'models');
const audio = process.env.HYBRID_ASR_TEST_AUDIO ?? join(shared, 'audio');
const keep = process.argv.includes('--keep');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

let passed = 0;
let failed = 0;
const failures = [];

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 << 20, ...opts });
  return { code: r.status ?? (r.signal ? 128 : 1), signal: r.signal, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}

function must(label, r) {
  if (r.code !== 0) throw new Error(`${label} failed (exit ${r.code}${r.signal ? `, ${r.signal}` : ''}):\n${r.out.slice(-6000)}`);
  return r;
}

function check(label, fn) {
  const t0 = Date.now();
  try {
    const msg = fn();
    passed++;
    console.log(`ok   ${label} (${((Date.now() - t0) / 1000).toFixed(1)} s)${msg ? `: ${msg}` : ''}`);
  } catch (e) {
    failed++;
    failures.push(label);
    console.log(`FAIL ${label}\n${String(e instanceof Error ? e.message : e).replace(/^/gm, '     ')}`);
  }
}

function du(dir) {
  const r = run('du', ['-sk', dir]);
  return r.code === 0 ? Number(r.stdout.split(/\s+/)[0]) / 1024 : NaN;
}

for (const p of [join(root, 'dist', 'index.js'), join(models, 'tiny-ctc-en-offline'), join(audio, 'espeak')]) {
  if (!existsSync(p)) {
    console.error(`consumer test: ${p} is missing (run \`npm run build\`; set HYBRID_ASR_MODELS / HYBRID_ASR_TEST_AUDIO)`);
    process.exit(1);
  }
}

const work = mkdtempSync(join(tmpdir(), 'hybrid-asr-consumer-'));
const env = { ...process.env, HYBRID_ASR_MODELS: models };
// A user's app knows nothing of this repo's npm settings.
for (const k of Object.keys(env)) if (k.startsWith('npm_') || k === 'INIT_CWD') delete env[k];

// Clip and reference for the transcription checks.
const refs = readFileSync(join(audio, 'espeak', 'references.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
const [clipName, reference] = refs[0];
env.CONSUMER_CLIP = join(audio, 'espeak', clipName);
env.CONSUMER_REFERENCE = reference;

try {
  // 1. Pack, and install the tarball alone into a fresh app.
  const packed = must('npm pack', run('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, env }));
  const tarball = join(work, JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')))[0].filename);
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer-app', version: '1.0.0', private: true }, null, 2));
  check('npm install <tarball> into a fresh app (no .npmrc)', () => {
    if (existsSync(join(work, '.npmrc'))) throw new Error('unexpected .npmrc');
    must('npm install', run('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: work, env }));
    const deps = readdirSync(join(work, 'node_modules')).filter((d) => !d.startsWith('.'));
    for (const banned of ['onnxruntime-node', 'node-wav', 'vitest']) {
      if (deps.includes(banned)) throw new Error(`${banned} was installed with the package`);
    }
    return `node_modules ${du(join(work, 'node_modules')).toFixed(1)} MiB`;
  });

  // Tools for the TypeScript apps, at the version this repo builds with.
  const tsVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'typescript', 'package.json'), 'utf8')).version;
  const typesNode = pkg.devDependencies['@types/node'];
  must('npm install typescript', run('npm', ['install', '--no-audit', '--no-fund', '--no-save', `typescript@${tsVersion}`, `@types/node@${typesNode}`, tarball], { cwd: work, env }));
  cpSync(join(here, 'checks.cjs'), join(work, 'checks.cjs'));
  const tsc = join(work, 'node_modules', 'typescript', 'bin', 'tsc');

  // 2. ESM and CommonJS apps.
  for (const [name, type, file] of [['esm', 'module', 'app.mjs'], ['cjs', 'commonjs', 'app.cjs']]) {
    mkdirSync(join(work, name));
    writeFileSync(join(work, name, 'package.json'), JSON.stringify({ type }));
    cpSync(join(here, 'apps', name, file), join(work, name, file));
    check(`${name} app: transcription, error identity within and across copies, hybrid-asr/testing without vitest`, () =>
      must(name, run(process.execPath, [file], { cwd: join(work, name), env })).stdout.trim());
  }

  // 3. Strict TypeScript under each resolution.
  const strict = {
    target: 'ES2022',
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    types: ['node'],
    outDir: 'out',
    rootDir: '.',
  };
  const profiles = [
    ['ts-node10', 'commonjs', { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true }],
    ['ts-node16-cjs', 'commonjs', { module: 'node16', moduleResolution: 'node16' }],
    ['ts-node16-esm', 'module', { module: 'node16', moduleResolution: 'node16' }],
    ['ts-bundler', 'module', { module: 'esnext', moduleResolution: 'bundler' }],
  ];
  for (const [name, type, opts] of profiles) {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type }));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...strict, ...opts }, include: ['app.ts'] }, null, 2));
    cpSync(join(here, 'apps', 'ts', 'app.ts'), join(dir, 'app.ts'));
    check(`TypeScript ${name} (strict, exactOptionalPropertyTypes, no skipLibCheck): compiles and runs`, () => {
      must('tsc', run(process.execPath, [tsc, '-p', dir], { cwd: dir, env }));
      writeFileSync(join(dir, 'out', 'package.json'), JSON.stringify({ type }));
      return must('app', run(process.execPath, [join('out', 'app.js')], { cwd: dir, env })).stdout.trim();
    });
  }

  // 4. The README's TypeScript snippets, as written, in an ESM TypeScript app.
  await readmeSnippets(work, tsc, env);

  // 5. The examples, against the installed package.
  const exdir = join(work, 'examples');
  mkdirSync(exdir);
  writeFileSync(join(exdir, 'package.json'), JSON.stringify({ type: 'module' }));
  const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts'));
  for (const f of examples) cpSync(join(root, 'examples', f), join(exdir, f));
  writeFileSync(join(exdir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...strict, module: 'node16', moduleResolution: 'node16' }, include: ['*.ts'] }, null, 2));
  check('examples/ compile against the installed package', () => {
    must('tsc', run(process.execPath, [tsc, '-p', exdir], { cwd: exdir, env }));
    writeFileSync(join(exdir, 'out', 'package.json'), JSON.stringify({ type: 'module' }));
  });
  const exampleArgs = {
    'transcribe-file.ts': [env.CONSUMER_CLIP],
    'stream-file.ts': [env.CONSUMER_CLIP],
    'live-meeting.ts': [env.CONSUMER_CLIP],
  };
  for (const f of examples) {
    check(`examples/${f} runs`, () => {
      const r = must(f, run(process.execPath, [join('out', f.replace(/\.ts$/, '.js')), ...(exampleArgs[f] ?? [])], { cwd: exdir, env }));
      if (r.stdout.trim() === '') throw new Error('printed nothing');
      return r.stdout.trim().split('\n').at(-1);
    });
  }

  // 6. The CLI from the installed package.
  check('installed CLI: hybrid-asr transcribe', () => {
    const bin = join(work, 'node_modules', '.bin', 'hybrid-asr');
    const r = must('cli', run(bin, ['transcribe', env.CONSUMER_CLIP, '-m', 'tiny-ctc-en-offline', '--progress', 'none'], { cwd: work, env }));
    if (r.stdout.trim() === '') throw new Error('no transcript on stdout');
    return r.stdout.trim();
  });
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

console.log(`\nconsumer: ${passed} passed, ${failed} failed`);
if (failed > 0) {
  console.log(`failed: ${failures.join('; ')}`);
  process.exit(1);
}

/**
 * Each ```ts block of README.md becomes a file of an ESM TypeScript app, compiled strictly, and is
 * run as written in a folder holding the files the snippets name (meeting.wav, talk.wav,
 * call.wav), with a real `hybrid-asr serve` from the installed package on 127.0.0.1 for the ones
 * that talk to a server (`KEY` and `HYBRID_ASR_URL` in their environment).
 */
async function readmeSnippets(work, tsc, env) {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  const dir = join(work, 'readme');
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const files = blocks.map((code, i) => {
    const f = `snippet-${String(i + 1).padStart(2, '0')}.ts`;
    writeFileSync(join(dir, f), code.includes('import ') || code.includes('export ') ? code : `${code}\nexport {};\n`);
    return f;
  });
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, exactOptionalPropertyTypes: true, skipLibCheck: false, types: ['node'], outDir: 'out' },
    include: ['*.ts'],
  }, null, 2));
  check(`README: ${blocks.length} TypeScript snippets compile as written (strict)`, () => {
    if (blocks.length === 0) throw new Error('no ```ts blocks found');
    must('tsc', run(process.execPath, [tsc, '-p', dir], { cwd: dir, env }));
    writeFileSync(join(dir, 'out', 'package.json'), JSON.stringify({ type: 'module' }));
  });
  const runnable = files;
  for (const name of ['meeting.wav', 'talk.wav', 'call.wav']) cpSync(env.CONSUMER_CLIP, join(dir, name));
  // A real server from the installed package, for the snippets that use one.
  const key = 'consumer-test-key';
  const bin = join(work, 'node_modules', '.bin', 'hybrid-asr');
  const server = spawn(bin, ['serve', '--model', 'tiny-ctc-en-offline', '--port', '0', '--api-key', key], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let serverOut = '';
  const url = await new Promise((resolveUrl) => {
    const timer = setTimeout(() => resolveUrl(undefined), 60_000);
    const onData = (d) => {
      serverOut += d;
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(serverOut);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[0]);
      }
    };
    server.stdout.setEncoding('utf8').on('data', onData);
    server.stderr.setEncoding('utf8').on('data', onData);
    server.on('exit', () => resolveUrl(undefined));
  });
  try {
    for (const f of runnable) {
      check(`README snippet ${f} runs`, () => {
        if (url === undefined) throw new Error(`hybrid-asr serve did not start:\n${serverOut}`);
        const r = must(f, run(process.execPath, [join('out', f.replace(/\.ts$/, '.js'))], { cwd: dir, env: { ...env, KEY: key, HYBRID_ASR_URL: `${url}/v1` } }));
        return r.stdout.trim().split('\n').slice(0, 2).join(' | ');
      });
    }
  } finally {
    server.kill('SIGTERM');
  }
}
