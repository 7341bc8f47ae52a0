/**
 * "Prove, then load" (issue #13 item 1, and the short-audio and tokens parts of item 10), through
 * the real addon, the real models, real child processes and the real CLI:
 * - a corpus of corrupt models made from the real ones (zeros at several offsets, truncations,
 *   k2-fsa's published mobile KWS encoder that aborts sherpa-onnx 1.13.8 on its first decode):
 *   this process survives each and gets a ModelError, and `hybrid-asr transcribe` exits 1 or 2
 *   with a one-line message (never 134);
 * - the verdict cache: a second load starts no child, a changed file is proven again;
 * - 20 ms of audio for every model family, through transcribe(), transcribeStream() and the CLI;
 * - a tokens.txt with too few tokens.
 */
import { encodeWav } from '../../src/audio/index.js';
import { readFileSync } from 'node:fs';
import { copyFile, open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NativeBackend } from '../../src/backends/native/index.js';
import { ModelError } from '../../src/errors/index.js';
import { loadModelDir, proveModel, type ModelProofEvent } from '../../src/models/index.js';
import { listTopLevelFields } from '../../src/models/onnx.js';
import { forgetProofsInMemory } from '../../src/models/proof.js';
import type { TranscriptionEvent } from '../../src/spec/index.js';
import { runCli } from '../helpers/cli.js';
import { AUDIO_DIR, MODELS_DIR, OFFLINE_MODEL, SHARED_DIR, STREAMING_MODEL, VAD_MODEL, describeWithAssets } from '../helpers/shared.js';
import { makeModelDir, tempDir } from '../models/helpers.js';

const TRANSDUCER_OFFLINE = join(MODELS_DIR, 'tiny-transducer-en-offline');
const REAL_KWS = join(MODELS_DIR, 'real-kws-zipformer-gigaspeech-3.3m-en');
const KWS_UNPATCHED = join(SHARED_DIR, 'fixtures', 'bad-models', 'kws-mobile-unpatched');
const CLIP = join(AUDIO_DIR, 'espeak', 'espeak-001.wav');
const d = describeWithAssets([OFFLINE_MODEL, STREAMING_MODEL, VAD_MODEL, TRANSDUCER_OFFLINE, REAL_KWS, KWS_UNPATCHED, CLIP]);

/** A 16 kHz mono 16-bit WAV of `n` samples of faint noise. */
function wav(n: number): Buffer {
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = ((i * 7919) % 61) - 30;
  return encodeWav(samples, 16000);
}

async function zeroAt(file: string, offset: number, n = 4096): Promise<void> {
  const size = (await stat(file)).size;
  const fh = await open(file, 'r+');
  try {
    await fh.write(Buffer.alloc(Math.min(n, size - offset)), 0, Math.min(n, size - offset), offset);
  } finally {
    await fh.close();
  }
}

/** Offset of the graph's first `output` (GraphProto field 12): structure late in the file, after the weights. */
async function graphOutputOffset(onnx: string, scratch: string): Promise<number> {
  const graph = (await listTopLevelFields(onnx)).fields.find((f) => f.field === 7)!;
  const buf = await readFile(onnx);
  await writeFile(scratch, buf.subarray(graph.payloadStart, graph.end));
  const out = (await listTopLevelFields(scratch)).fields.find((f) => f.field === 12)!;
  return graph.payloadStart + out.start;
}

async function expectModelError(p: Promise<unknown>, re?: RegExp): Promise<ModelError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(ModelError.isInstance(err), `expected a ModelError, got ${String(err)}`).toBe(true);
  if (re) expect((err as Error).message).toMatch(re);
  return err as ModelError;
}

