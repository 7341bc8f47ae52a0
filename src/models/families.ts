/**
 * What each sherpa-onnx model family needs: file roles, the ONNX metadata keys sherpa-onnx's C++
 * loader reads unconditionally (a missing key makes it print "'<key>' does not exist in the
 * metadata" and call `exit()`), and whether its tokens.txt must hold a blank symbol.
 *
 * The keys were taken from sherpa-onnx's model loaders (offline-ctc-model.cc dispatch on
 * `model_type`, online-nemo-ctc-model.cc, online-zipformer2-ctc-model.cc,
 * online-transducer-model.cc and online-zipformer{,2}-transducer-model.cc,
 * offline-transducer-model.cc, offline-whisper-model.cc, offline-sense-voice-model.cc,
 * offline-paraformer-model.cc, speaker-embedding-extractor-model.cc). Moonshine and Silero VAD
 * read no metadata.
 *
 * @module
 */
import type { ModelKind } from './manifest.js';

/** A metadata requirement on one ONNX role. @internal */
interface MetadataRule {
  /** The role whose ONNX file carries the metadata. */
  readonly role: string;
  /** Keys that must be present. */
  readonly keys: readonly string[];
  /** Allowed values of `model_type` (when the loader dispatches on it). */
  readonly modelTypes?: readonly string[] | undefined;
  /** Allowed values of `framework`. */
  readonly frameworks?: readonly string[] | undefined;
  /** Extra keys required for a given `model_type` value. */
  readonly keysByModelType?: Readonly<Record<string, readonly string[]>> | undefined;
}

/** What one family (for one kind) needs. @internal */
interface FamilySpec {
  /** Roles that must be in `files`. */
  readonly roles: readonly string[];
  /** Roles that are ONNX files. */
  readonly onnxRoles: readonly string[];
  /** Metadata requirements. */
  readonly metadata: readonly MetadataRule[];
  /** Whether tokens.txt must contain `<blk>`, `<eps>` or `<blank>`. */
  readonly needsBlank: boolean;
}

const ZIPFORMER2_STREAMING_KEYS = [
  'encoder_dims',
  'query_head_dims',
  'value_head_dims',
  'num_heads',
  'num_encoder_layers',
  'cnn_module_kernels',
  'left_context_len',
  'T',
  'decode_chunk_len',
] as const;

const ZIPFORMER_STREAMING_KEYS = ['encoder_dims', 'attention_dims', 'num_encoder_layers', 'cnn_module_kernels', 'left_context_len', 'T', 'decode_chunk_len'] as const;

const NEMO_STREAMING_CTC_KEYS = [
  'window_size',
  'chunk_shift',
  'subsampling_factor',
  'vocab_size',
  'cache_last_channel_dim1',
  'cache_last_channel_dim2',
  'cache_last_channel_dim3',
  'cache_last_time_dim1',
  'cache_last_time_dim2',
  'cache_last_time_dim3',
] as const;

const WHISPER_KEYS = [
  'n_mels',
  'n_text_layer',
  'n_text_ctx',
  'n_text_state',
  'n_vocab',
  'sot',
  'eot',
  'blank_id',
  'translate',
  'transcribe',
  'is_multilingual',
  'no_timestamps',
  'no_speech',
  'sot_sequence',
] as const;

const SENSE_VOICE_KEYS = [
  'vocab_size',
  'lfr_window_size',
  'lfr_window_shift',
  'normalize_samples',
  'with_itn',
  'without_itn',
  'lang_auto',
  'lang_zh',
  'lang_en',
  'lang_ja',
  'lang_ko',
  'lang_yue',
  'neg_mean',
  'inv_stddev',
] as const;

const TRANSDUCER_ROLES = ['encoder', 'decoder', 'joiner', 'tokens'] as const;
const DECODER_RULE: MetadataRule = { role: 'decoder', keys: ['vocab_size', 'context_size'] };

