import type { ASRBackend } from '../spec/index.js';
import { BackendUnavailableError } from '../errors/index.js';

/** What the CLI knows when it needs a backend. */
export interface CliBackendOptions {
  /** Which backend: `native` (sherpa-onnx), `remote` (a server), `auto` (the hybrid manager). */
  readonly backend: 'native' | 'remote' | 'auto';
  /** `--model`: a folder, a name under HYBRID_ASR_MODELS, or a catalog id. */
  readonly model?: string;
  /** `--remote-url`. */
  readonly remoteUrl?: string;
  /** `--api-key` (or HYBRID_ASR_API_KEY). */
  readonly apiKey?: string;
  /** `--threads`. */
  readonly threads?: number;
  /** Whether the command needs streaming (`stream`, `live`): pick a streaming model where there is a choice. */
  readonly streaming?: boolean;
  /** Whether speaker diarization was asked for. */
  readonly diarize?: boolean;
}

/**
 * Builds the backend a CLI command asked for. Each backend issue fills its branch.
 * @internal
 */
export async function createCliBackend(options: CliBackendOptions): Promise<ASRBackend> {
  throw new BackendUnavailableError(`The ${options.backend} backend is not built into this CLI yet`);
}
