/**
 * sherpa-onnx-node configs for a resolved model, and loading a model in a child process so that
 * a model that aborts the native code takes down the child, never the caller.
 * @module
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { AbortedError, BackendUnavailableError, InvalidArgumentError, ModelError, throwIfAborted } from '../errors/index.js';
import type { ResolvedModel } from './resolve.js';

/** Which sherpa-onnx-node class loads a model, and its config. */
export interface SherpaModelConfig {
  /** The sherpa-onnx-node class. */
  readonly className: 'OfflineRecognizer' | 'OnlineRecognizer' | 'Vad' | 'SpeakerEmbeddingExtractor';
  /** The config object to pass to its constructor. */
  readonly config: Record<string, unknown>;
}

/** Options of {@link sherpaConfigFor}. */
export interface SherpaConfigOptions {
  /** Threads for onnxruntime. @defaultValue 1 */
  readonly numThreads?: number;
  /** onnxruntime execution provider. @defaultValue 'cpu' */
  readonly provider?: string;
}

/**
 * Builds the sherpa-onnx-node constructor config for a model (family + kind → config key).
 *
 * @param model - a resolved (and preferably validated) model.
 * @param options - threads and provider.
 */
export function sherpaConfigFor(model: ResolvedModel, options: SherpaConfigOptions = {}): SherpaModelConfig {
  const { numThreads = 1, provider = 'cpu' } = { ...options };
  if (!Number.isInteger(numThreads) || numThreads <= 0) throw new InvalidArgumentError(`\`numThreads\` must be a positive whole number, got ${numThreads}`);
  const { kind, family, sampleRate } = model.manifest;
  const p = model.paths;
  const common = { numThreads, provider, debug: 0 };
  const featConfig = { sampleRate, featureDim: 80 };
  const fam = family.replace('-', '_');
  if (kind === 'vad') {
    return {
      className: 'Vad',
      config: { sileroVad: { model: p.model, threshold: 0.5, minSpeechDuration: 0.25, minSilenceDuration: 0.5, windowSize: 512 }, sampleRate, ...common, debug: false },
    };
  }
  if (kind === 'speaker-embedding') {
    return { className: 'SpeakerEmbeddingExtractor', config: { model: p.model, ...common, debug: false } };
  }
  let modelConfig: Record<string, unknown>;
  if (kind === 'offline') {
    switch (fam) {
      case 'zipformer_ctc':
      case 'zipformer2_ctc':
        modelConfig = { zipformerCtc: { model: p.model } };
        break;
      case 'nemo_ctc':
        modelConfig = { nemoCtc: { model: p.model } };
        break;
      case 'transducer':
        modelConfig = { transducer: { encoder: p.encoder, decoder: p.decoder, joiner: p.joiner } };
        break;
      case 'whisper':
        modelConfig = { whisper: { encoder: p.encoder, decoder: p.decoder, task: 'transcribe' } };
        break;
      case 'moonshine':
        modelConfig = {
          moonshine: { preprocessor: p.preprocessor, encoder: p.encoder, uncachedDecoder: p.uncached_decoder, cachedDecoder: p.cached_decoder },
        };
        break;
      case 'sense_voice':
        modelConfig = { senseVoice: { model: p.model, useInverseTextNormalization: 1 } };
        break;
      case 'paraformer':
        modelConfig = { paraformer: { model: p.model } };
        break;
      default:
        throw new ModelError(`No sherpa-onnx config for offline family "${family}"`, { path: model.dir });
    }
    return { className: 'OfflineRecognizer', config: { featConfig, modelConfig: { ...modelConfig, tokens: p.tokens, ...common }, decodingMethod: 'greedy_search' } };
  }
  switch (fam) {
    case 'transducer':
      modelConfig = { transducer: { encoder: p.encoder, decoder: p.decoder, joiner: p.joiner } };
      break;
    case 'zipformer2_ctc':
    case 'zipformer_ctc':
      modelConfig = { zipformer2Ctc: { model: p.model } };
      break;
    case 'nemo_ctc':
      modelConfig = { nemoCtc: { model: p.model } };
      break;
    default:
      throw new ModelError(`No sherpa-onnx config for streaming family "${family}"`, { path: model.dir });
  }
  return { className: 'OnlineRecognizer', config: { featConfig, modelConfig: { ...modelConfig, tokens: p.tokens, ...common }, decodingMethod: 'greedy_search' } };
}

/** Options of {@link probeModelInSubprocess}. */
export interface ProbeOptions {
  /** Time allowed for loading and one decode. @defaultValue 60000 */
  readonly timeoutMs?: number;
  /** Kills the child and rejects with {@link AbortedError}. */
  readonly abortSignal?: AbortSignal;
  /** Decode one second of silence after loading (catches models that load but crash on use). @defaultValue true */
  readonly decode?: boolean;
}

