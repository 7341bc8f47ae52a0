/**
 * sherpa-onnx-node configs for a resolved model, and loading a model in a child process so that
 * a model that aborts the native code takes down the child, never the caller.
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { AbortedError, BackendUnavailableError, InvalidArgumentError, ModelError, throwIfAborted } from '../errors/index.js';
import type { ResolvedModel } from './resolve.js';

/** Which sherpa-onnx-node class loads a model, and its config. */
export interface SherpaModelConfig {
  /** The sherpa-onnx-node class. */
  readonly className: 'OfflineRecognizer' | 'OnlineRecognizer' | 'Vad' | 'SpeakerEmbeddingExtractor' | 'OfflineSpeakerDiarization';
  /** The config object to pass to its constructor. */
  readonly config: Record<string, unknown>;
}

/** Options of {@link sherpaConfigFor}. */
interface SherpaConfigOptions {
  /** Threads for onnxruntime. @defaultValue 1 */
  readonly numThreads?: number | undefined;
  /** onnxruntime execution provider. @defaultValue 'cpu' */
  readonly provider?: string | undefined;
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
interface ProbeOptions {
  /** Time allowed for loading and one decode. @defaultValue 120000 */
  readonly timeoutMs?: number | undefined;
  /** Kills the child and rejects with {@link AbortedError}. */
  readonly abortSignal?: AbortSignal | undefined;
  /** Decode a second of low noise after loading (catches models that load but crash on use). @defaultValue true */
  readonly decode?: boolean | undefined;
}

/** Marker the child prints when the model loaded (and decoded). */
const OK_MARK = 'HYBRID_ASR_PROBE_OK';
/** Marker before a JSON-encoded JavaScript error message the child caught. */
const ERROR_MARK = 'HYBRID_ASR_PROBE_ERROR ';

/**
 * The child's program (plain CommonJS): load, then decode one second of deterministic low noise
 * the way the host does (offline: one stream; streaming: 0.1 s steps, 0.6 s of tail padding, input
 * finished; VAD: 512-sample windows; speaker: one embedding), so the graph's paths really run.
 */
const CHILD = `
const [addonPath, specJson, decodeFlag] = process.argv.slice(1);
const fail = (e) => { process.stderr.write('${ERROR_MARK}' + JSON.stringify(String((e && e.message) || e)) + '\\n'); process.exit(3); };
process.on('uncaughtException', fail);
const sherpa = require(addonPath);
const { className, config } = JSON.parse(specJson);
const decode = decodeFlag === '1';
const sr = (config.featConfig && config.featConfig.sampleRate) || config.sampleRate || 16000;
const noise = new Float32Array(sr);
let x = 12345;
for (let i = 0; i < noise.length; i++) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; noise[i] = ((x >>> 8) / 16777216 - 0.5) * 0.02; }
if (className === 'OfflineRecognizer') {
  const r = new sherpa.OfflineRecognizer(config);
  if (!r.handle) fail('sherpa-onnx returned a null recognizer (the model could not be loaded)');
  if (decode) { const s = r.createStream(); s.acceptWaveform({ sampleRate: sr, samples: noise }); r.decode(s); r.getResult(s); }
} else if (className === 'OnlineRecognizer') {
  const r = new sherpa.OnlineRecognizer(config);
  if (!r.handle) fail('sherpa-onnx returned a null recognizer (the model could not be loaded)');
  if (decode) {
    const s = r.createStream();
    const step = Math.round(sr / 10);
    for (let i = 0; i < noise.length; i += step) { s.acceptWaveform({ sampleRate: sr, samples: noise.subarray(i, i + step) }); while (r.isReady(s)) r.decode(s); r.getResult(s); }
    s.acceptWaveform({ sampleRate: sr, samples: new Float32Array(Math.round(sr * 0.6)) });
    s.inputFinished();
    while (r.isReady(s)) r.decode(s);
    r.getResult(s);
  }
} else if (className === 'Vad') {
  const v = new sherpa.Vad(config, 30);
  if (!v.handle) fail('sherpa-onnx returned a null VAD handle (the model could not be loaded)');
  if (decode) { for (let i = 0; i + 512 <= noise.length; i += 512) v.acceptWaveform(noise.subarray(i, i + 512)); v.flush(); while (!v.isEmpty()) v.pop(); }
} else if (className === 'SpeakerEmbeddingExtractor') {
  const e = new sherpa.SpeakerEmbeddingExtractor(config);
  if (!e.handle || !(e.dim > 0)) fail('sherpa-onnx returned a null speaker embedding extractor (the model could not be loaded)');
  if (decode) { const s = e.createStream(); s.acceptWaveform({ sampleRate: sr, samples: noise }); s.inputFinished(); e.compute(s); }
} else if (className === 'OfflineSpeakerDiarization') {
  const d = new sherpa.OfflineSpeakerDiarization(config);
  if (!d.handle || !(d.sampleRate > 0)) fail('sherpa-onnx returned a null speaker diarization (the models could not be loaded)');
  if (decode) d.process(noise.length === d.sampleRate ? noise : new Float32Array(d.sampleRate));
} else {
  fail('unknown sherpa-onnx class ' + className);
}
process.stdout.write('${OK_MARK}\\n');
`;

/** Path of the sherpa-onnx-node entry point (for the child to require). */
function sherpaAddonPath(): string {
  try {
    return createRequire(import.meta.url).resolve('sherpa-onnx-node');
  } catch (e) {
    throw new BackendUnavailableError('sherpa-onnx-node is not installed, so the model cannot be proven', { cause: e });
  }
}

/** What a child load said. @internal */
export type ChildVerdict =
  | { readonly ok: true }
  /** `settled`: the child ran to its end (a crash, an exit, a caught error), so the same bytes will fail again. */
  | { readonly ok: false; readonly reason: string; readonly settled: boolean };

/** ANSI colour codes (ESC [ … m), built from the ESC character rather than a control character in a regex literal. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** The one line of a child's stderr that says what went wrong (tidied, at most 400 characters). */
function childFailureReason(stderr: string): string {
  const clean = stderr.replace(ANSI, '');
  const marked = clean.split('\n').find((l) => l.startsWith(ERROR_MARK));
  let reason: string | undefined;
  if (marked) {
    try {
      reason = String(JSON.parse(marked.slice(ERROR_MARK.length)));
    } catch {
      reason = marked.slice(ERROR_MARK.length);
    }
  }
  const lines = clean.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  reason ??= lines.find((l) => l.startsWith('what():'))?.slice(7).trim() ?? lines.filter((l) => /error|exception|does not exist|not exist/i.test(l)).at(-1) ?? lines.at(-1);
  if (reason === undefined) return '';
  reason = reason.replace(/\s+/g, ' ').trim();
  if (/_Map_base::at/.test(reason)) reason = `${reason} (a token id the model produced has no symbol in tokens.txt: too few tokens for this model?)`;
  return reason.length > 400 ? `${reason.slice(0, 400)}…` : reason;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  const how = signal ? `was killed by ${signal}` : `exited with code ${String(code)}`;
  const reason = childFailureReason(stderr);
  return `the proving process ${how}${reason ? `: ${reason}` : ''}`;
}

function childArgs(spec: SherpaModelConfig, decode: boolean): string[] {
  return ['-e', CHILD, sherpaAddonPath(), JSON.stringify(spec), decode ? '1' : '0'];
}

const childEnv = (): NodeJS.ProcessEnv => ({ ...process.env, NODE_OPTIONS: '' });

/**
 * Loads `spec` with sherpa-onnx-node in a child Node process and (by default) decodes a second of
 * low noise. Never throws for a bad model: the verdict says what happened. @internal
 */
export async function runProofChild(spec: SherpaModelConfig, options: ProbeOptions = {}): Promise<ChildVerdict> {
  const { timeoutMs = 120_000, abortSignal, decode = true } = { ...options };
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new InvalidArgumentError(`\`timeoutMs\` must be a finite number > 0, got ${timeoutMs}`);
  throwIfAborted(abortSignal);
  const args = childArgs(spec, decode);
  return new Promise<ChildVerdict>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
    let stdout = '';
    let stderr = '';
    let settled = false;
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout = (stdout + d).slice(-65536);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-65536);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const onAbort = (): void => {
      child.kill('SIGKILL');
      finish(undefined, new AbortedError('Model proof aborted'));
    };
    abortSignal?.addEventListener('abort', onAbort, { once: true });
    function finish(v: ChildVerdict | undefined, err?: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abortSignal?.removeEventListener('abort', onAbort);
      if (err !== undefined) reject(err);
      else resolve(v!);
    }
    child.on('error', (e) => finish({ ok: false, reason: `could not start a process to prove the model: ${e.message}`, settled: false }));
    child.on('close', (code, signal) => {
      if (code === 0 && stdout.includes(OK_MARK)) return finish({ ok: true });
      if (timedOut) return finish({ ok: false, reason: `the proving process did not finish within ${timeoutMs} ms`, settled: false });
      finish({ ok: false, reason: describeExit(code, signal, stderr), settled: true });
    });
  });
}

