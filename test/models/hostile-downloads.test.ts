import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionTimeoutError, InvalidArgumentError, ModelError } from '../../src/errors/index.js';
import { checkModelId, downloadFile, installModel, type CatalogEntry } from '../../src/models/index.js';
import { runCli } from '../helpers/cli.js';
import { OFFLINE_MODEL } from '../helpers/shared.js';
import { makeTarBz2, tempDir } from './helpers.js';

/** A loopback server whose handler is the test's. */
async function serve(handler: (path: string, res: ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const open = new Set<Socket>();
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
    const hostile = [
      '../victim', '../../victim', 'a/b', 'a\\b', '..\\x', '/abs', 'C:\\x', 'C:x', '.', '..', '', 'x\0y', '-rf', 'a'.repeat(129), ' space', 'tab\t',
      // Windows: a trailing dot is dropped (`a.` is `a`), device names are no folders.
      'a.', 'CON', 'nul', 'Nul.txt', 'com1', 'LPT9.tar.bz2', 'aux',
    ];
    for (const bad of hostile) {
      expect(() => checkModelId(bad), JSON.stringify(bad)).toThrow(InvalidArgumentError);
      // The entry's URL points at a closed port: a refusal that came too late would be a ConnectionError.
      const err = await installModel(bad, { entry: entry(bad, 'http://127.0.0.1:9/a.tar.bz2'), cacheDir: join(root, 'ids'), force: true }).catch((e: unknown) => e);
      expect(InvalidArgumentError.isInstance(err), `${JSON.stringify(bad)}: ${String(err)}`).toBe(true);
      // A good id with a hostile entry id (a custom catalog) is refused too.
      const viaEntry = await installModel('fine', { entry: entry(bad, 'http://127.0.0.1:9/a.tar.bz2'), cacheDir: join(root, 'ids') }).catch((e: unknown) => e);
      expect(InvalidArgumentError.isInstance(viaEntry), `entry ${JSON.stringify(bad)}: ${String(viaEntry)}`).toBe(true);
    }
    // …and a download URL whose file name is not a name.
    for (const url of ['http://127.0.0.1:9/', 'http://127.0.0.1:9/..%2F..%2Fx.tar.bz2', 'http://127.0.0.1:9/a/%2e%2e', 'http://127.0.0.1:9/con.tar.bz2']) {
      const err = await installModel('fine', { entry: entry('fine', url), cacheDir: join(root, 'ids') }).catch((e: unknown) => e);
      expect(InvalidArgumentError.isInstance(err), `${url}: ${String(err)}`).toBe(true);
    }
    expect(existsSync(join(root, 'ids'))).toBe(false);
    for (const good of ['silero-vad_v5.1', 'whisper-tiny.en', 'console', 'com10', 'a'.repeat(128)]) expect(checkModelId(good)).toBe(good);

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
        while (!res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) break;
        }
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    try {
      const dest = join(root, 'endless', 'm.onnx');
      let most = 0;
      const err = await downloadFile(`${srv.url}/endless`, dest, { maxBytes: 1_000_000, onProgress: (p) => void (most = Math.max(most, p.receivedBytes)) }).catch((e: unknown) => e);
      expect(ModelError.isInstance(err), String(err)).toBe(true);
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(1_000_000); // never more than the cap on disk
      expect(sent).toBeGreaterThan(1_000_000); // the server did send past the cap: the cap stopped it
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

  it('a refused manifest, a refused archive or an unreadable one leaves neither models/<id> nor the download behind', async () => {
    const archives: Record<string, { file: string; why: RegExp }> = {
      'bad-manifest': { file: join(root, 'bad-manifest.tar.bz2'), why: /unknown family "no-such-family"/ },
      'escaping-manifest': { file: join(root, 'escaping-manifest.tar.bz2'), why: /"files.model" must be a relative path inside the model folder/ },
      traversal: { file: join(root, 'traversal.tar.bz2'), why: /leaves the folder/ },
      garbage: { file: join(root, 'garbage.tar.bz2'), why: /not a valid bzip2 archive|could not be extracted/ },
    };
    await makeTarBz2(archives['bad-manifest']!.file, [
      { name: 'm/model.json', content: '{"name":"m","kind":"offline","family":"no-such-family","files":{"model":"model.onnx"}}' },
      { name: 'm/model.onnx', content: Buffer.alloc(100) },
    ]);
    // `..\\outside.onnx` is harmless on Linux and outside the folder on Windows: refused everywhere.
    await makeTarBz2(archives['escaping-manifest']!.file, [
      {
        name: 'm/model.json',
        content: JSON.stringify({ name: 'm', kind: 'offline', family: 'zipformer_ctc', files: { model: '..\\outside.onnx', tokens: 'tokens.txt' }, sampleRate: 16000 }),
      },
      { name: 'm/tokens.txt', content: 'a 0\n' },
    ]);
    await makeTarBz2(archives.traversal!.file, [
      { name: 'm/model.onnx', content: Buffer.alloc(100) },
      { name: 'm/../../../escaped.txt', content: 'out' },
    ]);
    await writeFile(archives.garbage!.file, 'not bzip2 at all');
    const srv = await serve((p, res) => void readFile(archives[p.slice(1).replace('.tar.bz2', '')]!.file).then((b) => res.end(b)));
    try {
      const cacheDir = join(root, 'refused');
      for (const [name, { why }] of Object.entries(archives)) {
        const err = await installModel(name, { entry: entry(name, `${srv.url}/${name}.tar.bz2`, { files: undefined, family: '' }), cacheDir }).catch((e: unknown) => e);
        expect(ModelError.isInstance(err), `${name}: ${String(err)}`).toBe(true);
        expect(String(err), name).toMatch(why);
        expect(await readdir(join(cacheDir, 'models')), name).toEqual([]);
        expect(await readdir(join(cacheDir, 'downloads')), name).toEqual([]);
      }
      expect(existsSync(join(root, 'escaped.txt'))).toBe(false);
      expect((await readdir(cacheDir)).sort()).toEqual(['downloads', 'models']);
    } finally {
      await srv.close();
    }
  });

  it('--force keeps the old install until the new one is verified', async () => {
    let mode: 'good' | 'bad' | 'invalid' = 'good';
    // Extracts fine, but its model is refused (the model file is 10 zero bytes, no ONNX).
    const invalid = join(root, 'force-invalid.tar.bz2');
    await makeTarBz2(invalid, [
      { name: 'm/model.onnx', content: Buffer.alloc(10) },
      { name: 'm/tokens.txt', content: 'a 0\n' },
    ]);
    const srv = await serve((_p, res) => {
      if (mode === 'good') void readFile(archive).then((b) => res.end(b));
      else if (mode === 'invalid') void readFile(invalid).then((b) => res.end(b));
      else res.end('corrupt');
    });
    try {
      const cacheDir = join(root, 'force');
      const e = entry('forced', `${srv.url}/tiny.tar.bz2`);
      const first = await installModel('forced', { entry: e, cacheDir });
      const manifest = await readFile(join(first.dir, 'model.json'), 'utf8');
      for (const m of ['bad', 'invalid'] as const) {
        mode = m;
        await expect(installModel('forced', { entry: e, cacheDir, force: true }), m).rejects.toThrow(ModelError);
        expect(await readFile(join(first.dir, 'model.json'), 'utf8'), m).toBe(manifest);
        expect((await readdir(join(cacheDir, 'models'))).sort(), m).toEqual(['forced']);
        expect(await readdir(join(cacheDir, 'downloads')), m).toEqual([]);
      }
      mode = 'good';
      const again = await installModel('forced', { entry: e, cacheDir, force: true });
      expect(again.dir).toBe(first.dir);
      expect((await readdir(join(cacheDir, 'models'))).sort()).toEqual(['forced']);
    } finally {
      await srv.close();
    }
  });

  it('a --force cut short between its two renames is put back by the next install', async () => {
    // The state a process killed between "old aside" and "new in place" leaves: no models/<id>,
    // the old install under .<id>.previous-<tag>.
    const cacheDir = join(root, 'interrupted');
    const srv = await serve((_p, res) => void readFile(archive).then((b) => res.end(b)));
    let first: Awaited<ReturnType<typeof installModel>>;
    try {
      first = await installModel('cut', { entry: entry('cut', `${srv.url}/tiny.tar.bz2`), cacheDir });
    } finally {
      await srv.close();
    }
    const models = join(cacheDir, 'models');
    await rename(join(models, 'cut'), join(models, '.cut.previous-0badf00d'));
    // No server now: the restored install is returned without a download.
    const again = await installModel('cut', { entry: entry('cut', `${srv.url}/tiny.tar.bz2`), cacheDir });
    expect(again.dir).toBe(first.dir);
    expect(await readdir(models)).toEqual(['cut']);
  });

  it('models download --stall-timeout drops a stalled download (exit 1, typed message) and is validated', async () => {
    let requests = 0;
    const srv = await serve((_p, res) => {
      requests++;
      res.writeHead(200, { 'content-length': '1000000' });
      res.write(Buffer.alloc(1000)); // then nothing, connection held open
    });
    try {
      const cacheDir = join(root, 'cli-stall');
      const r = await runCli(['models', 'download', 'x', '--url', `${srv.url}/x.tar.bz2`, '--cache-dir', cacheDir, '--stall-timeout', '0.2', '--progress', 'none']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/stalled: no data for 0.2 s/);
      expect(requests).toBe(3); // the first try and 2 retries
      // What arrived is kept for a resume, and nothing else.
      expect((await readdir(join(cacheDir, 'downloads'))).sort()).toEqual(['x.tar.bz2.partial', 'x.tar.bz2.partial.json']);
      expect(await readdir(join(cacheDir, 'models'))).toEqual([]);
      for (const bad of ['0', '-1', 'soon']) {
        const b = await runCli(['models', 'download', 'x', '--url', `${srv.url}/x.tar.bz2`, '--cache-dir', cacheDir, '--stall-timeout', bad]);
        expect(b.code, bad).toBe(2);
        expect(b.stderr).toMatch(/--stall-timeout must be a positive number/);
      }
    } finally {
      await srv.close();
    }
  });

  it('models download --max-size is validated and applied', async () => {
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
