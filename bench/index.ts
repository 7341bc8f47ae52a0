/**
 * `npm run bench` lists the benches with their first doc line; `npm run bench -- <name> [args]`
 * runs one (`npm run bench -- cold-start --runs 5 --json`). Each bench prints figures, and JSON
 * with `--json`; none of them runs as a test.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'lib.ts')
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const [name, ...args] = process.argv.slice(2);

if (name === undefined) {
  console.log('benches (npm run bench -- <name> [--json] [options]):');
  for (const b of benches) {
    const doc = /\/\*\*\s*\n?\s*\*?\s*([^\n]*)/.exec(readFileSync(join(dir, `${b}.ts`), 'utf8'))?.[1]?.trim() ?? '';
    console.log(`  ${b.padEnd(28)} ${doc}`);
  }
} else if (!benches.includes(name)) {
  console.error(`no bench "${name}"; one of: ${benches.join(', ')}`);
  process.exitCode = 2;
} else {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, `${name}.ts`), ...args], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}
