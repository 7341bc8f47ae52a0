/**
 * WebSocket close codes of the hybrid-asr streaming protocol, version 1.
 *
 * @module
 */

/** WebSocket close codes used by the protocol. */
export const CLOSE_CODES = {
  /** Session ended normally (after `end`) — never reconnect. */
  normal: 1000,
  /** The server is shutting down; resume elsewhere or later. */
  serviceRestart: 1012,
  /** Protocol violation by the client (bad message); not retryable. */
  protocolError: 4400,
  /** Authentication failed. */
  unauthorized: 4401,
  /** The session belongs to another credential (a resume with a different key or token). */
  forbidden: 4403,
  /** Audio duration limit reached. */
  tooLong: 4413,
  /** Idle timeout: nothing from the client for too long. */
  idle: 4408,
  /** The server failed; resuming may succeed. */
  serverError: 4500,
} as const;
