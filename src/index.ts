/**
 * hybrid-asr: speech recognition for Node.js and Electron, on-device (sherpa-onnx) or remote
 * (an OpenAI-compatible server), behind one interface, {@link ASRBackend}.
 *
 * @packageDocumentation
 */
export type * from './spec/index.js';
export * from './errors/index.js';
