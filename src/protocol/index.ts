/**
 * The hybrid-asr streaming protocol, version 1 (docs/streaming-protocol.md): what the server and
 * the remote backend both speak. Internal to the package: the wire itself is the documented
 * interface (a client in another language reads docs/streaming-protocol.md, not these types).
 *
 * @module
 */
export { MAX_FRAME_BYTES, STREAM_PATH, STREAM_PROTOCOL_VERSION, STREAM_SUBPROTOCOL, STREAM_TOKEN_PATH, TOKEN_SUBPROTOCOL_PREFIX } from './constants.js';
export { CLOSE_CODES } from './close-codes.js';
export type { ServerMessage, StartMessage, StreamEncoding } from './messages.js';
export { bytesPerSample, decodePcm, encodePcm } from './pcm.js';
export { parseClientMessage, parseServerMessage, startMessageProblem } from './parse.js';
