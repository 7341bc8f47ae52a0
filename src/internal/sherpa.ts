import { createRequire } from 'node:module';
import { BackendUnavailableError } from '../errors/index.js';

/** Audio handed to a sherpa-onnx stream. @internal */
export interface SherpaWaveform {
  readonly sampleRate: number;
  readonly samples: Float32Array;
}

/** What sherpa-onnx-node returns for a decoded stream (the parts we read). @internal */
export interface SherpaResult {
  readonly text: string;
  readonly tokens?: readonly string[] | undefined;
  readonly timestamps?: readonly number[] | undefined;
  readonly durations?: readonly number[] | undefined;
  readonly ys_log_probs?: readonly number[] | undefined;
  readonly lang?: string | undefined;
  readonly start_time?: number | undefined;
}

/** An offline recognizer's stream. @internal */
export interface SherpaOfflineStream {
  acceptWaveform(w: SherpaWaveform): void;
}

/** `sherpa.OfflineRecognizer`: the calls this package makes. @internal */
export interface SherpaOfflineRecognizer {
  createStream(hotwords?: string): SherpaOfflineStream;
  decodeAsync(s: SherpaOfflineStream): Promise<SherpaResult>;
}

/** An online (streaming) recognizer's stream. @internal */
export interface SherpaOnlineStream {
  acceptWaveform(w: SherpaWaveform): void;
  inputFinished(): void;
}

/** `sherpa.OnlineRecognizer`: the calls this package makes. @internal */
export interface SherpaOnlineRecognizer {
  createStream(): SherpaOnlineStream;
  isReady(s: SherpaOnlineStream): boolean;
  decode(s: SherpaOnlineStream): void;
  isEndpoint(s: SherpaOnlineStream): boolean;
  reset(s: SherpaOnlineStream): void;
  getResult(s: SherpaOnlineStream): SherpaResult;
}

/** `sherpa.Vad` (Silero): the calls this package makes. `handle` is null when the model did not load. @internal */
export interface SherpaVad {
  readonly handle?: unknown;
  acceptWaveform(samples: Float32Array): void;
  isEmpty(): boolean;
  isDetected(): boolean;
  front(enableExternalBuffer?: boolean): { start: number; samples: Float32Array };
  pop(): void;
  flush(): void;
  reset(): void;
}

/** `sherpa.SpeakerEmbeddingExtractor`: the calls this package makes. @internal */
export interface SherpaSpeakerEmbeddingExtractor {
  readonly dim: number;
  createStream(): SherpaOnlineStream;
  compute(stream: SherpaOnlineStream, enableExternalBuffer?: boolean): Float32Array;
}

/** `sherpa.OfflineSpeakerDiarization` (pyannote pipeline): the calls this package makes. @internal */
export interface SherpaOfflineSpeakerDiarization {
  readonly sampleRate: number;
  setConfig(config: unknown): void;
  process(samples: Float32Array): { start: number; end: number; speaker: number }[];
}

/**
 * The sherpa-onnx-node addon, loaded on first use (never at import), so that `import 'hybrid-asr'`
 * works where the addon can't load, and its absence is a typed, routable error.
 *
 * The addon ships no types: this is the part of it the package uses. Configs are plain objects
 * built by `sherpaConfigFor` and the callers.
 * @internal
 */
interface SherpaAddon {
  readonly OfflineRecognizer: new (config: object) => SherpaOfflineRecognizer;
  readonly OnlineRecognizer: new (config: object) => SherpaOnlineRecognizer;
  /** `bufferSizeInSeconds`: how much speech the VAD can hold. */
  readonly Vad: new (config: object, bufferSizeInSeconds: number) => SherpaVad;
  readonly SpeakerEmbeddingExtractor: new (config: object) => SherpaSpeakerEmbeddingExtractor;
  readonly OfflineSpeakerDiarization: new (config: object) => SherpaOfflineSpeakerDiarization;
}

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
    const addon = require('sherpa-onnx-node') as SherpaAddon;
    cached = addon;
    return addon;
  } catch (e) {
    failure = e;
    throw new BackendUnavailableError(
      `The sherpa-onnx-node native addon could not be loaded on ${process.platform}-${process.arch}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}