d('prove, then load', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let cacheDir: string;
  const offlineManifest = JSON.parse(readFileSync(join(OFFLINE_MODEL, 'model.json'), 'utf8')) as { sha256: Record<string, string> };
  const { sha256: _sums, ...unsigned } = offlineManifest;

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir('hasr-proof-'));
    cacheDir = join(root, 'cache');
  });
  afterAll(async () => cleanup());

  /** A copy of the offline model with `damage` applied to model.onnx; `signed` keeps the manifest's sha256. */
  async function damaged(name: string, signed: boolean, damage: (file: string) => Promise<void>): Promise<string> {
    const dir = await makeModelDir(root, name, { links: { 'tokens.txt': join(OFFLINE_MODEL, 'tokens.txt') }, manifest: signed ? offlineManifest : unsigned });
    await copyFile(join(OFFLINE_MODEL, 'model.onnx'), join(dir, 'model.onnx'));
    await damage(join(dir, 'model.onnx'));
    return dir;
  }

  const size = async (): Promise<number> => (await stat(join(OFFLINE_MODEL, 'model.onnx'))).size;
  const corpus: { name: string; make: () => Promise<string>; expect: RegExp }[] = [
    // Zeros over the first graph nodes: the top level still parses (validateModel passes), onnxruntime aborts on load.
    { name: 'zeros at byte 24, no checksums', make: () => damaged('z24', false, (f) => zeroAt(f, 24)), expect: /proving process was killed by SIGABRT|Protobuf parsing failed/ },
    { name: 'zeros at byte 24, with checksums', make: () => damaged('z24s', true, (f) => zeroAt(f, 24)), expect: /failed its checksum/ },
    // Zeros inside the weights still load and run: only the manifest's checksums can tell, and the proof checks them.
    { name: 'zeros at 1/4 (weights), with checksums', make: () => damaged('zq1', true, async (f) => zeroAt(f, (await size()) >> 2)), expect: /failed its checksum/ },
    { name: 'zeros at 1/2 (weights), with checksums', make: () => damaged('zq2', true, async (f) => zeroAt(f, (await size()) >> 1)), expect: /failed its checksum/ },
    { name: 'zeros at 3/4 (weights), with checksums', make: () => damaged('zq3', true, async (f) => zeroAt(f, ((await size()) * 3) >> 2)), expect: /failed its checksum/ },
    {
      name: 'zeros over the graph outputs (structure past the weights), no checksums',
      make: () => damaged('zout', false, async (f) => zeroAt(f, await graphOutputOffset(f, join(root, 'graph.bin')), 64)),
      expect: /proving process|not an ONNX model|not a valid ONNX|truncated/,
    },
    { name: 'truncated to half', make: () => damaged('t2', false, async (f) => writeFile(f, (await readFile(f)).subarray(0, (await size()) >> 1))), expect: /truncated/ },
    { name: 'truncated by 100 bytes', make: () => damaged('t100', false, async (f) => writeFile(f, (await readFile(f)).subarray(0, (await size()) - 100))), expect: /truncated|not an ONNX model/ },
    { name: "k2-fsa's published mobile KWS encoder (correct checksums; aborts sherpa-onnx 1.13.8 on its first decode)", make: async () => KWS_UNPATCHED, expect: /SIGABRT.*Reshape/ },
  ];

  /** Each corpus folder is made once, by whichever test needs it first. */
  const made = new Map<string, Promise<string>>();
  const build = (c: (typeof corpus)[number]): Promise<string> => {
    if (!made.has(c.name)) made.set(c.name, c.make());
    return made.get(c.name)!;
  };

  for (const c of corpus) {
    it(`this process survives and gets a ModelError: ${c.name}`, async () => {
      const dir = await build(c);
      const b = new NativeBackend({ model: dir, vadModel: VAD_MODEL, threads: 1, cacheDir });
      await expectModelError(b.transcribe(CLIP), c.expect);
      // Still here, and a bad verdict is cached: the second attempt fails the same way without a child.
      const events: ModelProofEvent[] = [];
      const again = new NativeBackend({ model: dir, vadModel: VAD_MODEL, threads: 1, cacheDir, onModelProof: (e) => events.push(e) });
      await expectModelError(again.transcribe(CLIP), c.expect);
      expect(events.filter((e) => e.source === 'child')).toEqual([]);
    });
  }

  it('hybrid-asr transcribe exits 1 or 2 with a one-line message for every corrupt model (never 134)', async () => {
    // A fresh cache: every CLI run proves in a child (or fails the static checks first).
    const env = { HYBRID_ASR_CACHE: join(root, 'cli-cache'), HYBRID_ASR_MODELS: MODELS_DIR };
    for (const c of corpus.slice(0, -1)) {
      const r = await runCli(['transcribe', CLIP, '--backend', 'native', '--model', await build(c)], env);
      expect([1, 2], `${c.name}: exit ${r.code}\n${r.stderr}`).toContain(r.code);
      expect(r.stderr).toMatch(c.expect);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/^hybrid-asr: /);
    }
    const kws = await runCli(['transcribe', CLIP, '--backend', 'native', '--model', KWS_UNPATCHED], env);
    expect(kws.code, kws.stderr).toBe(2);
    expect(kws.stderr.trim().split('\n')).toHaveLength(1);
    expect(kws.stderr).toMatch(/^hybrid-asr: sherpa-onnx can't run model "kws-mobile-unpatched".*SIGABRT/);
  });

  it('a second load starts no child (in this process, and from the cache file), and `models verify` reads the same verdict', async () => {
    const dir = join(root, 'cache-2');
    forgetProofsInMemory();
    const events: ModelProofEvent[] = [];
    const opts = { model: OFFLINE_MODEL, vadModel: VAD_MODEL, threads: 1, cacheDir: dir, onModelProof: (e: ModelProofEvent) => events.push(e) };
    await new NativeBackend(opts).load();
    expect(events.map((e) => [e.model, e.source, e.ok])).toEqual([
      ['"tiny-ctc-en-offline" (offline zipformer_ctc)', 'child', true],
      ['"silero-vad" (vad silero_vad)', 'child', true],
    ]);
    events.length = 0;
    const b = new NativeBackend(opts);
    await b.load();
    expect(events.map((e) => e.source)).toEqual(['memory', 'memory']);
    expect((await b.transcribe(CLIP)).text).not.toBe('');
    events.length = 0;
    forgetProofsInMemory(); // as a new process would start
    await new NativeBackend(opts).load();
    expect(events.map((e) => e.source)).toEqual(['cache', 'cache']);
    // Another process (the CLI) reads the verdict the backend wrote.
    const v = await runCli(['models', 'verify', OFFLINE_MODEL], { HYBRID_ASR_CACHE: dir });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/proven before: cached verdict/);
    const forced = await runCli(['models', 'verify', OFFLINE_MODEL, '--probe'], { HYBRID_ASR_CACHE: dir });
    expect(forced.stdout).toMatch(/proven now in a child process/);
  });

  it('a changed file invalidates the verdict', async () => {
    const dir = await makeModelDir(root, 'changing', { links: { 'tokens.txt': join(OFFLINE_MODEL, 'tokens.txt') }, manifest: unsigned });
    await copyFile(join(OFFLINE_MODEL, 'model.onnx'), join(dir, 'model.onnx'));
    const cache = join(root, 'cache-3');
    const m = await loadModelDir(dir);
    expect((await proveModel(m, { cacheDir: cache })).source).toBe('child');
    expect((await proveModel(m, { cacheDir: cache })).source).not.toBe('child');
    await zeroAt(join(dir, 'model.onnx'), 24);
    const events: ModelProofEvent[] = [];
    await expectModelError(proveModel(m, { cacheDir: cache, onProof: (e) => events.push(e) }), /proving process/);
    await expectModelError(proveModel(m, { cacheDir: cache, onProof: (e) => events.push(e) }), /verdict cached/);
    expect(events.map((e) => [e.source, e.ok])).toEqual([
      ['child', false],
      ['cache', false],
    ]);
  });

  it('tokens.txt with too few tokens: a ModelError that says so, at load (vocab_size) and at decode (no vocab_size to check)', async () => {
    const few = (await readFile(join(OFFLINE_MODEL, 'tokens.txt'), 'utf8')).split('\n').slice(0, 5).join('\n');
    const atLoad = await makeModelDir(root, 'few', { links: { 'model.onnx': join(OFFLINE_MODEL, 'model.onnx') }, files: { 'tokens.txt': few }, manifest: unsigned });
    await expectModelError(new NativeBackend({ model: atLoad, vadModel: VAD_MODEL, threads: 1, cacheDir }).transcribe(CLIP), /has 5 tokens, too few for the model.*vocab_size 54/);
    // The same model with its vocab_size key renamed: nothing to check statically, the decode finds it.
    const dir = await makeModelDir(root, 'few-nometa', { files: { 'tokens.txt': few }, manifest: unsigned });
    const buf = Buffer.from(await readFile(join(OFFLINE_MODEL, 'model.onnx')));
    for (const f of (await listTopLevelFields(join(OFFLINE_MODEL, 'model.onnx'))).fields.filter((x) => x.field === 14)) {
      const at = buf.subarray(f.payloadStart, f.end).indexOf('vocab_size');
      if (at >= 0) buf.write('vocab_sizX', f.payloadStart + at, 'latin1');
    }
    await writeFile(join(dir, 'model.onnx'), buf);
    await expectModelError(new NativeBackend({ model: dir, vadModel: VAD_MODEL, threads: 1, cacheDir }).transcribe(CLIP), /too few tokens/);
    const r = await runCli(['transcribe', CLIP, '--backend', 'native', '--model', dir], { HYBRID_ASR_CACHE: cacheDir });
    expect([1, 2], r.stderr).toContain(r.code);
    expect(r.stderr).toMatch(/too few tokens/);
    expect(r.stderr).not.toMatch(/^hybrid-asr: _Map_base::at$/m);
  });

  const families = [
    ['offline zipformer_ctc', OFFLINE_MODEL],
    ['offline transducer', TRANSDUCER_OFFLINE],
    ['streaming nemo_ctc', STREAMING_MODEL],
    ['streaming transducer', REAL_KWS],
  ] as const;
  for (const [family, model] of families) {
    it(`20 ms of audio (and 1 sample) transcribes to a short transcript: ${family}, API and CLI`, async () => {
      const clip = join(root, `clip20-${family.replace(/ /g, '-')}.wav`);
      await writeFile(clip, wav(320));
      const one = join(root, `clip1-${family.replace(/ /g, '-')}.wav`);
      await writeFile(one, wav(1));
      const b = new NativeBackend({ model, vadModel: VAD_MODEL, threads: 1, cacheDir });
      for (const [file, n] of [
        [clip, 320],
        [one, 1],
      ] as const) {
        const t = await b.transcribe(file);
        expect(typeof t.text).toBe('string');
        expect(t.text.length).toBeLessThan(20);
        expect(t.durationSec).toBeCloseTo(n / 16000, 5);
        for (const s of t.segments) expect(s.end).toBeLessThanOrEqual(n / 16000 + 1e-9);
        const events: TranscriptionEvent[] = [];
        async function* audio(): AsyncGenerator<{ samples: Float32Array; sampleRate: number }> {
          yield { samples: new Float32Array(n).fill(0.001), sampleRate: 16000 };
        }
        for await (const e of b.transcribeStream(audio())) events.push(e);
        expect(events.filter((e) => e.type === 'error')).toEqual([]);
        expect(events.at(-1)).toMatchObject({ type: 'end' });
      }
      const r = await runCli(['transcribe', clip, '--backend', 'native', '--model', model], { HYBRID_ASR_CACHE: cacheDir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/Reshape/);
    });
  }
});
