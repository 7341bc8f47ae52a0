/**
 * Names and sizes of the hybrid-asr streaming protocol, version 1 (see docs/streaming-protocol.md):
 * the endpoint paths, the subprotocols and the frame limit both sides enforce.
 *
 * @module
 */

/** Version of the streaming protocol this code speaks. */
export const STREAM_PROTOCOL_VERSION = 1;
/** Path of the WebSocket endpoint. */
export const STREAM_PATH = '/v1/audio/stream';
/** Path of the short-lived streaming token endpoint (POST, bearer-authenticated). */
export const STREAM_TOKEN_PATH = '/v1/audio/stream/tokens';
/** WebSocket subprotocol naming the protocol version. */
export const STREAM_SUBPROTOCOL = 'hybrid-asr.v1';
/** Prefix of the subprotocol that carries a short-lived token (browsers can't set headers). */
export const TOKEN_SUBPROTOCOL_PREFIX = 'hybrid-asr.token.';
/** Largest binary frame (and JSON message) either side accepts, in bytes. */
export const MAX_FRAME_BYTES = 1024 * 1024;
