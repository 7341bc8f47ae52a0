import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { STREAM_PATH, TOKEN_SUBPROTOCOL_PREFIX } from '../protocol/index.js';
import type { ServerContext } from './context.js';
import { originRefusal } from './origin.js';
import type { SessionRegistry } from './sessions.js';

const STATUS_TEXT: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/**
 * The server's WebSocket door: an upgrade request becomes a streaming session only on the stream
 * path, while the server is open, from an allowed origin, with a key or a streaming token, and
 * within the concurrency limit; anything else gets an HTTP error answer in OpenAI's shape.
 * @internal
 */
export function handleUpgrade(
  ctx: ServerContext,
  wss: WebSocketServer,
  sessions: SessionRegistry,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const reject = (status: number, message: string, headers: Record<string, string> = {}): void => {
    const body = JSON.stringify({ error: { message, type: status < 500 ? 'invalid_request_error' : 'server_error', param: null, code: null } });
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
    );
  };
  const o = ctx.options;
  const path = (req.url ?? '').split('?')[0];
  if (path !== STREAM_PATH) return reject(404, `Unknown WebSocket endpoint ${path}`);
  if (ctx.closing()) return reject(503, 'The server is shutting down', { 'Retry-After': String(o.retryAfterSec) });
  const refusal = originRefusal({ host: req.headers.host, origin: req.headers.origin }, ctx.originPolicy);
  if (refusal !== undefined) return reject(403, refusal);
  const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim());
  const token = protocols.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX))?.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
  const principal = ctx.auth.principalOfHeader(req.headers.authorization) ?? (token !== undefined ? ctx.auth.principalOfToken(token) : undefined);
  if (principal === undefined) return reject(401, 'Incorrect or missing API key (send "Authorization: Bearer <key>" or a streaming token)');
  if (!ctx.tryAcquire()) {
    return reject(429, `The server is at its concurrency limit (${o.maxConcurrency})`, { 'Retry-After': String(o.retryAfterSec) });
  }
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => sessions.accept(ws, principal));
}
