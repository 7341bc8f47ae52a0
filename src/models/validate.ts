/**
 * Static validation of a model folder before sherpa-onnx sees it. sherpa-onnx-node aborts the
 * whole process on a corrupt `.onnx`, calls `exit()` on missing metadata or a tokens.txt without
 * a blank, and gives a silent null handle for a missing path; everything that can be checked
 * without loading the model is checked here and becomes a {@link ModelError}.
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AbortedError, ModelError, throwIfAborted, toAbortError } from '../errors/index.js';
import { familySpec } from './families.js';
import { checkManifest } from './manifest.js';
import { readOnnxHeader, type OnnxHeader } from './onnx.js';
import type { ResolvedModel } from './resolve.js';

/** Options of {@link validateModel}. */
export interface ValidateOptions {
  /** Verify the manifest's sha256 entries (reads every file in full). @defaultValue false */
  readonly checksums?: boolean | undefined;
  /** Cancels validation. */
  readonly abortSignal?: AbortSignal | undefined;
}

/** Symbols sherpa-onnx accepts as the CTC / transducer blank. */
const BLANKS = ['<blk>', '<eps>', '<blank>'];
const MAX_TOKENS_BYTES = 64 * 1024 * 1024;

/**
 * Parses tokens.txt: one `<symbol> <id>` per line (the symbol may be a lone space, written as a
 * line holding only the id). Throws {@link ModelError} naming the first bad line.
 *
 * @param path - the tokens file.
 * @returns the symbols by id.
 */
async function readTokens(path: string): Promise<Map<string, number>> {
  const text = await readFile(path, 'utf8');
  const tokens = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '');
    if (line.trim() === '') continue;
    const m = /^(.*?)[ \t]*(-?\d+)$/.exec(line);
    const id = m ? Number(m[2]) : NaN;
    if (!m || !Number.isSafeInteger(id) || id < 0) {
      throw new ModelError(`${path} line ${i + 1} is not "<symbol> <id>": ${JSON.stringify(line.slice(0, 80))}`, { path });
    }
    tokens.set(m[1] === '' ? ' ' : (m[1] as string), id);
  }
  if (tokens.size === 0) throw new ModelError(`${path} holds no tokens`, { path });
  return tokens;
}

/**
 * sha256 of a file, streamed.
 * @param path - the file.
 * @param abortSignal - cancels hashing.
 */
export async function sha256File(path: string, abortSignal?: AbortSignal): Promise<string> {
  throwIfAborted(abortSignal);
  const hash = createHash('sha256');
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const onAbort = (): void => void stream.destroy(new AbortedError());
  abortSignal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream) hash.update(chunk as Buffer);
  } catch (e) {
    throw toAbortError(abortSignal, e);
  } finally {
    abortSignal?.removeEventListener('abort', onAbort);
  }
  return hash.digest('hex');
}

function checkMetadata(model: ResolvedModel, role: string, header: OnnxHeader, path: string): void {
  const { kind, family } = model.manifest;
  const spec = familySpec(kind, family);
  if (!spec) return;
  const label = `${kind} ${family}`;
  for (const rule of spec.metadata.filter((r) => r.role === role)) {
    const md = header.metadata;
    const keys = [...rule.keys];
    const modelType = md.get('model_type');
    if (rule.keysByModelType && modelType !== undefined) keys.push(...(rule.keysByModelType[modelType] ?? []));
    for (const key of keys) {
      if (!md.has(key)) {
        const hint = md.size === 0 ? ' (the file has no metadata at all)' : modelType !== undefined ? ` (its model_type is "${modelType}": is the family right?)` : '';
        throw new ModelError(
          `${path}: ONNX metadata key "${key}" is missing, but sherpa-onnx's ${label} loader needs it${hint}; this file is not a ${label} ${role === 'model' ? 'model' : `${role} model`}`,
          { path },
        );
      }
    }
    if (rule.modelTypes && !rule.modelTypes.includes(modelType ?? '')) {
      throw new ModelError(
        `${path}: ONNX metadata model_type is "${modelType ?? ''}", but a ${label} model needs one of ${rule.modelTypes.join(', ')}; is the family right?`,
        { path },
      );
    }
    const framework = md.get('framework');
    if (rule.frameworks && !rule.frameworks.includes(framework ?? '')) {
      throw new ModelError(`${path}: ONNX metadata framework is "${framework ?? ''}", but sherpa-onnx needs one of ${rule.frameworks.join(', ')}`, { path });
    }
    const sr = md.get('sample_rate');
    if (kind === 'speaker-embedding' && sr !== undefined && Number(sr) !== model.manifest.sampleRate) {
      throw new ModelError(`${path}: the model's metadata says sample_rate ${sr}, but the manifest says sampleRate ${model.manifest.sampleRate}`, { path });
    }
  }
}

