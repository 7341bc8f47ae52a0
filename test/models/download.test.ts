import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AbortedError, ConnectionError, ModelError } from '../../src/errors/index.js';
import { downloadFile } from '../../src/models/index.js';
import { describeWithAssets, OFFLINE_MODEL, VAD_MODEL } from '../helpers/shared.js';
import { serveFiles, tempDir } from './helpers.js';

const SRC = join(OFFLINE_MODEL, 'model.onnx');
const SRC_SHA = '57321da60d8e99cbe70944334bc51b5429aefe8d52226d68ae01709f31cb25e8';

describeWithAssets([OFFLINE_MODEL, VAD_MODEL])('downloadFile (loopback server)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('downloads with progress and a verified sha256, atomically', async () => {
    const srv = await serveFiles({ '/m.onnx': SRC });
    try {
      const seen: number[] = [];
      const dest = join(dir, 'sub', 'm.onnx');
      const r = await downloadFile(`${srv.baseUrl}/m.onnx`, dest, { sha256: SRC_SHA, onProgress: (p) => seen.push(p.receivedBytes) });
      expect(r).toMatchObject({ path: dest, sha256: SRC_SHA, bytes: 8510461, resumedFrom: 0 });
      expect(seen.length).toBeGreaterThan(2);
      expect(seen.at(-1)).toBe(8510461);
      expect(seen.every((v, i) => i === 0 || v >= (seen[i - 1] as number))).toBe(true);
      expect(existsSync(`${dest}.partial`)).toBe(false);
      expect(createHash('sha256').update(await readFile(dest)).digest('hex')).toBe(SRC_SHA);
    } finally {
      await srv.close();
    }
  });

  it('resumes an interrupted download with a Range request (within one call, by retrying)', async () => {
    const srv = await serveFiles({ '/m.onnx': SRC }, { cutAfterBytes: 3_000_000, etag: true });
    try {
      const dest = join(dir, 'm.onnx');
      const r = await downloadFile(`${srv.baseUrl}/m.onnx`, dest, { sha256: SRC_SHA, retries: 2 });
      expect(r.sha256).toBe(SRC_SHA);
      expect(srv.requests).toHaveLength(2);
      expect(srv.requests[1]?.range).toMatch(/^bytes=\d+-$/);
      expect(Number(/\d+/.exec(srv.requests[1]?.range ?? '')?.[0])).toBeGreaterThan(0);
      expect(srv.requests[1]?.ifRange).toBe('"v1"');
      expect(r.resumedFrom).toBe(0);
    } finally {
      await srv.close();
    }
  });

  it('keeps the .partial after a failed attempt and resumes it in a later call', async () => {
    const srv = await serveFiles({ '/m.onnx': SRC }, { cutAfterBytes: 2_000_000 });
    try {
      const dest = join(dir, 'm.onnx');
      const err = await downloadFile(`${srv.baseUrl}/m.onnx`, dest, { retries: 0 }).catch((e: unknown) => e);
      expect(ConnectionError.isInstance(err)).toBe(true);
      const partial = (await stat(`${dest}.partial`)).size;
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThanOrEqual(2_000_000);
      const r = await downloadFile(`${srv.baseUrl}/m.onnx`, dest, { sha256: SRC_SHA });
      expect(r.resumedFrom).toBe(partial);
      expect(srv.requests.at(-1)?.range).toBe(`bytes=${partial}-`);
      expect(r.sha256).toBe(SRC_SHA);
    } finally {
      await srv.close();
    }
  });

  it('starts over cleanly when the server ignores Range (200)', async () => {
    const srv = await serveFiles({ '/m.onnx': SRC }, { ignoreRange: true });
    try {
      const dest = join(dir, 'm.onnx');
      // A stale partial: the first 1000 bytes of something else.
      await writeFile(`${dest}.partial`, Buffer.alloc(1000, 7));
      await writeFile(`${dest}.partial.json`, JSON.stringify({ url: `${srv.baseUrl}/m.onnx` }));
      const r = await downloadFile(`${srv.baseUrl}/m.onnx`, dest, { sha256: SRC_SHA });
      expect(srv.requests[0]?.range).toBe('bytes=1000-');
      expect(r.resumedFrom).toBe(0);
      expect(r.bytes).toBe(8510461);
      expect(r.sha256).toBe(SRC_SHA);
    } finally {
      await srv.close();
    }
  });

  it('rejects a wrong checksum with ModelError and leaves no file', async () => {
    const srv = await serveFiles({ '/v.onnx': join(VAD_MODEL, 'silero_vad.onnx') });
    try {
      const dest = join(dir, 'v.onnx');
      const err = await downloadFile(`${srv.baseUrl}/v.onnx`, dest, { sha256: 'ab'.repeat(32) }).catch((e: unknown) => e);
      expect(ModelError.isInstance(err)).toBe(true);
      expect((err as Error).message).toMatch(/failed its checksum: sha256 is 1a153a22/);
      expect(existsSync(dest)).toBe(false);
      expect(existsSync(`${dest}.partial`)).toBe(false);
    } finally {
      await srv.close();
    }
  });

  it('turns HTTP 404 into a typed error', async () => {
    const srv = await serveFiles({});
    try {
      await expect(downloadFile(`${srv.baseUrl}/nope`, join(dir, 'x'), { retries: 0 })).rejects.toMatchObject({ status: 404 });
    } finally {
      await srv.close();
    }
  });

  it('aborts mid-download with AbortedError and keeps the .partial for a resume', async () => {
    const srv = await serveFiles({ '/m.onnx': SRC }, { slowMs: 5 });
    try {
      const dest = join(dir, 'm.onnx');
      const ac = new AbortController();
      const err = await downloadFile(`${srv.baseUrl}/m.onnx`, dest, {
        abortSignal: ac.signal,
        onProgress: (p) => {
          if (p.receivedBytes > 200_000) ac.abort();
        },
      }).catch((e: unknown) => e);
      expect(AbortedError.isInstance(err), String(err)).toBe(true);
      expect((await stat(`${dest}.partial`)).size).toBeGreaterThan(200_000);
      expect(existsSync(dest)).toBe(false);
    } finally {
      await srv.close();
    }
  });

  it('an already-aborted signal opens no connection', async () => {
    const srv = await serveFiles({ '/m.onnx': SRC });
    try {
      await expect(downloadFile(`${srv.baseUrl}/m.onnx`, join(dir, 'm'), { abortSignal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
      expect(srv.requests).toHaveLength(0);
    } finally {
      await srv.close();
    }
  });
});
