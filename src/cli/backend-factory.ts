/**
 * The backends the CLI's commands run on: `--backend native|remote|auto` with `--model`,
 * `--remote-url`, `--tier`, `--fallback`… become a `NativeBackend`, a `RemoteBackend`, or a
 * `HybridManager` over both that prints which backend produced what. The remote and hybrid modules
 * are loaded only when asked for.
 * @module
 */
import type { ASRBackend } from '../spec/index.js';
import { ASRError, InvalidArgumentError, ModelError } from '../errors/index.js';
import { NativeBackend } from '../backends/native/index.js';
import type { HybridManager } from '../hybrid/index.js';
import { findModels } from '../models/index.js';

/** What the CLI knows when it needs a backend. */
export interface CliBackendOptions {
  /** Which backend: `native` (sherpa-onnx), `remote` (a server), `auto` (the hybrid manager). */
  readonly backend: 'native' | 'remote' | 'auto';
  /** `--model`: a folder, a name under HYBRID_ASR_MODELS, or a catalog id. */
  readonly model?: string | undefined;
  /** `--remote-url`. */
  readonly remoteUrl?: string | undefined;
  /** `--api-key` (or HYBRID_ASR_API_KEY). */
  readonly apiKey?: string | undefined;
  /** `--threads`. */
  readonly threads?: number | undefined;
  /** Whether the command needs streaming (`stream`, `live`): pick a streaming model where there is a choice. */
  readonly streaming?: boolean | undefined;
  /** Whether speaker diarization was asked for. */
  readonly diarize?: boolean | undefined;
  /** `--no-fast-endpoint` (stream) gives `false`: finals by the model's trailing-silence rule only. */
  readonly fastEndpoint?: boolean | undefined;
  /** `--tier` (auto). */
  readonly tier?: string | undefined;
  /** `--fallback` (auto). */
  readonly fallback?: string | undefined;
}

/**
 * The model to use when `--model` is not given: the only (or first) model of the wanted kind
 * under HYBRID_ASR_MODELS / the cache; streaming commands prefer a streaming model.
 */
async function defaultModel(streaming: boolean): Promise<string> {
  const found = await findModels({ kind: ['offline', 'streaming'] });
  const pick = found.find((m) => m.manifest.kind === (streaming ? 'streaming' : 'offline')) ?? found[0];
  if (!pick) {
    throw new ModelError(
      'No speech model found: pass --model <folder|name|id>, set HYBRID_ASR_MODELS to a folder of models, or run `hybrid-asr models download <id>`',
    );
  }
  return pick.dir;
}

/** Finds a speaker-embedding model for --diarize, if one is installed. */
async function defaultSpeakerModel(): Promise<string | undefined> {
  const found = await findModels({ kind: 'speaker-embedding' });
  return found[0]?.dir;
}

async function createNative(options: CliBackendOptions): Promise<NativeBackend> {
  const model = options.model ?? (await defaultModel(options.streaming ?? false));
  const speakerModel = options.diarize ? await defaultSpeakerModel() : undefined;
  const backend = new NativeBackend({
    model,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(speakerModel !== undefined ? { speakerModel } : {}),
    ...(options.fastEndpoint === false ? { fastEndpoint: false } : {}),
  });
  await backend.load();
  return backend;
}

/**
 * Builds the backend a CLI command asked for.
 * @internal
 */
export async function createCliBackend(options: CliBackendOptions): Promise<ASRBackend> {
  switch (options.backend) {
    case 'native':
      return createNative(options);
    case 'remote': {
      if (!options.remoteUrl) throw new InvalidArgumentError('--backend remote needs --remote-url <url>');
      const { RemoteBackend } = await import('../backends/remote/index.js');
      return new RemoteBackend({
        baseUrl: apiBaseUrl(options.remoteUrl),
        ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
        ...(options.model !== undefined ? { model: options.model } : {}),
      });
    }
    case 'auto': {
      // Without a server there is nothing to choose between: the on-device backend.
      if (!options.remoteUrl) return createNative(options);
      return createHybridFromCli({
        remoteUrl: options.remoteUrl,
        createNative: () => createNative(options),
        ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
        ...(options.tier !== undefined ? { tier: options.tier } : {}),
        ...(options.fallback !== undefined ? { fallback: options.fallback } : {}),
      });
    }
  }
}

