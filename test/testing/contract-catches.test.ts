import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/shared.js';

describe('runBackendContract', () => {
  it('fails a backend that breaks the contract, case by case', () => {
    const dir = mkdtempSync(join(tmpdir(), 'contract-'));
    try {
      const out = join(dir, 'report.json');
      const r = spawnSync(
        process.execPath,
        [join(PROJECT_ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'test/testing/fixtures/vitest.config.ts', '--reporter=json', `--outputFile=${out}`],
        { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, CI: '' } },
      );
      expect(r.status, r.stderr).toBe(1);
      const report = JSON.parse(readFileSync(out, 'utf8')) as {
        testResults: { assertionResults: { title: string; status: string }[] }[];
      };
      const status = Object.fromEntries(
        report.testResults.flatMap((f) => f.assertionResults).map((a) => [/\[([a-z-]+)\]$/.exec(a.title)?.[1], a.status]),
      );
      expect(status).toMatchObject({
        identity: 'passed',
        capabilities: 'passed',
        'is-available': 'passed',
        transcribe: 'failed',
        'invalid-audio': 'failed',
        stream: 'passed',
        'stream-abort': 'skipped',
        dispose: 'passed',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
