/**
 * A minimal, streamed reader of the top level of an ONNX file (a protobuf `ModelProto`). It reads
 * the few small fields hybrid-asr checks (ir_version, producer, opsets, metadata_props) and only
 * seeks over the graph, so validating a 300 MB encoder reads a few kilobytes.
 *
 * `ModelProto` fields used: ir_version = 1 (varint), producer_name = 2, graph = 7,
 * opset_import = 8, metadata_props = 14 (`StringStringEntryProto { key = 1; value = 2; }`).
 *
 * @module
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ModelError } from '../errors/index.js';

/** What the top level of an ONNX file says. */
export interface OnnxHeader {
  /** `ir_version`. */
  readonly irVersion: number;
  /** `producer_name` (e.g. "pytorch"), empty when absent. */
  readonly producerName: string;
  /** Whether the file has a `graph` field. */
  readonly hasGraph: boolean;
  /** Size of the graph field in bytes. */
  readonly graphBytes: number;
  /** `opset_import` domains and versions (the default domain is ""). */
  readonly opsets: readonly { readonly domain: string; readonly version: number }[];
  /** `metadata_props` as a map (sherpa-onnx reads its model parameters from here). */
  readonly metadata: ReadonlyMap<string, string>;
  /** File size in bytes. */
  readonly fileBytes: number;
}

/** One top-level protobuf field: where it starts (its key), where its payload lies. @internal */
interface TopLevelField {
  readonly field: number;
  readonly wireType: number;
  /** Offset of the field's key. */
  readonly start: number;
  /** Offset of the payload (for varints, fixed: the value itself). */
  readonly payloadStart: number;
  /** Offset just past the field. */
  readonly end: number;
}

const LFS_PREFIX = 'version https://git-lfs.github.com/spec/';
/** Non-graph fields larger than this are skipped rather than read into memory. */
const MAX_SMALL_FIELD = 16 * 1024 * 1024;

class Truncated extends Error {}
class Malformed extends Error {}

/** Decodes a varint at `off` in `buf`; returns [value, nextOffset]. Throws Truncated/Malformed. */
function varint(buf: Uint8Array, off: number, limit = buf.length): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (off + i >= limit) throw new Truncated('varint runs past the end');
    const b = buf[off + i] as number;
    result += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) {
      if (!Number.isSafeInteger(result)) throw new Malformed('varint too large');
      return [result, off + i + 1];
    }
  }
  throw new Malformed('varint longer than 10 bytes');
}