/** The child's program: load, decode a second of silence, print a marker. Plain CommonJS. */
const CHILD = `
const [addonPath, specJson, decodeFlag] = process.argv.slice(1);
const sherpa = require(addonPath);
const { className, config } = JSON.parse(specJson);
const decode = decodeFlag === '1';
const sr = (config.featConfig && config.featConfig.sampleRate) || config.sampleRate || 16000;
const silence = new Float32Array(sr);
if (className === 'OfflineRecognizer') {
  const r = new sherpa.OfflineRecognizer(config);
  if (!r.handle) throw new Error('sherpa-onnx returned a null recognizer');
  if (decode) { const s = r.createStream(); s.acceptWaveform({ sampleRate: sr, samples: silence }); r.decode(s); r.getResult(s); }
} else if (className === 'OnlineRecognizer') {
  const r = new sherpa.OnlineRecognizer(config);
  if (!r.handle) throw new Error('sherpa-onnx returned a null recognizer');
  if (decode) { const s = r.createStream(); s.acceptWaveform({ sampleRate: sr, samples: silence }); s.inputFinished(); while (r.isReady(s)) r.decode(s); r.getResult(s); }
} else if (className === 'Vad') {
  const v = new sherpa.Vad(config, 30);
  if (!v.handle) throw new Error('sherpa-onnx returned a null VAD handle (the model could not be loaded)');
  if (decode) { for (let i = 0; i + 512 <= silence.length; i += 512) v.acceptWaveform(silence.subarray(i, i + 512)); v.flush(); }
} else if (className === 'SpeakerEmbeddingExtractor') {
  const x = new sherpa.SpeakerEmbeddingExtractor(config);
  if (!x.handle) throw new Error('sherpa-onnx returned a null extractor');
  if (decode) { const s = x.createStream(); s.acceptWaveform({ sampleRate: sr, samples: silence }); s.inputFinished(); x.compute(s); }
} else {
  throw new Error('unknown class ' + className);
}
process.stdout.write('HYBRID_ASR_PROBE_OK\\n');
`;

function addonPath(): string {
  try {
    return createRequire(import.meta.url).resolve('sherpa-onnx-node');
  } catch (e) {
    throw new BackendUnavailableError('sherpa-onnx-node is not installed, so the model cannot be probed', { cause: e });
  }
}

/**
 * Loads the model with sherpa-onnx-node in a child Node process and (by default) decodes one
 * second of silence. A native abort, `exit()`, null handle or timeout in the child becomes a
 * {@link ModelError} carrying the exit code or signal and the tail of the child's stderr; the
 * calling process is never at risk.
 *
 * @param model - the model to load.
 * @param options - `timeoutMs`, `decode`, `abortSignal`.
 */
export async function probeModelInSubprocess(model: ResolvedModel, options: ProbeOptions = {}): Promise<void> {
  const { timeoutMs = 60_000, abortSignal, decode = true } = { ...options };
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new InvalidArgumentError(`\`timeoutMs\` must be a finite number > 0, got ${timeoutMs}`);
  throwIfAborted(abortSignal);
  const spec = sherpaConfigFor(model);
  const addon = addonPath();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD, addon, JSON.stringify(spec), decode ? '1' : '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdout = '';
    let stderr = '';
    let settled = false;
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.length > 65536) stdout = stdout.slice(-65536);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.length > 65536) stderr = stderr.slice(-65536);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const onAbort = (): void => {
      child.kill('SIGKILL');
      finish(new AbortedError('Model probe aborted'));
    };
    abortSignal?.addEventListener('abort', onAbort, { once: true });
    function finish(err?: unknown): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abortSignal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    }
    child.on('error', (e) => finish(new ModelError(`Could not start a process to probe ${model.dir}: ${e.message}`, { path: model.dir, cause: e })));
    child.on('close', (code, signal) => {
      if (code === 0 && stdout.includes('HYBRID_ASR_PROBE_OK')) return finish();
      const tail = stderr.trim().split('\n').slice(-8).join('\n');
      const how = timedOut ? `did not finish within ${timeoutMs} ms` : signal ? `was killed by ${signal}` : `exited with code ${String(code)}`;
      finish(
        new ModelError(
          `sherpa-onnx could not ${decode ? 'load and run' : 'load'} ${model.manifest.kind} ${model.manifest.family} model "${model.manifest.name}" (${model.dir}): the probe process ${how}${tail ? `:\n${tail}` : ''}`,
          { path: model.dir },
        ),
      );
    });
  });
}
