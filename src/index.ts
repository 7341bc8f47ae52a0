/**
 * hybrid-asr: speech recognition for Node.js and Electron, on-device (sherpa-onnx) or remote
 * (an OpenAI-compatible server), behind one interface, {@link ASRBackend}.
 *
 * Everything public is named here. Intentionally internal: `src/internal/` (the lazy addon
 * loader) and each module's helpers not re-exported below.
 *
 * @packageDocumentation
 */
export type * from './spec/index.js';
export * from './errors/index.js';
export * from './audio/index.js';
export * from './format/index.js';
export * from './metrics/index.js';
export * from './models/index.js';
export * from './merge/index.js';
export * from './diarization/index.js';
export * from './vad/index.js';
export * from './backends/native/index.js';
export * from './chunking/index.js';
export * from './backends/remote/index.js';
export * from './server/index.js';
export * from './hybrid/index.js';
