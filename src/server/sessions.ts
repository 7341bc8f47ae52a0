import type { WebSocket } from 'ws';
import type { ServerContext } from './context.js';
import { StreamSession, type SessionHost } from './stream-session.js';

/** How long a session id stays its owner's after its connection ends (for the owner to resume it). */
const SESSION_OWNER_TTL_MS = 10 * 60_000;

/** What the registry reports to its server. @internal */
interface SessionEvents {
  /** A session started or resumed under `id`. */
  start(id: string): void;
  /** A session's connection ended. */
  end(id: string): void;
}

/**
 * The server's streaming sessions: every open connection, the live session of each id, and who
 * owns each id (a session id belongs to the credential that opened it, while it runs and for a
 * while after, so that nobody else can take it over, nor claim it before its owner resumes).
 * @internal
 */
export class SessionRegistry {
  readonly #ctx: ServerContext;
  readonly #events: SessionEvents;
  readonly #host: SessionHost;
  /** The live session of each id. */
  readonly #sessions = new Map<string, StreamSession>();
  readonly #owners = new Map<string, { principal: string; lastSeen: number }>();
  /** Every open connection, started or not. */
  readonly #all = new Set<StreamSession>();

  constructor(ctx: ServerContext, events: SessionEvents) {
    this.#ctx = ctx;
    this.#events = events;
    const o = ctx.options;
    this.#host = {
      pickModel: (name) => ctx.pickModel(name),
      register: (s) => this.#register(s),
      unregister: (s) => this.#unregister(s),
      maxStreamDurationSec: o.maxStreamDurationSec,
      idleTimeoutMs: o.idleTimeoutMs,
      startTimeoutMs: o.startTimeoutMs,
      minSampleRate: o.minSampleRate,
      keepaliveIntervalMs: o.keepaliveIntervalMs,
      silenceAckLagSec: o.silenceAckLagSec,
      log: o.log,
    };
  }

  /** Runs a session on an upgraded socket; its concurrency slot is released when it ends. */
  accept(ws: WebSocket, principal: string): void {
    const session = new StreamSession(ws, this.#host, principal);
    this.#all.add(session);
    void session.done.then(() => {
      this.#all.delete(session);
      this.#ctx.release();
      if (session.id !== '') this.#events.end(session.id);
    });
  }

  /** Hands every session back to its client (all, or only those not already finishing). */
  handBack(all: boolean): void {
    for (const s of this.#all) if (all || !s.finishing) s.handBack();
  }

  /** Resolves when every session open now is over. */
  async allDone(): Promise<void> {
    await Promise.all([...this.#all].map((s) => s.done));
  }

  #register(s: StreamSession): boolean {
    const now = Date.now();
    const owner = this.#owners.get(s.id);
    if (owner !== undefined && owner.principal !== s.principal && (this.#sessions.has(s.id) || now - owner.lastSeen < SESSION_OWNER_TTL_MS)) {
      this.#ctx.options.log?.('warn', `stream ${s.id}: resume with another credential refused`);
      return false;
    }
    const old = this.#sessions.get(s.id);
    if (old !== undefined && old !== s) old.supersede();
    this.#sessions.set(s.id, s);
    if (this.#owners.size > 1024) {
      for (const [id, o] of this.#owners) if (!this.#sessions.has(id) && now - o.lastSeen >= SESSION_OWNER_TTL_MS) this.#owners.delete(id);
    }
    this.#owners.set(s.id, { principal: s.principal, lastSeen: now });
    this.#events.start(s.id);
    return true;
  }

  #unregister(s: StreamSession): void {
    if (this.#sessions.get(s.id) === s) {
      this.#sessions.delete(s.id);
      this.#owners.set(s.id, { principal: s.principal, lastSeen: Date.now() });
    }
  }
}