/** Family names accepted per kind. Aliases map to the same spec. @internal */
export const FAMILIES: Readonly<Record<ModelKind, Readonly<Record<string, FamilySpec>>>> = {
  offline: {
    zipformer_ctc: {
      roles: ['model', 'tokens'],
      onnxRoles: ['model'],
      metadata: [{ role: 'model', keys: ['model_type'], modelTypes: ['zipformer2_ctc'] }],
      needsBlank: true,
    },
    nemo_ctc: {
      roles: ['model', 'tokens'],
      onnxRoles: ['model'],
      metadata: [
        {
          role: 'model',
          keys: ['model_type', 'vocab_size', 'subsampling_factor'],
          modelTypes: ['EncDecCTCModelBPE', 'EncDecCTCModel', 'EncDecHybridRNNTCTCBPEModel'],
        },
      ],
      needsBlank: true,
    },
    transducer: {
      roles: TRANSDUCER_ROLES,
      onnxRoles: ['encoder', 'decoder', 'joiner'],
      metadata: [DECODER_RULE],
      needsBlank: true,
    },
    whisper: {
      roles: ['encoder', 'decoder', 'tokens'],
      onnxRoles: ['encoder', 'decoder'],
      metadata: [{ role: 'encoder', keys: WHISPER_KEYS }],
      needsBlank: false,
    },
    moonshine: {
      roles: ['preprocessor', 'encoder', 'uncached_decoder', 'cached_decoder', 'tokens'],
      onnxRoles: ['preprocessor', 'encoder', 'uncached_decoder', 'cached_decoder'],
      metadata: [],
      needsBlank: false,
    },
    sense_voice: {
      roles: ['model', 'tokens'],
      onnxRoles: ['model'],
      metadata: [{ role: 'model', keys: SENSE_VOICE_KEYS }],
      needsBlank: false,
    },
    paraformer: {
      roles: ['model', 'tokens'],
      onnxRoles: ['model'],
      metadata: [{ role: 'model', keys: ['vocab_size', 'lfr_window_size', 'lfr_window_shift', 'neg_mean', 'inv_stddev'] }],
      needsBlank: false,
    },
  },
  streaming: {
    transducer: {
      roles: TRANSDUCER_ROLES,
      onnxRoles: ['encoder', 'decoder', 'joiner'],
      metadata: [
        {
          role: 'encoder',
          keys: ['model_type'],
          modelTypes: ['conformer', 'ebranchformer', 'lstm', 'zipformer', 'zipformer2'],
          keysByModelType: { zipformer2: ZIPFORMER2_STREAMING_KEYS, zipformer: ZIPFORMER_STREAMING_KEYS },
        },
        DECODER_RULE,
      ],
      needsBlank: true,
    },
    zipformer2_ctc: {
      roles: ['model', 'tokens'],
      onnxRoles: ['model'],
      metadata: [{ role: 'model', keys: ZIPFORMER2_STREAMING_KEYS }],
      needsBlank: true,
    },
    nemo_ctc: {
      roles: ['model', 'tokens'],
      onnxRoles: ['model'],
      metadata: [{ role: 'model', keys: NEMO_STREAMING_CTC_KEYS }],
      needsBlank: true,
    },
  },
  vad: {
    silero_vad: { roles: ['model'], onnxRoles: ['model'], metadata: [], needsBlank: false },
  },
  'speaker-embedding': {
    '3d_speaker': {
      roles: ['model'],
      onnxRoles: ['model'],
      metadata: [
        {
          role: 'model',
          keys: ['output_dim', 'sample_rate', 'normalize_samples', 'language', 'framework'],
          frameworks: ['3d-speaker', 'wespeaker'],
        },
      ],
      needsBlank: false,
    },
  },
};

/** Alternative spellings of family names. */
const FAMILY_ALIASES: Readonly<Record<string, string>> = {
  zipformer2_ctc: 'zipformer_ctc',
  '3d-speaker': '3d_speaker',
  wespeaker: '3d_speaker',
  'silero-vad': 'silero_vad',
  'sense-voice': 'sense_voice',
};

/**
 * Looks up the spec of `family` for `kind`, trying aliases (offline `zipformer2_ctc` is
 * `zipformer_ctc`, streaming `zipformer_ctc` is `zipformer2_ctc`). @internal
 */
export function familySpec(kind: ModelKind, family: string): FamilySpec | undefined {
  const table = FAMILIES[kind];
  const direct = table[family];
  if (direct) return direct;
  const alias = FAMILY_ALIASES[family];
  if (alias && table[alias]) return table[alias];
  if (kind === 'streaming' && family === 'zipformer_ctc') return table.zipformer2_ctc;
  return undefined;
}

/** Kinds under which `family` exists. @internal */
export function kindsOfFamily(family: string): ModelKind[] {
  return (Object.keys(FAMILIES) as ModelKind[]).filter((k) => familySpec(k, family) !== undefined);
}
