/**
 * The `model.json` manifest that describes a model folder, and its parser.
 * @module
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { ModelError } from '../errors/index.js';
import { familySpec, kindsOfFamily, FAMILIES } from './families.js';

/** What a model is for. */
export type ModelKind = 'offline' | 'streaming' | 'vad' | 'speaker-embedding';

/** Every {@link ModelKind}. */
export const MODEL_KINDS: readonly ModelKind[] = ['offline', 'streaming', 'vad', 'speaker-embedding'];

/**
 * The `model.json` manifest of a model folder.
 *
 * ```json
 * { "name": "tiny-ctc-en-offline", "kind": "offline", "family": "zipformer_ctc",
 *   "files": { "model": "model.onnx", "tokens": "tokens.txt" }, "sampleRate": 16000,
 *   "languages": ["en"], "sha256": { "model.onnx": "5732…" } }
 * ```
 */
export interface ModelManifest {
  /** Name of the model (by convention, its folder name). */
  readonly name: string;
  /** What the model is for. */
  readonly kind: ModelKind;
  /**
   * sherpa-onnx model family, in snake case, read together with `kind`: offline `zipformer_ctc`
   * (alias `zipformer2_ctc`), `nemo_ctc`, `transducer`, `whisper`, `moonshine`, `sense_voice`,
   * `paraformer`; streaming `transducer`, `zipformer2_ctc` (alias `zipformer_ctc`), `nemo_ctc`;
   * vad `silero_vad`; speaker-embedding `3d_speaker` (alias `wespeaker`).
   */
  readonly family: string;
  /** File per role (`model`, `tokens`, `encoder`, `decoder`, `joiner`, …), relative to the folder. */
  readonly files: Readonly<Record<string, string>>;
  /** Sample rate the model expects, in Hz. */
  readonly sampleRate: number;
  /** Languages (ISO 639-1 codes) the model recognises. */
  readonly languages?: readonly string[] | undefined;
  /** Expected sha256 (lower-case hex) per relative path. */
  readonly sha256?: Readonly<Record<string, string>> | undefined;
}

/** File name of the manifest inside a model folder. */
export const MANIFEST_FILE = 'model.json';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether `rel` is a relative path that stays inside its folder. */
function isSafeRelativePath(rel: string): boolean {
  if (rel === '' || isAbsolute(rel) || rel.includes('\0') || /^[A-Za-z]:/.test(rel)) return false;
  // A backslash is a separator on Windows: `..\x` must not pass on Linux and escape there.
  const n = normalize(rel.replace(/\\/g, '/'));
  return n !== '..' && !n.startsWith(`..${sep}`) && !n.startsWith('../') && n !== '.' && !isAbsolute(n);
}

/**
 * Checks a parsed manifest and returns it typed. Every problem becomes a {@link ModelError} that
 * names the field and the file.
 *
 * @param value - the parsed JSON.
 * @param where - path of the manifest, for messages.
 */
export function checkManifest(value: unknown, where: string): ModelManifest {
  const fail = (msg: string): never => {
    throw new ModelError(`${where}: ${msg}`, { path: where });
  };
  if (!isRecord(value)) return fail(`the manifest must be a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  const { name, kind, family, files, sampleRate, languages, sha256 } = value;
  if (typeof name !== 'string' || name.trim() === '') fail(`"name" must be a non-empty string, got ${JSON.stringify(name)}`);
  if (typeof kind !== 'string' || !(MODEL_KINDS as readonly string[]).includes(kind)) {
    fail(`"kind" must be one of ${MODEL_KINDS.map((k) => `"${k}"`).join(', ')}, got ${JSON.stringify(kind)}`);
  }
  const k = kind as ModelKind;
  if (typeof family !== 'string' || family === '') fail(`"family" must be a non-empty string, got ${JSON.stringify(family)}`);
  const fam = family as string;
  const spec = familySpec(k, fam);
  if (!spec) {
    const kinds = kindsOfFamily(fam);
    if (kinds.length > 0) {
      fail(`family "${fam}" is not a ${k} family (it exists as ${kinds.join(', ')}); "kind" and "family" don't match`);
    }
    fail(`unknown family "${fam}" for kind "${k}"; known: ${Object.keys(FAMILIES[k]).join(', ')}`);
  }
  if (!isRecord(files)) return fail(`"files" must be an object mapping roles to relative paths, got ${JSON.stringify(files)}`);
  for (const [role, rel] of Object.entries(files)) {
    if (typeof rel !== 'string') fail(`"files.${role}" must be a string path, got ${JSON.stringify(rel)}`);
    if (!isSafeRelativePath(rel as string)) fail(`"files.${role}" must be a relative path inside the model folder, got ${JSON.stringify(rel)}`);
  }
  for (const role of spec!.roles) {
    if (files[role] === undefined) fail(`family "${fam}" (${k}) needs a "${role}" file, but "files" has only ${Object.keys(files).join(', ') || 'nothing'}`);
  }
  if (typeof sampleRate !== 'number' || !Number.isInteger(sampleRate) || sampleRate <= 0) {
    fail(`"sampleRate" must be a positive whole number of Hz, got ${JSON.stringify(sampleRate)}`);
  }
  if (languages !== undefined && (!Array.isArray(languages) || languages.some((l) => typeof l !== 'string'))) {
    fail(`"languages" must be an array of strings, got ${JSON.stringify(languages)}`);
  }
  if (sha256 !== undefined) {
    if (!isRecord(sha256)) fail(`"sha256" must be an object mapping relative paths to hex digests, got ${JSON.stringify(sha256)}`);
    for (const [rel, hex] of Object.entries(sha256 as Record<string, unknown>)) {
      if (!isSafeRelativePath(rel)) fail(`"sha256" key ${JSON.stringify(rel)} must be a relative path inside the model folder`);
      if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) fail(`"sha256.${rel}" must be 64 hex digits, got ${JSON.stringify(hex)}`);
    }
  }
  return {
    name: name as string,
    kind: k,
    family: fam,
    files: { ...(files as Record<string, string>) },
    sampleRate: sampleRate as number,
    ...(languages !== undefined ? { languages: [...(languages as string[])] } : {}),
    ...(sha256 !== undefined
      ? { sha256: Object.fromEntries(Object.entries(sha256 as Record<string, string>).map(([p, h]) => [p, h.toLowerCase()])) }
      : {}),
  };
}

/**
 * Parses the text of a `model.json`.
 * @param text - file contents.
 * @param where - its path, for messages.
 */
export function parseManifest(text: string, where: string): ModelManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ModelError(`${where} is not valid JSON: ${(e as Error).message}`, { path: where, cause: e });
  }
  return checkManifest(value, where);
}

/**
 * Reads and checks the `model.json` of a model folder, blocking (for synchronous loaders).
 * @param dir - the model folder.
 * @throws ModelError naming the manifest's path when it can't be read, isn't JSON or is invalid.
 * @internal
 */
export function readManifestSync(dir: string): ModelManifest {
  const where = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(where, 'utf8');
  } catch (e) {
    throw new ModelError(`${where} can't be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { path: where, cause: e });
  }
  return parseManifest(text, where);
}
