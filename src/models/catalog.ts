/**
 * Well-known published models that `hybrid-asr models download <id>` can install.
 * @module
 */
import type { ModelKind } from './manifest.js';

/** One downloadable model. */
export interface CatalogEntry {
  /** Id used on the command line (`hybrid-asr models download <id>`) and with `--model`. */
  readonly id: string;
  /** sherpa-onnx family (see {@link ModelManifest.family}). */
  readonly family: string;
  /** What the model is for. */
  readonly kind: ModelKind;
  /** Download URL: a `.tar.bz2` release archive, or a single `.onnx` file. */
  readonly url: string;
  /**
   * Size of the download in bytes. For display only: exact where {@link CatalogEntry.sha256} is
   * known, otherwise an approximation (never enforced).
   */
  readonly sizeBytes: number;
  /**
   * sha256 of the download. `undefined` where no published digest was available: the installer
   * then records the digest it computed in the installed folder's `model.json` (trust on first
   * use) and the CLI prints a warning.
   */
  readonly sha256: string | undefined;
  /** Languages (ISO 639-1). */
  readonly languages: readonly string[];
  /** One line about the model. */
  readonly description: string;
  /** Files per role inside the extracted folder, when the release holds several variants. */
  readonly files?: Readonly<Record<string, string>> | undefined;
  /** Sample rate in Hz. @defaultValue 16000 */
  readonly sampleRate?: number | undefined;
}

const ASR = 'https://github.com/k2-fsa/sherpa-onnx/releases/download/asr-models';
const SPK = 'https://github.com/k2-fsa/sherpa-onnx/releases/download/speaker-recongition-models';

/**
 * The catalog. URLs are the sherpa-onnx project's published release assets (and, for Silero VAD,
 * the model file pinned at a commit of snakers4/silero-vad).
 */
export const MODEL_CATALOG: readonly CatalogEntry[] = Object.freeze([
  {
    id: 'streaming-zipformer-en-2023-06-26',
    family: 'transducer',
    kind: 'streaming',
    url: `${ASR}/sherpa-onnx-streaming-zipformer-en-2023-06-26.tar.bz2`,
    sizeBytes: 350_000_000,
    sha256: undefined,
    languages: ['en'],
    description: 'Streaming English zipformer transducer (LibriSpeech+GigaSpeech), int8, chunk 16, left 128',
    files: {
      encoder: 'encoder-epoch-99-avg-1-chunk-16-left-128.int8.onnx',
      decoder: 'decoder-epoch-99-avg-1-chunk-16-left-128.onnx',
      joiner: 'joiner-epoch-99-avg-1-chunk-16-left-128.int8.onnx',
      tokens: 'tokens.txt',
    },
  },
  {
    id: 'nemo-streaming-fast-conformer-ctc-en-80ms',
    family: 'nemo_ctc',
    kind: 'streaming',
    url: `${ASR}/sherpa-onnx-nemo-streaming-fast-conformer-ctc-en-80ms.tar.bz2`,
    sizeBytes: 420_000_000,
    sha256: undefined,
    languages: ['en'],
    description: 'Streaming English NeMo FastConformer CTC, 80 ms chunks',
    files: { model: 'model.onnx', tokens: 'tokens.txt' },
  },
  {
    id: 'nemo-ctc-en-citrinet-512',
    family: 'nemo_ctc',
    kind: 'offline',
    url: `${ASR}/sherpa-onnx-nemo-ctc-en-citrinet-512.tar.bz2`,
    sizeBytes: 150_000_000,
    sha256: undefined,
    languages: ['en'],
    description: 'Offline English NeMo Citrinet-512 CTC',
    files: { model: 'model.int8.onnx', tokens: 'tokens.txt' },
  },
  {
    id: 'whisper-tiny.en',
    family: 'whisper',
    kind: 'offline',
    url: `${ASR}/sherpa-onnx-whisper-tiny.en.tar.bz2`,
    sizeBytes: 115_000_000,
    sha256: undefined,
    languages: ['en'],
    description: 'OpenAI Whisper tiny.en (offline, English), int8',
    files: { encoder: 'tiny.en-encoder.int8.onnx', decoder: 'tiny.en-decoder.int8.onnx', tokens: 'tiny.en-tokens.txt' },
  },
  {
    id: 'moonshine-tiny-en-int8',
    family: 'moonshine',
    kind: 'offline',
    url: `${ASR}/sherpa-onnx-moonshine-tiny-en-int8.tar.bz2`,
    sizeBytes: 120_000_000,
    sha256: undefined,
    languages: ['en'],
    description: 'Useful Sensors Moonshine tiny (offline, English), int8',
    files: {
      preprocessor: 'preprocess.onnx',
      encoder: 'encode.int8.onnx',
      uncached_decoder: 'uncached_decode.int8.onnx',
      cached_decoder: 'cached_decode.int8.onnx',
      tokens: 'tokens.txt',
    },
  },
  {
    id: 'sense-voice-zh-en-ja-ko-yue-2024-07-17',
    family: 'sense_voice',
    kind: 'offline',
    url: `${ASR}/sherpa-onnx-sense-voice-zh-en-ja-ko-yue-2024-07-17.tar.bz2`,
    sizeBytes: 1_000_000_000,
    sha256: undefined,
    languages: ['zh', 'en', 'ja', 'ko', 'yue'],
    description: 'SenseVoice small (offline; Chinese, English, Japanese, Korean, Cantonese), int8',
    files: { model: 'model.int8.onnx', tokens: 'tokens.txt' },
  },
  {
    id: 'silero-vad',
    family: 'silero_vad',
    kind: 'vad',
    url: 'https://github.com/snakers4/silero-vad/raw/806dcba3f0b5d95282d0889a074954a2f8c6397b/src/silero_vad/data/silero_vad.onnx',
    sizeBytes: 2_327_524,
    sha256: '1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3',
    languages: [],
    description: 'Silero VAD v5 (MIT), a single .onnx file',
    files: { model: 'silero_vad.onnx' },
  },
  {
    id: '3dspeaker-eres2net-base-zh-cn',
    family: '3d_speaker',
    kind: 'speaker-embedding',
    url: `${SPK}/3dspeaker_speech_eres2net_base_sv_zh-cn_3dspeaker_16k.onnx`,
    sizeBytes: 38_000_000,
    sha256: undefined,
    languages: [],
    description: '3D-Speaker ERes2Net base speaker embeddings (a single .onnx file)',
    files: { model: '3dspeaker_speech_eres2net_base_sv_zh-cn_3dspeaker_16k.onnx' },
  },
] satisfies CatalogEntry[]);

/** Finds a catalog entry by id. */
export function findCatalogEntry(id: string, catalog: readonly CatalogEntry[] = MODEL_CATALOG): CatalogEntry | undefined {
  return catalog.find((e) => e.id === id);
}
