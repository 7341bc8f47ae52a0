import type { ASRBackend } from '../spec/index.js';
import type { Authenticator } from './auth.js';
import type { ResolvedServerOptions } from './options.js';
import type { OriginPolicy } from './origin.js';

/**
 * What the HTTP routes and the WebSocket upgrade share with the server that owns them: its
 * options, its credentials, the model table and the concurrency slots (one slot per batch request
 * or streaming session).
 * @internal
 */
export interface ServerContext {
  /** The server's resolved options. */
  readonly options: ResolvedServerOptions;
  /** Keys and streaming tokens. */
  readonly auth: Authenticator;
  /** Whether `close()` was called. */
  closing(): boolean;
  /** Batch requests and streaming sessions in progress. */
  active(): number;
  /** Who may call from a browser. */
  readonly originPolicy: OriginPolicy;
  /** The backend for a model name (the default when absent); undefined when strict and unknown. */
  pickModel(name: string | undefined): { name: string; backend: ASRBackend } | undefined;
  /** Takes a concurrency slot; false at the limit. */
  tryAcquire(): boolean;
  /** Gives a slot back. */
  release(): void;
}
