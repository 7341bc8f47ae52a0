import { execFile } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ModelError } from '../../src/errors/index.js';
import { loadModelDir, probeModelInSubprocess, readOnnxHeader, validateModel } from '../../src/models/index.js';
import { listTopLevelFields } from '../../src/models/onnx.js';
import { describeWithAssets, OFFLINE_MODEL, PROJECT_ROOT, SPEAKER_MODEL, STREAMING_MODEL, VAD_MODEL } from '../helpers/shared.js';
import { makeModelDir, noise, stripMetadata, tempDir } from './helpers.js';

const run = promisify(execFile);
const OFF = join(OFFLINE_MODEL, 'model.onnx');
const ON = join(STREAMING_MODEL, 'model.onnx');
const TOK = join(OFFLINE_MODEL, 'tokens.txt');
const offlineManifest = (extra: object = {}): object => ({
  name: 'x',
  kind: 'offline',
  family: 'zipformer_ctc',
  files: { model: 'model.onnx', tokens: 'tokens.txt' },
  sampleRate: 16000,
  ...extra,
});

/** Each bad model and the words its ModelError must contain. */
const corpus: { name: string; expect: RegExp; build: (root: string, name: string) => Promise<string> }[] = [
  {
    name: 'truncated',
    expect: /truncated/,
    build: async (root, name) => {
      const buf = await readFile(OFF);
      return makeModelDir(root, name, { files: { 'model.onnx': buf.subarray(0, buf.length >> 1) }, links: { 'tokens.txt': TOK }, manifest: offlineManifest() });
    },
  },
  {
    name: 'lfs-pointer',
    expect: /Git LFS pointer/,
    build: (root, name) =>
      makeModelDir(root, name, {
        files: { 'model.onnx': 'version https://git-lfs.github.com/spec/v1\noid sha256:57321da60d8e99cbe70944334bc51b5429aefe8d52226d68ae01709f31cb25e8\nsize 8510461\n' },
        links: { 'tokens.txt': TOK },
        manifest: offlineManifest(),
      }),
  },
  {
    name: 'random-bytes',
    expect: /not an ONNX model|truncated/,
    build: (root, name) => makeModelDir(root, name, { files: { 'model.onnx': noise(65536) }, links: { 'tokens.txt': TOK }, manifest: offlineManifest() }),
  },
  {
    name: 'empty',
    expect: /empty \(0 bytes\)/,
    build: (root, name) => makeModelDir(root, name, { files: { 'model.onnx': '' }, links: { 'tokens.txt': TOK }, manifest: offlineManifest() }),
  },
  {
    name: 'no-metadata',
    expect: /"model_type" is missing.*no metadata at all/,
    build: async (root, name) => {
      const dir = await makeModelDir(root, name, { links: { 'tokens.txt': TOK }, manifest: offlineManifest() });
      await stripMetadata(OFF, join(dir, 'model.onnx'));
      return dir;
    },
  },
  {
    name: 'tokens-without-blank',
    expect: /no blank symbol/,
    build: async (root, name) => {
      const tokens = (await readFile(TOK, 'utf8'))
        .split('\n')
        .filter((l) => !l.startsWith('<blk>'))
        .join('\n');
      return makeModelDir(root, name, { links: { 'model.onnx': OFF }, files: { 'tokens.txt': tokens }, manifest: offlineManifest() });
    },
  },
  {
    name: 'too-few-tokens',
    expect: /has 5 tokens, too few for the model: .*vocab_size 54, and 49 ids below it \(first: 5\) have no symbol/,
    build: async (root, name) => {
      const tokens = (await readFile(TOK, 'utf8')).split('\n').slice(0, 5).join('\n');
      return makeModelDir(root, name, { links: { 'model.onnx': OFF }, files: { 'tokens.txt': tokens }, manifest: offlineManifest() });
    },
  },
  {
    name: 'offline-as-streaming-nemo',
    expect: /"window_size" is missing.*streaming nemo_ctc/,
    build: (root, name) => makeModelDir(root, name, { links: { 'model.onnx': OFF, 'tokens.txt': TOK }, manifest: offlineManifest({ kind: 'streaming', family: 'nemo_ctc' }) }),
  },
  {
    name: 'streaming-as-offline-zipformer',
    expect: /model_type is "EncDecCTCModel".*zipformer2_ctc/,
    build: (root, name) => makeModelDir(root, name, { links: { 'model.onnx': ON, 'tokens.txt': TOK }, manifest: offlineManifest() }),
  },
  {
    name: 'offline-as-offline-nemo',
    expect: /model_type is "zipformer2_ctc".*EncDecCTCModel/,
    build: (root, name) => makeModelDir(root, name, { links: { 'model.onnx': OFF, 'tokens.txt': TOK }, manifest: offlineManifest({ family: 'nemo_ctc' }) }),
  },
  {
    name: 'missing-file',
    expect: /model file .* is missing \(ENOENT\)/,
    build: (root, name) => makeModelDir(root, name, { links: { 'tokens.txt': TOK }, manifest: offlineManifest() }),
  },
  {
    name: 'manifest-syntax',
    expect: /is not valid JSON/,
    build: (root, name) => makeModelDir(root, name, { links: { 'model.onnx': OFF, 'tokens.txt': TOK }, manifest: '{"name": "x", "kind": "offline",' }),
  },
  {
    name: 'manifest-types',
    expect: /"sampleRate" must be a positive whole number/,
    build: (root, name) => makeModelDir(root, name, { links: { 'model.onnx': OFF, 'tokens.txt': TOK }, manifest: offlineManifest({ sampleRate: '16000' }) }),
  },
  {
    name: 'kind-family-mismatch',
    expect: /family "silero_vad" is not a offline family/,
    build: (root, name) => makeModelDir(root, name, { links: { 'model.onnx': OFF, 'tokens.txt': TOK }, manifest: offlineManifest({ family: 'silero_vad' }) }),
  },
  {
    name: 'vad-missing-file',
    expect: /model file .* is missing/,
    build: (root, name) => makeModelDir(root, name, { manifest: { name: 'v', kind: 'vad', family: 'silero_vad', files: { model: 'silero_vad.onnx' }, sampleRate: 16000 } }),
  },
  {
    name: 'vad-lfs-pointer',
    expect: /Git LFS pointer/,
    build: (root, name) =>
      makeModelDir(root, name, {
        files: { 'silero_vad.onnx': 'version https://git-lfs.github.com/spec/v1\noid sha256:1a15\nsize 2327524\n' },
        manifest: { name: 'v', kind: 'vad', family: 'silero_vad', files: { model: 'silero_vad.onnx' }, sampleRate: 16000 },
      }),
  },
  {
    name: 'speaker-no-metadata',
    expect: /"output_dim" is missing/,
    build: async (root, name) => {
      const dir = await makeModelDir(root, name, {
        manifest: { name: 's', kind: 'speaker-embedding', family: '3d_speaker', files: { model: 'm.onnx' }, sampleRate: 16000 },
      });
      await stripMetadata(join(SPEAKER_MODEL, 'tiny-speaker-embedding.onnx'), join(dir, 'm.onnx'));
      return dir;
    },
  },
];

