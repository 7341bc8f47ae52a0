import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// Outside CI, default the asset variables to ../shared so model names resolve as they do in CI.
const shared = resolve(import.meta.dirname, '..', 'shared');
const env: Record<string, string> = {};
if (existsSync(shared)) {
  env.HYBRID_ASR_SHARED = process.env.HYBRID_ASR_SHARED ?? shared;
  env.HYBRID_ASR_MODELS = process.env.HYBRID_ASR_MODELS ?? resolve(shared, 'models');
  env.HYBRID_ASR_TEST_AUDIO = process.env.HYBRID_ASR_TEST_AUDIO ?? resolve(shared, 'audio');
}

// Model proofs and downloads go to a cache of this run's own, never the user's ~/.cache.
env.HYBRID_ASR_CACHE = process.env.HYBRID_ASR_CACHE ?? mkdtempSync(resolve(tmpdir(), 'hybrid-asr-test-cache-'));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons are safer in child processes than in worker threads.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    env,
  },
});
