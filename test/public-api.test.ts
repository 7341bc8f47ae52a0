import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The public surface is a deliberate list: src/index.ts names every export, and this test holds it
// to etc/public-api.txt. Changing the surface means changing that file (and the CHANGELOG) too.
describe('public API', () => {
  it('src/index.ts exports exactly what etc/public-api.txt lists', () => {
    const actual = execFileSync(process.execPath, ['scripts/list-exports.mjs', 'src/index.ts'], { encoding: 'utf8' });
    expect(actual).toBe(readFileSync('etc/public-api.txt', 'utf8'));
  }, 60_000);
});