/** What `hybrid-asr transcribe|stream --backend auto --remote-url …` hands to {@link createHybridFromCli}. */
interface HybridCliOptions {
  /** `--remote-url`: base URL of the server, e.g. `http://127.0.0.1:8080/v1` (`/v1` is added when missing). */
  readonly remoteUrl: string;
  /** `--api-key`. */
  readonly apiKey?: string | undefined;
  /** `--model`: sent to the server as the model name too. */
  readonly model?: string | undefined;
  /**
   * `--tier`: one of the default tiers.
   * @defaultValue 'pro-cloud' (a remote URL was given, so the remote may be used)
   */
  readonly tier?: string | undefined;
  /**
   * `--fallback`: `native` fails over between the backends, `none` does not.
   * @defaultValue 'native'
   */
  readonly fallback?: string | undefined;
  /** Builds the native backend (the CLI's usual model lookup). A failure leaves the manager remote-only. */
  readonly createNative: () => Promise<ASRBackend>;
  /**
   * Where the lines saying which backend produced what go.
   * @defaultValue standard error
   */
  readonly log?: (line: string) => void;
}

/**
 * The API base of a server URL as the CLI takes it: `http://host:8080` and `http://host:8080/v1`
 * both become `http://host:8080/v1`.
 */
function apiBaseUrl(url: string): string {
  const u = url.replace(/\/+$/, '');
  return /\/v\d+$/.test(u) ? u : `${u}/v1`;
}

/**
 * Builds the hybrid manager for the CLI's `--backend auto --remote-url <url>`: native + remote,
 * auto mode, tier and failover from the flags, nothing persisted. Every selection, switch, warning
 * and network change is printed as one `hybrid-asr: …` line (standard error by default), so the
 * output says which backend produced what.
 *
 * @throws InvalidArgumentError for an unknown `--tier` or `--fallback`.
 * @internal
 */
export async function createHybridFromCli(options: HybridCliOptions): Promise<HybridManager> {
  const { DEFAULT_TIER_POLICIES, HybridManager, MemorySettingsStore } = await import('../hybrid/index.js');
  const tier = options.tier ?? 'pro-cloud';
  if (!Object.hasOwn(DEFAULT_TIER_POLICIES, tier)) {
    throw new InvalidArgumentError(`--tier must be one of ${Object.keys(DEFAULT_TIER_POLICIES).join(', ')}, got "${tier}"`);
  }
  const fallback = options.fallback ?? 'native';
  if (fallback !== 'native' && fallback !== 'none') throw new InvalidArgumentError(`--fallback must be native or none, got "${fallback}"`);
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const baseUrl = apiBaseUrl(options.remoteUrl);
  const { RemoteBackend } = await import('../backends/remote/index.js');
  const remote = new RemoteBackend({
    baseUrl,
    healthTimeoutMs: 2000,
    ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
    ...(options.model !== undefined ? { model: options.model } : {}),
  });
  let native: ASRBackend | undefined;
  try {
    native = await options.createNative();
  } catch (e) {
    if (!ASRError.isInstance(e) || DEFAULT_TIER_POLICIES[tier]!.backends.every((b) => b !== 'remote')) throw e;
    log(`hybrid-asr: no native backend (${e.message}); using the remote only`);
  }
  const hybrid = new HybridManager({
    ...(native !== undefined ? { native } : {}),
    remote,
    tier,
    failover: fallback === 'native',
    settings: new MemorySettingsStore(),
  });
  hybrid.on('backend-selected', (e) => log(`hybrid-asr: ${e.request} on ${e.backend} (${e.reason})`));
  hybrid.on('backend-switch', (e) => log(`hybrid-asr: switched ${e.from} → ${e.to}${e.atSec !== undefined ? ` at ${e.atSec.toFixed(2)} s` : ''} (${e.reason})`));
  hybrid.on('upgrade-required', (e) => log(`hybrid-asr: ${e.message}`));
  hybrid.on('offline', (reason) => log(`hybrid-asr: remote unreachable (${reason})`));
  hybrid.on('online', () => log('hybrid-asr: remote reachable'));
  hybrid.on('warning', (w) => {
    if (w.type === 'other') log(`hybrid-asr: warning: ${w.message}`);
    else if (w.type === 'unsupported') log(`hybrid-asr: warning: ${w.feature} unsupported${w.details ? ` (${w.details})` : ''}`);
  });
  return hybrid;
}