/** Iterates the fields of a protobuf message held in memory. */
function* fieldsOf(buf: Uint8Array): Generator<{ field: number; wireType: number; value: number; payload: Uint8Array | undefined }> {
  let off = 0;
  while (off < buf.length) {
    const [key, next] = varint(buf, off);
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (field === 0) throw new Malformed('field number 0');
    off = next;
    if (wireType === 0) {
      const [v, n2] = varint(buf, off);
      off = n2;
      yield { field, wireType, value: v, payload: undefined };
    } else if (wireType === 2) {
      const [len, n2] = varint(buf, off);
      if (n2 + len > buf.length) throw new Truncated('length-delimited field runs past the end');
      yield { field, wireType, value: len, payload: buf.subarray(n2, n2 + len) };
      off = n2 + len;
    } else if (wireType === 1 || wireType === 5) {
      const w = wireType === 1 ? 8 : 4;
      if (off + w > buf.length) throw new Truncated('fixed field runs past the end');
      off += w;
      yield { field, wireType, value: 0, payload: undefined };
    } else {
      throw new Malformed(`unsupported wire type ${wireType}`);
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Bytes read to parse one top-level field's key and length (two varints fit in 20). */
const FIELD_HEAD = 20;

/**
 * Parses the top-level field whose key lies at `pos`, from `head` (the `bytesRead` bytes read
 * there). Throws Truncated/Malformed.
 */
function fieldAt(head: Uint8Array, bytesRead: number, pos: number, size: number): TopLevelField {
  const buf = head.subarray(0, bytesRead);
  let parsed: TopLevelField;
  try {
    const [key, afterKey] = varint(buf, 0);
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (field === 0) throw new Malformed('field number 0 at offset ' + pos);
    let payloadStart: number;
    let end: number;
    if (wireType === 0) {
      const [, n] = varint(buf, afterKey);
      payloadStart = pos + afterKey;
      end = pos + n;
    } else if (wireType === 2) {
      const [len, n] = varint(buf, afterKey);
      payloadStart = pos + n;
      end = payloadStart + len;
    } else if (wireType === 1 || wireType === 5) {
      payloadStart = pos + afterKey;
      end = payloadStart + (wireType === 1 ? 8 : 4);
    } else {
      throw new Malformed(`unsupported protobuf wire type ${wireType} at offset ${pos}`);
    }
    parsed = { field, wireType, start: pos, payloadStart, end };
  } catch (e) {
    if (e instanceof Truncated && bytesRead === FIELD_HEAD) {
      // A varint ran past our 20-byte window although the file goes on: impossible for valid protobuf.
      throw new Malformed(`bad varint at offset ${pos}`);
    }
    throw e;
  }
  // Outside the try: a field running past the end of the file is truncation, not a bad varint.
  if (parsed.end > size) {
    throw new Truncated(`field ${parsed.field} at offset ${pos} needs ${parsed.end - pos} bytes but the file ends after ${size - pos}`);
  }
  return parsed;
}

/** The walk's internal errors as the {@link ModelError} that names the file; other errors as they are. */
function walkError(e: unknown, path: string): unknown {
  if (e instanceof Truncated) {
    // The message says all the internal error does: no `cause` (the CLI would print it again).
    return new ModelError(`${path} is truncated (not a complete ONNX file: ${e.message}); download it again`, { path });
  }
  if (e instanceof Malformed) {
    return new ModelError(`${path} is not an ONNX model (protobuf parse failed: ${e.message})`, { path });
  }
  return e;
}

/**
 * Lists the top-level fields of a protobuf file without reading length-delimited payloads.
 * Throws a {@link ModelError} for a truncated or non-protobuf file.
 * @internal
 */
export async function listTopLevelFields(path: string, handle?: FileHandle): Promise<{ fields: TopLevelField[]; size: number }> {
  const fh = handle ?? (await open(path, 'r'));
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(FIELD_HEAD);
    const fields: TopLevelField[] = [];
    let pos = 0;
    while (pos < size) {
      const { bytesRead } = await fh.read(head, 0, head.length, pos);
      const parsed = fieldAt(head, bytesRead, pos, size);
      fields.push(parsed);
      pos = parsed.end;
    }
    return { fields, size };
  } catch (e) {
    throw walkError(e, path);
  } finally {
    if (handle === undefined) await fh.close();
  }
}

/**
 * Checks, blocking, that `path` is a whole ONNX file before sherpa-onnx may see it (for the
 * synchronous loaders: the diarizers' models, a VAD given by file): it exists and is a file, is
 * not empty or a Git LFS pointer, its top-level protobuf fields run exactly to the end of the file
 * (no truncation), it starts with a valid `ir_version` and has a graph: the same structural rules
 * as {@link readOnnxHeader}, reading a few bytes per top-level field. It does not prove the graph
 * loads; that is `proveSherpaConfigSync`'s job.
 *
 * @param what - names the model in messages ("VAD", "Speaker embedding", "Segmentation").
 * @throws ModelError naming `what` and the path.
 * @internal
 */
export function checkOnnxFileSync(path: string, what: string): void {
  const fail = (problem: string, cause?: unknown): never => {
    throw new ModelError(`${what} model ${problem}: ${path}`, cause === undefined ? { path } : { path, cause });
  };
  let fd: number;
  let size = 0;
  try {
    const st = statSync(path);
    if (!st.isFile()) fail('is not a file');
    size = st.size;
    fd = openSync(path, 'r');
  } catch (e) {
    if (ModelError.isInstance(e)) throw e;
    return fail(`not found (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`, e);
  }
  try {
    if (size === 0) fail('is empty (0 bytes; download it again)');
    const head = Buffer.alloc(Math.min(size, 200));
    readSync(fd, head, 0, head.length, 0);
    if (head.toString('latin1').startsWith(LFS_PREFIX)) fail('is a Git LFS pointer, not the model itself (run `git lfs pull`)');
    const buf = Buffer.alloc(FIELD_HEAD);
    let pos = 0;
    let irVersion: number | undefined;
    let graph = false;
    try {
      while (pos < size) {
        const bytesRead = readSync(fd, buf, 0, buf.length, pos);
        const f = fieldAt(buf, bytesRead, pos, size);
        if (pos === 0 && f.field === 1 && f.wireType === 0) irVersion = varint(buf, f.payloadStart - pos)[0];
        if (f.field === 7 && f.wireType === 2 && f.end > f.payloadStart) graph = true;
        pos = f.end;
      }
    } catch (e) {
      if (e instanceof Truncated) fail(`is truncated, not a complete ONNX file (${e.message}; download it again)`);
      if (e instanceof Malformed) fail(`is not a valid ONNX file, corrupt (protobuf parse failed: ${e.message})`);
      throw e;
    }
    if (irVersion === undefined || irVersion < 1 || irVersion > 100) fail(`is not a valid ONNX file (no valid ir_version at its start; got ${String(irVersion)})`);
    if (!graph) fail('is not a usable ONNX file: it has no graph');
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the top level of an ONNX file, streaming: the graph is skipped, never loaded.
 *
 * @param path - the `.onnx` file.
 * @returns its header; throws {@link ModelError} when the file is empty, a Git LFS pointer,
 *   truncated, not protobuf, or has no graph.
 */
export async function readOnnxHeader(path: string): Promise<OnnxHeader> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new ModelError(`Model file ${path} can't be opened: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { path, cause: e });
  }
  try {
    const size = (await fh.stat()).size;
    if (size === 0) throw new ModelError(`Model file ${path} is empty (0 bytes); download it again`, { path });
    const probe = Buffer.alloc(Math.min(size, 200));
    await fh.read(probe, 0, probe.length, 0);
    if (probe.toString('latin1').startsWith(LFS_PREFIX)) {
      throw new ModelError(
        `Model file ${path} is a Git LFS pointer (${size} bytes of text), not the model itself: fetch it with \`git lfs pull\` or download the release archive`,
        { path },
      );
    }
    const { fields } = await listTopLevelFields(path, fh);
    let irVersion: number | undefined;
    let producerName = '';
    let graphBytes = -1;
    const opsets: { domain: string; version: number }[] = [];
    const metadata = new Map<string, string>();
    for (const f of fields) {
      const len = f.end - f.payloadStart;
      if (f.field === 1 && f.wireType === 0) {
        const b = Buffer.alloc(f.end - f.payloadStart);
        await fh.read(b, 0, b.length, f.payloadStart);
        irVersion = varint(b, 0)[0];
      } else if (f.field === 7 && f.wireType === 2) {
        graphBytes = len;
      } else if ((f.field === 2 || f.field === 8 || f.field === 14) && f.wireType === 2 && len <= MAX_SMALL_FIELD) {
        const b = Buffer.alloc(len);
        await fh.read(b, 0, len, f.payloadStart);
        try {
          if (f.field === 2) producerName = utf8.decode(b);
          else if (f.field === 8) {
            let domain = '';
            let version = 0;
            for (const g of fieldsOf(b)) {
              if (g.field === 1 && g.payload) domain = utf8.decode(g.payload);
              if (g.field === 2 && g.wireType === 0) version = g.value;
            }
            opsets.push({ domain, version });
          } else {
            let key: string | undefined;
            let value = '';
            for (const g of fieldsOf(b)) {
              if (g.field === 1 && g.payload) key = utf8.decode(g.payload);
              if (g.field === 2 && g.payload) value = utf8.decode(g.payload);
            }
            if (key !== undefined) metadata.set(key, value);
          }
        } catch (e) {
          throw new ModelError(`${path} is not a valid ONNX model (field ${f.field} at offset ${f.start} is malformed)`, { path, cause: e });
        }
      } else if ([1, 2, 7, 8, 14].includes(f.field)) {
        throw new ModelError(`${path} is not an ONNX model (field ${f.field} has wire type ${f.wireType})`, { path });
      }
    }
    if (irVersion === undefined || irVersion < 1 || irVersion > 100) {
      throw new ModelError(`${path} is not an ONNX model (no valid ir_version; got ${String(irVersion)})`, { path });
    }
    if (graphBytes <= 0) {
      throw new ModelError(`${path} is not a usable ONNX model: it has no graph`, { path });
    }
    return { irVersion, producerName, hasGraph: true, graphBytes, opsets, metadata, fileBytes: size };
  } finally {
    await fh.close();
  }
}
