/** Test helpers for the models tests: temp folders, a loopback file server, bad-model corpus. */
import { execFileSync } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { listTopLevelFields } from '../../src/models/onnx.js';

export async function tempDir(prefix = 'hybrid-asr-models-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface ServedRequest {
  readonly url: string;
  readonly range: string | undefined;
  readonly ifRange: string | undefined;
}

export interface FileServerOptions {
  /** Destroy the socket after sending this many body bytes (once, for the first request only). */
  cutAfterBytes?: number;
  /** Ignore Range headers (always answer 200 with the whole file). */
  ignoreRange?: boolean;
  /** Send an ETag. */
  etag?: boolean;
  /** Delay between chunks, ms. */
  slowMs?: number;
}

/** Serves `files` (url path → file on disk) on 127.0.0.1 with Range support. */
export async function serveFiles(files: Record<string, string>, options: FileServerOptions = {}): Promise<{
  baseUrl: string;
  requests: ServedRequest[];
  server: Server;
  close: () => Promise<void>;
}> {
  const requests: ServedRequest[] = [];
  let cutsLeft = options.cutAfterBytes !== undefined ? 1 : 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] as string);
    requests.push({ url: path, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined });
    const file = files[path];
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    const size = statSync(file).size;
    let start = 0;
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
    if (options.etag) headers.etag = '"v1"';
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !options.ignoreRange) {
      start = Number(m[1]);
      if (start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${size - 1}/${size}`, 'content-length': size - start });
    } else {
      res.writeHead(200, { ...headers, 'content-length': size });
    }
    const stream = createReadStream(file, { start, highWaterMark: 16 * 1024 });
    let sent = 0;
    const cut = cutsLeft > 0 ? (options.cutAfterBytes as number) : undefined;
    if (cut !== undefined) cutsLeft--;
    stream.on('data', (chunk) => {
      const buf = chunk as Buffer;
      if (cut !== undefined && sent + buf.length >= cut) {
        res.write(buf.subarray(0, cut - sent));
        stream.destroy();
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      sent += buf.length;
      const ok = res.write(buf);
      if (options.slowMs) {
        stream.pause();
        setTimeout(() => stream.resume(), options.slowMs);
      } else if (!ok) {
        stream.pause();
        res.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => res.end());
    req.on('close', () => stream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A tar entry for {@link makeTarBz2}. */
export interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  content?: Buffer | string;
  linkname?: string;
}

/** Builds a .tar.bz2 with tar-stream (any entry names, including hostile ones) and the bzip2 binary. */
export async function makeTarBz2(path: string, entries: TarEntry[]): Promise<void> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) {
    const type = e.type ?? 'file';
    if (type === 'file') pack.entry({ name: e.name, type }, typeof e.content === 'string' ? Buffer.from(e.content) : (e.content ?? Buffer.alloc(0)));
    else pack.entry({ name: e.name, type, ...(e.linkname !== undefined ? { linkname: e.linkname } : {}), ...(type === 'character-device' ? { devmajor: 1, devminor: 3 } : {}) });
  }
  pack.finalize();
  await done;
  const bz = execFileSync('bzip2', ['-c', '-1'], { input: Buffer.concat(chunks), maxBuffer: 1 << 30 });
  await writeFile(path, bz);
}

/** Writes `model.onnx` without its metadata_props (field 14), re-encoding the top level. */
export async function stripMetadata(src: string, dest: string): Promise<void> {
  const buf = await readFile(src);
  const { fields } = await listTopLevelFields(src);
  const keep = fields.filter((f) => f.field !== 14).map((f) => buf.subarray(f.start, f.end));
  await writeFile(dest, Buffer.concat(keep));
}

/** Deterministic pseudo-random bytes. */
export function noise(n: number, seed = 12345): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Creates a model folder: `links` are symlinked from real files, `files` written, `manifest` (object or raw text). */
export async function makeModelDir(
  root: string,
  name: string,
  spec: { links?: Record<string, string>; files?: Record<string, Buffer | string>; manifest?: unknown },
): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [rel, target] of Object.entries(spec.links ?? {})) await symlink(target, join(dir, rel));
  for (const [rel, content] of Object.entries(spec.files ?? {})) await writeFile(join(dir, rel), content);
  if (spec.manifest !== undefined) {
    await writeFile(join(dir, 'model.json'), typeof spec.manifest === 'string' ? spec.manifest : JSON.stringify(spec.manifest, null, 2));
  }
  return dir;
}
