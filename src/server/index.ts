/**
 * The hybrid-asr server: OpenAI-compatible batch transcription and resumable WebSocket streaming
 * in front of any `ASRBackend`.
 *
 * @module
 */
export { ASRServer, createServer, type ASRServerEvents, type ServerCloseOptions } from './server.js';
export type { ServerLogger, ServerOptions } from './options.js';
export {
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  STREAM_PATH,
  STREAM_PROTOCOL_VERSION,
  STREAM_SUBPROTOCOL,
  STREAM_TOKEN_PATH,
  TOKEN_SUBPROTOCOL_PREFIX,
  type AckMessage,
  type ClientMessage,
  type EndMessage,
  type ErrorMessage,
  type FinalMessage,
  type PartialMessage,
  type ReadyMessage,
  type ServerMessage,
  type ServerMessageBase,
  type StartMessage,
  type StopMessage,
  type StreamEncoding,
  type WarningMessage,
} from '../protocol/index.js';
