/**
 * hybrid-asr: speech recognition for Node.js and Electron, on-device (sherpa-onnx) or remote
 * (an OpenAI-compatible server), behind one interface, {@link ASRBackend}.
 *
 * This file names every public export; anything not named here is internal and may change in any
 * release. Intentionally internal: `src/internal/` (the async channel, the lazy addon loader…),
 * `src/protocol/` (the streaming wire protocol, documented in docs/streaming-protocol.md), the live
 * processor's spool and commit policy, model-folder plumbing (ONNX headers, manifests, archive
 * extraction) and the CLI's glue. Test helpers ship from `hybrid-asr/testing`.
 *
 * @packageDocumentation
 */

// The spec: the types every backend and every layer share (type-only).
export type {
  ASRBackend,
  ASRErrorLike,
  AudioChunk,
  AudioInput,
  BackendCapabilities,
  BackendOptions,
  DiarizationEvent,
  DiarizationOptions,
  EndEvent,
  ErrorEvent,
  FinalEvent,
  Float32Audio,
  PartialEvent,
  Pcm16Audio,
  Segment,
  SpeakerInfo,
  SpeakerTurn,
  StreamConfig,
  Transcription,
  TranscriptionConfig,
  TranscriptionEvent,
  TranscriptionProgress,
  TranscriptionWarning,
  WarningEvent,
  Word,
} from './spec/index.js';

// Errors: one hierarchy with `code`, `isRetryable` and a cross-realm `isInstance` guard.
export {
  APIStatusError,
  ASRError,
  AbortedError,
  AuthenticationError,
  BackendUnavailableError,
  BadRequestError,
  ConflictError,
  ConnectionError,
  ConnectionTimeoutError,
  InternalServerError,
  InvalidArgumentError,
  InvalidAudioError,
  ModelError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  RateLimitError,
  StreamInterruptedError,
  TimeoutError,
  UnprocessableEntityError,
} from './errors/index.js';
export type {
  APIStatusErrorOptions,
  ASRErrorOptions,
} from './errors/index.js';

// Audio: decoding files, live chunks, resampling, WAV encoding.
export {
  ChunkNormalizer,
  Resampler,
  chunkToMono,
  decodeAudio,
  encodeWav,
  openAudio,
  resample,
} from './audio/index.js';
export type {
  AudioFormatInfo,
  AudioReader,
  DecodeOptions,
  DecodedAudio,
  EncodeWavOptions,
  OpenAudioOptions,
  ResamplerOptions,
} from './audio/index.js';

// Transcript formats: text, JSON, SRT, WebVTT.
export {
  OUTPUT_FORMATS,
  buildCues,
  formatTranscription,
  toJson,
  toSrt,
  toText,
  toVtt,
} from './format/index.js';
export type {
  CaptionFormat,
  CaptionOptions,
  Cue,
  FormatOptions,
  JsonFormatOptions,
  OutputFormat,
  TextFormatOptions,
} from './format/index.js';

// Metrics: word error rate.
export {
  normalizeWords,
  wordErrorRate,
} from './metrics/index.js';
export type {
  AlignmentOp,
  WerResult,
} from './metrics/index.js';

// Models: the catalog, installing, resolving, validating and proving model folders.
export {
  DEFAULT_MAX_DOWNLOAD_BYTES,
  MODEL_CATALOG,
  MODEL_KINDS,
  checkModelId,
  defaultCacheDir,
  findCatalogEntry,
  findModels,
  installModel,
  proveModel,
  resolveModel,
  scanModels,
  validateModel,
} from './models/index.js';
export type {
  CatalogEntry,
  DownloadProgress,
  InstallOptions,
  InstallRecord,
  ModelKind,
  ModelManifest,
  ModelProblem,
  ModelProof,
  ModelProofEvent,
  ModelProofOptions,
  ModelProofSource,
  ResolveOptions,
  ResolvedModel,
  ValidateOptions,
} from './models/index.js';

// Merge: words and speaker turns into attributed segments.
export {
  applyDiarization,
  assignSpeakers,
  groupUtterances,
  speakerStats,
} from './merge/index.js';
export type {
  ApplyDiarizationOptions,
  AssignSpeakersOptions,
  GroupUtterancesOptions,
} from './merge/index.js';

// Diarization: who spoke when, offline and live.
export {
  DIARIZATION_SAMPLE_RATE,
  Diarizer,
  OnlineDiarizer,
  reconcileSpeakers,
} from './diarization/index.js';
export type {
  ClusteringCallOptions,
  DiarizationAudio,
  DiarizeOptions,
  DiarizerOptions,
  FinalDiarization,
  OnlineDiarizerOptions,
} from './diarization/index.js';

// Voice activity detection (Silero VAD).
export {
  VoiceActivityDetector,
} from './vad/index.js';
export type {
  SpeechSegment,
  VadOptions,
} from './vad/index.js';

// The native backend (sherpa-onnx, on-device).
export {
  NativeBackend,
} from './backends/native/index.js';
export type {
  EndpointOptions,
  NativeBackendOptions,
} from './backends/native/index.js';

// The live processor: hours-long meetings with a crash-safe spool.
export {
  ChunkedLiveProcessor,
  SpoolError,
  SpoolLockedError,
  readCommittedWords,
} from './chunking/index.js';
export type {
  ChunkedLiveProcessorOptions,
  CommitRecord,
  LagEvent,
  LiveDiarizer,
  LiveEvent,
  LiveMetricsSummary,
  LiveProcessorEvents,
  RecoveredState,
  RecoveryEvent,
  SpeakerRemapEvent,
  SpoolRecovery,
  SpoolRecoveryWarning,
  TickEvent,
} from './chunking/index.js';

// The remote backend (an OpenAI-compatible server, resumable WebSocket streams).
export {
  RemoteBackend,
} from './backends/remote/index.js';
export type {
  ReconnectOptions,
  RemoteBackendEvents,
  RemoteBackendOptions,
  RemoteCallOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './backends/remote/index.js';

// The server (`hybrid-asr serve`).
export {
  ASRServer,
  createServer,
} from './server/index.js';
export type {
  ASRServerEvents,
  ServerCloseOptions,
  ServerLogger,
  ServerOptions,
} from './server/index.js';

// The hybrid manager: selection by tier, network and capability; failover; dual mode.
export {
  DEFAULT_TIER_POLICIES,
  HybridManager,
  JsonFileSettingsStore,
  MemorySettingsStore,
  NetworkMonitor,
  NoBackendError,
  SettingsError,
  compareTranscriptions,
  defaultSettingsPath,
  selectBackend,
  tierAllows,
  tierPolicyFromTable,
} from './hybrid/index.js';
export type {
  BackendRole,
  BackendSelectedEvent,
  BackendSwitchEvent,
  BackendView,
  ComparisonReport,
  ComparisonSide,
  DecisionRow,
  HybridManagerEvents,
  HybridManagerOptions,
  HybridMode,
  HybridSettings,
  MonitorTimers,
  NetworkMonitorEvents,
  NetworkMonitorOptions,
  NetworkState,
  RequestNeeds,
  Selection,
  SelectionInput,
  SettingsStore,
  TierFeature,
  TierPolicy,
  TierPolicyFn,
  TierRequirement,
  UpgradeRequiredEvent,
  WordDifference,
} from './hybrid/index.js';
