/**
 * The hybrid-asr streaming protocol, version 1 (docs/streaming-protocol.md): what the server and
 * the remote backend both speak. Message types, close codes, paths and limits are public; the
 * validators and PCM codec are internal to the package.
 *
 * @module
 */
export {
  MAX_FRAME_BYTES,
  STREAM_PATH,
  STREAM_PROTOCOL_VERSION,
  STREAM_SUBPROTOCOL,
  STREAM_TOKEN_PATH,
  TOKEN_SUBPROTOCOL_PREFIX,
} from './constants.js';
export { CLOSE_CODES } from './close-codes.js';
export type {
  AckMessage,
  ClientMessage,
  EndMessage,
  ErrorMessage,
  FinalMessage,
  PartialMessage,
  ReadyMessage,
  ServerMessage,
  ServerMessageBase,
  StartMessage,
  StopMessage,
  StreamEncoding,
  WarningMessage,
} from './messages.js';
export { bytesPerSample, decodePcm, encodePcm } from './pcm.js';
export { parseClientMessage, parseServerMessage, startMessageProblem, type ParsedClientMessage, type ProtocolProblem } from './parse.js';