/**
 * sherpa-onnx looks every id the model emits up in tokens.txt with `std::unordered_map::at`: an id
 * without a symbol throws `_Map_base::at` in the middle of a decode. Every id below the model's
 * `vocab_size` must therefore have a symbol.
 */
function checkVocabulary(tokensPath: string, tokens: Map<string, number>, vocab: readonly { role: string; path: string; size: number }[]): void {
  if (vocab.length === 0) return;
  const ids = new Set(tokens.values());
  for (const v of vocab) {
    let missing = 0;
    let first = -1;
    for (let id = 0; id < v.size; id++) {
      if (!ids.has(id)) {
        missing++;
        if (first < 0) first = id;
      }
    }
    if (missing > 0) {
      throw new ModelError(
        `${tokensPath} has ${tokens.size} tokens, too few for the model: ${v.path} says vocab_size ${v.size}, and ${missing} id${missing === 1 ? '' : 's'} below it (first: ${first}) ha${missing === 1 ? 's' : 've'} no symbol; is this the model's own tokens.txt?`,
        { path: tokensPath },
      );
    }
  }
}

/**
 * Checks a model before it is loaded: manifest shape, kind/family, files per role (exist, regular
 * files, not empty), every ONNX file's top level (not truncated, not a Git LFS pointer, has a
 * graph) and the metadata keys its family's loader reads, tokens.txt syntax (a blank symbol for CTC and
 * transducer families, a symbol for every id below the model's `vocab_size`), and optionally the sha256 entries. Throws a
 * {@link ModelError} whose `path` names the offending file.
 *
 * @param model - from {@link resolveModel}.
 * @param options - `checksums`, `abortSignal`.
 */
export async function validateModel(model: ResolvedModel, options: ValidateOptions = {}): Promise<void> {
  const { checksums = false, abortSignal } = { ...options };
  throwIfAborted(abortSignal);
  const manifest = checkManifest(model.manifest, join(model.dir, 'model.json'));
  const spec = familySpec(manifest.kind, manifest.family);
  if (!spec) throw new ModelError(`Unknown family ${manifest.family} for ${manifest.kind}`, { path: model.dir });

  const pathOf = (role: string): string => model.paths[role] ?? join(model.dir, manifest.files[role] as string);
  for (const role of Object.keys(manifest.files)) {
    const p = pathOf(role);
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      throw new ModelError(`${manifest.name}: the ${role} file ${p} is missing (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`, { path: p, cause: e });
    }
    if (!st.isFile()) throw new ModelError(`${manifest.name}: the ${role} path ${p} is not a regular file`, { path: p });
    if (st.size === 0) throw new ModelError(`${manifest.name}: the ${role} file ${p} is empty (0 bytes)`, { path: p });
  }

  /** `vocab_size` from each ONNX file's metadata that states one: tokens.txt must name every id below it. */
  const vocab: { role: string; path: string; size: number }[] = [];
  for (const role of spec.onnxRoles) {
    throwIfAborted(abortSignal);
    const p = pathOf(role);
    const header = await readOnnxHeader(p);
    checkMetadata({ ...model, manifest }, role, header, p);
    const v = header.metadata.get('vocab_size');
    if (v !== undefined && /^\d+$/.test(v.trim())) vocab.push({ role, path: p, size: Number(v) });
  }

  if (manifest.files.tokens !== undefined) {
    const p = pathOf('tokens');
    const st = await stat(p);
    if (st.size > MAX_TOKENS_BYTES) throw new ModelError(`${p} is ${st.size} bytes: too large for a tokens file`, { path: p });
    const head = Buffer.alloc(Math.min(st.size, 64));
    const fh = await open(p, 'r');
    try {
      await fh.read(head, 0, head.length, 0);
    } finally {
      await fh.close();
    }
    if (head.toString('latin1').startsWith('version https://git-lfs.github.com/spec/')) {
      throw new ModelError(`${p} is a Git LFS pointer, not the tokens file: fetch it with \`git lfs pull\``, { path: p });
    }
    const tokens = await readTokens(p);
    if (spec.needsBlank && !BLANKS.some((b) => tokens.has(b))) {
      throw new ModelError(
        `${p} has no blank symbol (${BLANKS.join(', ')}), which sherpa-onnx's ${manifest.kind} ${manifest.family} decoder requires`,
        { path: p },
      );
    }
    checkVocabulary(p, tokens, vocab);
  }

  if (checksums && manifest.sha256) {
    for (const [rel, expected] of Object.entries(manifest.sha256)) {
      const p = join(model.dir, rel);
      let actual: string;
      try {
        actual = await sha256File(p, abortSignal);
      } catch (e) {
        if (AbortedError.isInstance(e)) throw e;
        throw new ModelError(`${manifest.name}: can't read ${p} to verify its checksum`, { path: p, cause: e });
      }
      if (actual !== expected) {
        throw new ModelError(`${p} failed its checksum: sha256 is ${actual}, the manifest expects ${expected}`, { path: p });
      }
    }
  }
}
