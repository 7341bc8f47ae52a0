import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionTimeoutError, InvalidArgumentError, ModelError } from '../../src/errors/index.js';
import { checkModelId, downloadFile, installModel, type CatalogEntry } from '../../src/models/index.js';
import { runCli } from '../helpers/cli.js';
import { OFFLINE_MODEL } from '../helpers/shared.js';
import { makeTarBz2, tempDir } from './helpers.js';

/** A loopback server whose handler is the test's. */
async function serve(handler: (path: string, res: ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const open = new Set<import('node:net').Socket>();
  const server: Server = createServer((req, res) => handler(req.url ?? '/', res));
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}

const entry = (id: string, url: string, extra: Partial<CatalogEntry> = {}): CatalogEntry => ({
  id,
  family: 'zipformer_ctc',
  kind: 'offline',
  url,
  sizeBytes: 0,
  sha256: undefined,
  languages: ['en'],
  description: 'test',
  files: { model: 'model.onnx', tokens: 'tokens.txt' },
  ...extra,
});

describe('hostile downloads', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let archive: string;
  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir('hybrid-asr-hostile-'));
    const stage = join(root, 'stage', 'sherpa-onnx-tiny');
    await mkdir(stage, { recursive: true });
    for (const f of ['model.onnx', 'tokens.txt']) await symlink(join(OFFLINE_MODEL, f), join(stage, f));
    archive = join(root, 'tiny.tar.bz2');
    execFileSync('tar', ['cjhf', archive, '-C', dirname(stage), 'sherpa-onnx-tiny']);
  });
  afterAll(async () => cleanup());

  it('ids are names, not paths: refused before anything on disk changes', async () => {
    for (const bad of ['../victim', '../../victim', 'a/b', 'a\\b', '/abs', '.', '..', '', 'x\0y', '-rf', 'a'.repeat(129), ' space']) {
      expect(() => checkModelId(bad), JSON.stringify(bad)).toThrow(InvalidArgumentError);
      const err = await installModel(bad, { entry: entry(bad, 'http://127.0.0.1:9/a.tar.bz2'), cacheDir: join(root, 'ids') }).catch((e: unknown) => e);
      expect(InvalidArgumentError.isInstance(err) || (bad === '' && InvalidArgumentError.isInstance(err)), `${JSON.stringify(bad)}: ${String(err)}`).toBe(true);
    }
    expect(existsSync(join(root, 'ids'))).toBe(false);
    expect(checkModelId('silero-vad_v5.1')).toBe('silero-vad_v5.1');

    // The report's reproduction, through the CLI: C/../victim must survive.
    const victim = join(root, 'victim');
    await mkdir(victim);
    await writeFile(join(victim, 'precious.txt'), 'keep me');
    const srv = await serve((_p, res) => res.end(Buffer.alloc(10)));
    try {
      const r = await runCli(['models', 'download', '../victim', '--url', `${srv.url}/x.tar.bz2`, '--cache-dir', join(root, 'C'), '--force']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/not a valid name.*names, not paths/);
      expect(await readFile(join(victim, 'precious.txt'), 'utf8')).toBe('keep me');
    } finally {
      await srv.close();
    }
  });

  it('a server that stalls mid-body is dropped after the stall timeout, retried, then a ConnectionTimeoutError', async () => {
    let requests = 0;
    const srv = await serve((_p, res) => {
      requests++;
      res.writeHead(200, { 'content-length': '1000000' });
      res.write(Buffer.alloc(1000)); // …and nothing more, connection held open
    });
    try {
      const dest = join(root, 'stall', 'm.onnx');
      const err = await downloadFile(`${srv.url}/m.onnx`, dest, { stallTimeoutMs: 300, retries: 1 }).catch((e: unknown) => e);
      expect(ConnectionTimeoutError.isInstance(err), String(err)).toBe(true);
      expect(String(err)).toMatch(/stalled: no data for 0.3 s/);
      expect(requests).toBe(2);
      // Kept for a resume, never more than what arrived.
      expect((await stat(`${dest}.partial`)).size).toBeLessThanOrEqual(2000);
    } finally {
      await srv.close();
    }
  });

  it('a server that never answers is a ConnectionTimeoutError, not a hang', async () => {
    const srv = await serve(() => {
      /* never answers */
    });
    try {
      const err = await downloadFile(`${srv.url}/m.onnx`, join(root, 'mute', 'm.onnx'), { stallTimeoutMs: 300, retries: 0 }).catch((e: unknown) => e);
      expect(ConnectionTimeoutError.isInstance(err), String(err)).toBe(true);
    } finally {
      await srv.close();
    }
  });

  it('an endless body is cut at the cap and deleted; an announced oversize body is refused unread', async () => {
    let sent = 0;
    const srv = await serve((p, res) => {
      if (p === '/big') {
        res.writeHead(200, { 'content-length': String(10 * 1024 ** 3) });
        res.end();
        return;
      }
      res.writeHead(200); // chunked, no length, forever
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    try {
      const dest = join(root, 'endless', 'm.onnx');
      const err = await downloadFile(`${srv.url}/endless`, dest, { maxBytes: 1_000_000 }).catch((e: unknown) => e);
      expect(ModelError.isInstance(err), String(err)).toBe(true);
      expect(String(err)).toMatch(/larger than the limit of 1000000 bytes/);
      expect(existsSync(`${dest}.partial`)).toBe(false);
      expect(existsSync(dest)).toBe(false);
      const big = await downloadFile(`${srv.url}/big`, join(root, 'endless', 'big.onnx')).catch((e: unknown) => e);
      expect(ModelError.isInstance(big), String(big)).toBe(true);
      expect(String(big)).toMatch(/over the limit|larger than the limit/);
      expect(existsSync(join(root, 'endless', 'big.onnx.partial'))).toBe(false);
      // installModel caps at the catalog's size + 25 %.
      const cacheDir = join(root, 'endless-cache');
      const e2 = await installModel('capped', { entry: entry('capped', `${srv.url}/endless/x.tar.bz2`, { sizeBytes: 200_000 }), cacheDir }).catch((e: unknown) => e);
      expect(String(e2)).toMatch(/larger than the limit of 1298576 bytes/);
      expect(await readdir(join(cacheDir, 'downloads'))).toEqual([]);
      expect(existsSync(join(cacheDir, 'models', 'capped'))).toBe(false);
    } finally {
      await srv.close();
    }
  });

  it('a refused manifest or an unreadable archive leaves neither models/<id> nor the download behind', async () => {
    const bad = join(root, 'bad-manifest.tar.bz2');
    await makeTarBz2(bad, [
      { name: 'm/model.json', content: '{"name":"m","kind":"offline","family":"no-such-family","files":{"model":"model.onnx"}}' },
      { name: 'm/model.onnx', content: Buffer.alloc(100) },
    ]);
    const garbage = join(root, 'garbage.tar.bz2');
    await writeFile(garbage, 'not bzip2 at all');
    const files: Record<string, string> = { '/bad-manifest.tar.bz2': bad, '/garbage.tar.bz2': garbage };
    const srv = await serve((p, res) => void readFile(files[p]!).then((b) => res.end(b)));
    try {
      const cacheDir = join(root, 'refused');
      for (const name of ['bad-manifest', 'garbage']) {
        const err = await installModel(name, { entry: entry(name, `${srv.url}/${name}.tar.bz2`, { files: undefined, family: '' }), cacheDir }).catch((e: unknown) => e);
        expect(ModelError.isInstance(err), `${name}: ${String(err)}`).toBe(true);
        expect(existsSync(join(cacheDir, 'models', name)), name).toBe(false);
        expect((await readdir(join(cacheDir, 'models'))).filter((f) => !f.startsWith('.staging')), name).toEqual([]);
        expect(await readdir(join(cacheDir, 'downloads')), name).toEqual([]);
      }
    } finally {
      await srv.close();
    }
  });

  it('--force keeps the old install until the new one is verified', async () => {
    let mode: 'good' | 'bad' = 'good';
    const srv = await serve((_p, res) => {
      if (mode === 'good') void readFile(archive).then((b) => res.end(b));
      else res.end('corrupt');
    });
    try {
      const cacheDir = join(root, 'force');
      const e = entry('forced', `${srv.url}/tiny.tar.bz2`);
      const first = await installModel('forced', { entry: e, cacheDir });
      const manifest = await readFile(join(first.dir, 'model.json'), 'utf8');
      mode = 'bad';
      await expect(installModel('forced', { entry: e, cacheDir, force: true })).rejects.toThrow(ModelError);
      expect(await readFile(join(first.dir, 'model.json'), 'utf8')).toBe(manifest);
      expect((await readdir(join(cacheDir, 'models'))).sort()).toEqual(['forced']);
      mode = 'good';
      const again = await installModel('forced', { entry: e, cacheDir, force: true });
      expect(again.dir).toBe(first.dir);
      expect((await readdir(join(cacheDir, 'models'))).sort()).toEqual(['forced']);
    } finally {
      await srv.close();
    }
  });

  it('models download --max-size and --stall-timeout are validated and applied', async () => {
    const srv = await serve((_p, res) => {
      res.writeHead(200, { 'content-length': '5000000' });
      res.end(Buffer.alloc(5_000_000));
    });
    try {
      const r = await runCli(['models', 'download', 'x', '--url', `${srv.url}/x.tar.bz2`, '--cache-dir', join(root, 'cli'), '--max-size', '1MB', '--progress', 'none']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/over the limit of 1000000 bytes|larger than the limit of 1000000 bytes/);
      const bad = await runCli(['models', 'download', 'x', '--url', `${srv.url}/x.tar.bz2`, '--max-size', 'lots']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--max-size must be a size/);
    } finally {
      await srv.close();
    }
  });
});
