/**
 * Where the shared test assets are (../shared beside the checkout, or the HYBRID_ASR_* variables).
 * In CI (CI=true) a missing asset is a failure, never a skip; elsewhere tests skip with a message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const shared = process.env.HYBRID_ASR_SHARED ?? resolve(root, '..', 'shared');

/** Folder of model folders. */
export const MODELS_DIR = process.env.HYBRID_ASR_MODELS ?? join(shared, 'models');
/** Folder of test audio. */
export const AUDIO_DIR = process.env.HYBRID_ASR_TEST_AUDIO ?? join(shared, 'audio');
/** The shared folder itself (tools/, hooks/…). */
export const SHARED_DIR = shared;
/** The project root. */
export const PROJECT_ROOT = root;

export const OFFLINE_MODEL = join(MODELS_DIR, 'tiny-ctc-en-offline');
export const STREAMING_MODEL = join(MODELS_DIR, 'tiny-ctc-en-streaming');
export const VAD_MODEL = join(MODELS_DIR, 'silero-vad');
export const SPEAKER_MODEL = join(MODELS_DIR, 'tiny-speaker-embedding');

/** True when every path exists. In CI a missing path throws instead of returning false. */
export function haveAssets(...paths: string[]): boolean {
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length === 0) return true;
  if (process.env.CI) {
    throw new Error(`CI must have the shared test assets, but these are missing: ${missing.join(', ')}`);
  }
  console.warn(`[skip] shared test assets missing (${missing.join(', ')}); set HYBRID_ASR_MODELS / HYBRID_ASR_TEST_AUDIO`);
  return false;
}

/** `describe` that runs only when the assets exist (and fails in CI when they don't). */
export function describeWithAssets(paths: string[]): typeof describe | typeof describe.skip {
  return haveAssets(...paths) ? describe : describe.skip;
}

/** Rows of a references.tsv (header skipped): `[file, text, ...rest]`. */
export function readReferences(tsvPath: string): { file: string; text: string }[] {
  return readFileSync(tsvPath, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [file = '', text = ''] = l.split('\t');
      return { file, text };
    });
}
