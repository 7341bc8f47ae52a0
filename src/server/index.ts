/**
 * The hybrid-asr server: OpenAI-compatible batch transcription and resumable WebSocket streaming
 * in front of any `ASRBackend`.
 *
 * @module
 */
export { ASRServer, createServer, type ASRServerEvents, type ServerCloseOptions } from './server.js';
export type { ServerLogger, ServerOptions } from './options.js';