/** {@link runProofChild}, blocking (for synchronous constructors). @internal */
export function runProofChildSync(spec: SherpaModelConfig, options: Omit<ProbeOptions, 'abortSignal'> = {}): ChildVerdict {
  const { timeoutMs = 120_000, decode = true } = { ...options };
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new InvalidArgumentError(`\`timeoutMs\` must be a finite number > 0, got ${timeoutMs}`);
  const r = spawnSync(process.execPath, childArgs(spec, decode), { env: childEnv(), timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 1 << 22 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    return { ok: false, reason: `the proving process did not finish within ${timeoutMs} ms`, settled: false };
  }
  if (r.error && r.status === null && r.signal === null) return { ok: false, reason: `could not start a process to prove the model: ${r.error.message}`, settled: false };
  if (r.status === 0 && r.stdout.includes(OK_MARK)) return { ok: true };
  return { ok: false, reason: describeExit(r.status, r.signal, r.stderr ?? ''), settled: true };
}

/**
 * Loads the model with sherpa-onnx-node in a child Node process and (by default) decodes one
 * second of low noise, every time (no cache; {@link proveModel} is the cached form the backends
 * use). A native abort, `exit()`, null handle or timeout in the child becomes a
 * {@link ModelError} whose one-line message carries the exit code or signal and what the child
 * printed; the calling process is never at risk.
 *
 * @param model - the model to load.
 * @param options - `timeoutMs`, `decode`, `abortSignal`.
 */
export async function probeModelInSubprocess(model: ResolvedModel, options: ProbeOptions = {}): Promise<void> {
  const { decode = true } = { ...options };
  const v = await runProofChild(sherpaConfigFor(model), options);
  if (!v.ok) {
    throw new ModelError(
      `sherpa-onnx could not ${decode ? 'load and run' : 'load'} ${model.manifest.kind} ${model.manifest.family} model "${model.manifest.name}" (${model.dir}): ${v.reason}`,
      { path: model.dir },
    );
  }
}