describeWithAssets([OFFLINE_MODEL, STREAMING_MODEL, VAD_MODEL, SPEAKER_MODEL])('validateModel', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  const dirs = new Map<string, string>();

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir());
    for (const c of corpus) dirs.set(c.name, await c.build(root, c.name));
  });
  afterAll(() => cleanup());

  it('passes every shared model, with and without checksums', async () => {
    for (const dir of [OFFLINE_MODEL, STREAMING_MODEL, VAD_MODEL, SPEAKER_MODEL]) {
      const m = await loadModelDir(dir);
      await validateModel(m);
      await validateModel(m, { checksums: true });
    }
  });

  it('reads the ONNX top level without loading the graph', async () => {
    const h = await readOnnxHeader(OFF);
    expect(h.irVersion).toBeGreaterThan(0);
    expect(h.metadata.get('model_type')).toBe('zipformer2_ctc');
    expect(h.metadata.get('vocab_size')).toBe('54');
    expect(h.graphBytes).toBeGreaterThan(1_000_000);
    expect(h.opsets.some((o) => o.domain === '' && o.version > 0)).toBe(true);
  });

  for (const c of corpus) {
    it(`rejects ${c.name} with a specific ModelError`, async () => {
      const dir = dirs.get(c.name) as string;
      const err = await loadModelDir(dir)
        .then((m) => validateModel(m))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(ModelError.isInstance(err), `${c.name}: ${String(err)}`).toBe(true);
      expect((err as ModelError).message).toMatch(c.expect);
      expect((err as ModelError).path).toBeTruthy();
    });
  }

  it('detects a checksum mismatch', async () => {
    const dir = await makeModelDir(root, 'bad-sha', {
      links: { 'model.onnx': OFF, 'tokens.txt': TOK },
      manifest: offlineManifest({ sha256: { 'model.onnx': '0'.repeat(64) } }),
    });
    const m = await loadModelDir(dir);
    await validateModel(m); // checksums are off by default
    await expect(validateModel(m, { checksums: true })).rejects.toThrow(/failed its checksum/);
  });

  it('keeps the process alive: a child validates every bad model and constructs sherpa only when validation passed', async () => {
    const script = `
      import { loadModelDir, validateModel, sherpaConfigFor } from ${JSON.stringify(join(PROJECT_ROOT, 'src/models/index.ts'))};
      import { createRequire } from 'node:module';
      const sherpa = createRequire(import.meta.url)('sherpa-onnx-node');
      for (const dir of process.argv.slice(1)) {
        try {
          const m = await loadModelDir(dir);
          await validateModel(m);
          const { className, config } = sherpaConfigFor(m);
          const obj = className === 'Vad' ? new sherpa.Vad(config, 30) : new sherpa[className](config);
          console.log('LOADED ' + dir + ' ' + Boolean(obj.handle));
        } catch (e) {
          console.log((e && e.code === 'model_error' ? 'TYPED ' : 'UNTYPED ') + dir + ' :: ' + String(e && e.message).split('\\n')[0]);
        }
      }
      console.log('CHILD_DONE');
    `;
    const list = corpus.map((c) => dirs.get(c.name) as string);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...list], { cwd: PROJECT_ROOT, maxBuffer: 1 << 24 });
    expect(stdout).toContain('CHILD_DONE');
    for (const dir of list) expect(stdout).toContain(`TYPED ${dir} ::`);
    expect(stdout).not.toMatch(/UNTYPED|LOADED/);
  });

  it('probeModelInSubprocess passes good models', async () => {
    await probeModelInSubprocess(await loadModelDir(OFFLINE_MODEL));
    await probeModelInSubprocess(await loadModelDir(VAD_MODEL));
  });

  it('probeModelInSubprocess turns a native abort into a ModelError, and this process survives', async () => {
    // Top level intact (passes static validation), graph bytes corrupted: onnxruntime aborts on load.
    const dir = await makeModelDir(root, 'corrupt-graph', { links: { 'tokens.txt': TOK }, manifest: offlineManifest() });
    const dest = join(dir, 'model.onnx');
    await copyFile(OFF, dest);
    const graph = (await listTopLevelFields(dest)).fields.find((f) => f.field === 7);
    expect(graph).toBeDefined();
    const fh = await open(dest, 'r+');
    await fh.write(Buffer.alloc(4096, 0xff), 0, 4096, (graph?.payloadStart ?? 0) + 16);
    await fh.close();
    const m = await loadModelDir(dir);
    await validateModel(m); // static checks can't see inside the graph
    const err = await probeModelInSubprocess(m, { timeoutMs: 60_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(ModelError.isInstance(err)).toBe(true);
    expect((err as Error).message).toMatch(/proving process (was killed by SIG|exited with code)/);
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('probeModelInSubprocess catches the offline model under offline nemo_ctc (which validation also rejects)', async () => {
    const m = await loadModelDir(dirs.get('offline-as-offline-nemo') as string);
    await expect(validateModel(m)).rejects.toThrow(ModelError);
    const err = await probeModelInSubprocess(m).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(ModelError.isInstance(err), String(err)).toBe(true);
  });
});
