import { createRequire } from 'node:module';
import { BackendUnavailableError } from '../errors/index.js';

/**
 * The sherpa-onnx-node addon, loaded on first use (never at import), so that `import 'hybrid-asr'`
 * works where the addon can't load, and its absence is a typed, routable error.
 *
 * The addon ships no types; callers describe the parts they use with their own narrow interfaces.
 * @internal
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SherpaAddon = any;

let cached: SherpaAddon | undefined;
let failure: unknown;

/** Loads `sherpa-onnx-node` once; throws {@link BackendUnavailableError} when it can't be loaded. @internal */
export function loadSherpa(): SherpaAddon {
  if (cached !== undefined) return cached;
  if (failure !== undefined) {
    throw new BackendUnavailableError(`The sherpa-onnx-node native addon could not be loaded on ${process.platform}-${process.arch}`, { cause: failure });
  }
  try {
    const require = createRequire(import.meta.url);
    cached = require('sherpa-onnx-node') as SherpaAddon;
    return cached;
  } catch (e) {
    failure = e;
    throw new BackendUnavailableError(
      `The sherpa-onnx-node native addon could not be loaded on ${process.platform}-${process.arch}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}
