import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ASRError, InvalidArgumentError } from '../errors/index.js';
import { registerError } from '../internal/error-registry.js';

/** Modes of the hybrid manager. */
export type HybridMode = 'auto' | 'native' | 'remote' | 'dual';

/** The settings the hybrid manager persists. */
export interface HybridSettings {
  /** The mode the user picked. */
  readonly mode?: HybridMode | undefined;
  /** The model the user prefers (the app decides what it means for its backends). */
  readonly preferredModel?: string | undefined;
}

/**
 * Where settings live. Implement it over Electron's store, `localStorage`, a database…; the default
 * is {@link JsonFileSettingsStore}.
 */
export interface SettingsStore {
  /** The saved settings, or `undefined` when nothing was saved yet. */
  load(): Promise<HybridSettings | undefined>;
  /** Saves the settings (whole object, replacing what was there). */
  save(settings: HybridSettings): Promise<void>;
}

/** The settings file can't be read or written. */
export class SettingsError extends ASRError {
  override readonly code: string = 'settings_error';
}
registerError(SettingsError, 'SettingsError');

const MODES: readonly HybridMode[] = ['auto', 'native', 'remote', 'dual'];

/** Checks a settings object (from a store or from the app), naming the bad field. */
export function checkSettings(v: unknown, where: string): HybridSettings {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError(`${where} must be an object`);
  const o = v as Record<string, unknown>;
  if (o.mode !== undefined && !MODES.includes(o.mode as HybridMode)) {
    throw new InvalidArgumentError(`${where}: \`mode\` must be one of ${MODES.join(', ')}, got ${JSON.stringify(o.mode)}`);
  }
  if (o.preferredModel !== undefined && (typeof o.preferredModel !== 'string' || o.preferredModel === '')) {
    throw new InvalidArgumentError(`${where}: \`preferredModel\` must be a non-empty string`);
  }
  return {
    ...(o.mode !== undefined ? { mode: o.mode as HybridMode } : {}),
    ...(o.preferredModel !== undefined ? { preferredModel: o.preferredModel } : {}),
  };
}

/**
 * Settings in a JSON file. Writes are atomic (a temporary file in the same folder, then `rename`),
 * so a crash mid-write leaves the old file intact; concurrent saves are applied in order.
 */
export class JsonFileSettingsStore implements SettingsStore {
  /** Path of the JSON file. */
  readonly path: string;
  #queue: Promise<void> = Promise.resolve();

  /** @param options - `path` of the JSON file (its folder is created on the first save). */
  constructor(options: { readonly path: string }) {
    if (typeof options?.path !== 'string' || options.path === '') throw new InvalidArgumentError('`path` must be a non-empty string');
    this.path = options.path;
  }

  /** Reads the file; `undefined` when it does not exist. A malformed file is a `SettingsError`. */
  async load(): Promise<HybridSettings | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SettingsError(`Cannot read the settings file ${this.path}: ${(e as Error).message}`, { cause: e });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new SettingsError(`The settings file ${this.path} is not valid JSON`, { cause: e });
    }
    try {
      return checkSettings(parsed, `The settings file ${this.path}`);
    } catch (e) {
      throw new SettingsError((e as Error).message, { cause: e });
    }
  }

  /** Writes the file atomically. */
  save(settings: HybridSettings): Promise<void> {
    const clean = checkSettings(settings, '`settings`');
    const next = this.#queue.then(() => this.#write(clean));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #write(settings: HybridSettings): Promise<void> {
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(tmp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
      await rename(tmp, this.path);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new SettingsError(`Cannot write the settings file ${this.path}: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** Settings in memory (nothing persists): for tests and for apps that don't want persistence. */
export class MemorySettingsStore implements SettingsStore {
  #value: HybridSettings | undefined;

  /** @param initial - settings to start with. */
  constructor(initial?: HybridSettings) {
    this.#value = initial === undefined ? undefined : checkSettings(initial, '`initial`');
  }

  /** The stored settings. */
  async load(): Promise<HybridSettings | undefined> {
    return this.#value;
  }

  /** Replaces the stored settings. */
  async save(settings: HybridSettings): Promise<void> {
    this.#value = checkSettings(settings, '`settings`');
  }
}
