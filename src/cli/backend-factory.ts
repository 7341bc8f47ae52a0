import type { ASRBackend } from '../spec/index.js';
import { InvalidArgumentError, ModelError } from '../errors/index.js';
import { NativeBackend } from '../backends/native/index.js';
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
      const [{ RemoteBackend }, { apiBaseUrl }] = await Promise.all([import('../backends/remote/index.js'), import('../hybrid/cli.js')]);
      return new RemoteBackend({
        baseUrl: apiBaseUrl(options.remoteUrl),
        ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
        ...(options.model !== undefined ? { model: options.model } : {}),
      });
    }
    case 'auto': {
      // Without a server there is nothing to choose between: the on-device backend.
      if (!options.remoteUrl) return createNative(options);
      const { createHybridFromCli } = await import('../hybrid/cli.js');
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
