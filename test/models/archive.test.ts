import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ModelError } from '../../src/errors/index.js';
import { extractTarBz2, installModel, resolveModel, validateModel, type CatalogEntry } from '../../src/models/index.js';
import { describeWithAssets, OFFLINE_MODEL } from '../helpers/shared.js';
import { makeTarBz2, serveFiles, tempDir } from './helpers.js';

describeWithAssets([OFFLINE_MODEL])('extractTarBz2 and installModel', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir: root, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  const hostile: [string, Parameters<typeof makeTarBz2>[1], RegExp][] = [
    ['dot-dot', [{ name: 'ok.txt', content: 'ok' }, { name: '../evil', content: 'x' }], /leaves the folder/],
    ['nested dot-dot', [{ name: 'a/../../evil', content: 'x' }], /leaves the folder/],
    ['absolute', [{ name: '/abs/evil', content: 'x' }], /absolute path/],
    ['symlink to /etc/passwd', [{ name: 'passwd', type: 'symlink', linkname: '/etc/passwd' }], /symbolic link/],
    ['symlink to ..', [{ name: 'up', type: 'symlink', linkname: '..' }, { name: 'up/evil', content: 'x' }], /symbolic link/],
    ['hardlink outside', [{ name: 'h', type: 'link', linkname: '../../outside' }], /hard link/],
    ['device', [{ name: 'null', type: 'character-device' }], /character-device entry/],
  ];

  for (const [name, entries, expected] of hostile) {
    it(`refuses a hostile archive: ${name}`, async () => {
      const case_ = join(root, name.replace(/\W+/g, '_'));
      await mkdir(case_, { recursive: true });
      const archive = join(case_, 'a.tar.bz2');
      await makeTarBz2(archive, entries);
      const dest = join(case_, 'out', 'dest');
      const err = await extractTarBz2(archive, dest).catch((e: unknown) => e);
      expect(ModelError.isInstance(err), String(err)).toBe(true);
      expect((err as Error).message).toMatch(expected);
      expect(existsSync(dest)).toBe(false);
      expect(await readdir(join(case_, 'out'))).toEqual([]); // temp folder removed
      expect(existsSync(join(case_, 'evil'))).toBe(false);
      expect(existsSync(join(case_, 'out', 'evil'))).toBe(false);
      expect(existsSync('/abs/evil')).toBe(false);
    });
  }

  it('refuses a file that is not bzip2', async () => {
    const archive = join(root, 'not.tar.bz2');
    await makeTarBz2(archive, []);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(archive, 'this is not bzip2 at all');
    await expect(extractTarBz2(archive, join(root, 'nb'))).rejects.toThrow(ModelError);
    expect(existsSync(join(root, 'nb'))).toBe(false);
  });

  it('enforces maxEntries and maxBytes', async () => {
    const archive = join(root, 'bomb.tar.bz2');
    await makeTarBz2(archive, [
      { name: 'a', content: Buffer.alloc(100_000) },
      { name: 'b', content: Buffer.alloc(100_000) },
    ]);
    await expect(extractTarBz2(archive, join(root, 'b1'), { maxBytes: 150_000 })).rejects.toThrow(/more than 150000 bytes/);
    await expect(extractTarBz2(archive, join(root, 'b2'), { maxEntries: 1 })).rejects.toThrow(/more than 1 entries/);
    expect(await extractTarBz2(archive, join(root, 'b3'))).toEqual(['a', 'b']);
  });

  it('installs a release-style archive served over loopback, then resolves and validates it', async () => {
    // A sherpa-onnx-style release: one top folder, no model.json, built with the system tar.
    const stage = join(root, 'stage', 'sherpa-onnx-tiny-ctc-en-offline');
    await mkdir(stage, { recursive: true });
    for (const f of ['model.onnx', 'tokens.txt']) await symlink(join(OFFLINE_MODEL, f), join(stage, f));
    const archive = join(root, 'sherpa-onnx-tiny-ctc-en-offline.tar.bz2');
    execFileSync('tar', ['cjhf', archive, '-C', dirname(stage), 'sherpa-onnx-tiny-ctc-en-offline']);
    const srv = await serveFiles({ '/sherpa-onnx-tiny-ctc-en-offline.tar.bz2': archive });
    try {
      const cacheDir = join(root, 'cache');
      const entry: CatalogEntry = {
        id: 'tiny-offline-test',
        family: 'zipformer_ctc',
        kind: 'offline',
        url: `${srv.baseUrl}/sherpa-onnx-tiny-ctc-en-offline.tar.bz2`,
        sizeBytes: 0,
        sha256: undefined,
        languages: ['en'],
        description: 'test',
        files: { model: 'model.onnx', tokens: 'tokens.txt' },
      };
      const progress: number[] = [];
      const installed = await installModel(entry.id, { entry, cacheDir, onProgress: (p) => progress.push(p.receivedBytes) });
      expect(installed.dir).toBe(join(cacheDir, 'models', 'tiny-offline-test'));
      expect(installed.install?.verified).toBe(false);
      expect(progress.length).toBeGreaterThan(0);
      const manifest = JSON.parse(await readFile(join(installed.dir, 'model.json'), 'utf8')) as { sha256: Record<string, string>; install: { sha256: string } };
      expect(manifest.sha256['model.onnx']).toBe('57321da60d8e99cbe70944334bc51b5429aefe8d52226d68ae01709f31cb25e8');
      expect(manifest.install.sha256).toMatch(/^[0-9a-f]{64}$/);

      const resolved = await resolveModel('tiny-offline-test', { cacheDir, modelsDir: join(root, 'none'), kind: 'offline' });
      expect(resolved.source).toBe('catalog');
      await validateModel(resolved, { checksums: true });
      // Installed already: no second download.
      const before = srv.requests.length;
      await installModel(entry.id, { entry, cacheDir });
      expect(srv.requests.length).toBe(before);
      // The downloaded archive is removed after a successful install.
      expect(await readdir(join(cacheDir, 'downloads'))).toEqual([]);
      // Catalog id that is not installed: the error names the download command.
      await expect(resolveModel('whisper-tiny.en', { cacheDir, modelsDir: join(root, 'none') })).rejects.toThrow(/hybrid-asr models download whisper-tiny.en/);
    } finally {
      await srv.close();
    }
  });

  it('install refuses a tampered archive when the entry has a sha256', async () => {
    const archive = join(root, 'sherpa-onnx-tiny-ctc-en-offline.tar.bz2');
    const srv = await serveFiles({ '/a.tar.bz2': archive });
    try {
      const entry: CatalogEntry = {
        id: 'tampered',
        family: 'zipformer_ctc',
        kind: 'offline',
        url: `${srv.baseUrl}/a.tar.bz2`,
        sizeBytes: 0,
        sha256: '0'.repeat(64),
        languages: [],
        description: 'test',
      };
      const cacheDir = join(root, 'cache2');
      await expect(installModel('tampered', { entry, cacheDir })).rejects.toThrow(/failed its checksum/);
      expect(existsSync(join(cacheDir, 'models', 'tampered'))).toBe(false);
      // Fully received but failing verification: removed, not kept for a resume.
      expect(await readdir(join(cacheDir, 'downloads'))).toEqual([]);
    } finally {
      await srv.close();
    }
  });
});
