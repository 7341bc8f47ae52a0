/**
 * The native backend: on-device recognition through sherpa-onnx-node.
 * @module
 */
export { NativeBackend } from './backend.js';
export type { EndpointOptions, NativeBackendOptions } from './options.js';
