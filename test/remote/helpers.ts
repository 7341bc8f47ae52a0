/** Test helpers for the remote backend: a resettable TCP proxy, a paced chunk source, a `serve` child. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createTcpServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AudioChunk, TranscriptionEvent } from '../../src/spec/index.js';
import { PROJECT_ROOT } from '../helpers/shared.js';

/** A TCP proxy on 127.0.0.1 whose connections can be cut at will (a "connection reset by a proxy"). */
export class ResettableProxy {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  /** Bytes forwarded client → server, over all connections. */
  upstreamBytes = 0;
  /** Called with the running byte count after each forwarded client chunk. */
  onUpstream: ((bytes: number) => void) | undefined;
  port = 0;

  constructor(targetPort: number) {
    this.#server = createTcpServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      const pair: [Socket, Socket] = [client, upstream];
      this.#pairs.add(pair);
      client.on('data', (d) => {
        this.upstreamBytes += d.length;
        upstream.write(d);
        this.onUpstream?.(this.upstreamBytes);
      });
      upstream.on('data', (d) => client.write(d));
      const end = (): void => {
        this.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end);
      upstream.on('close', end);
      client.on('error', end);
      upstream.on('error', end);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    const a = this.#server.address();
    this.port = typeof a === 'object' && a !== null ? a.port : 0;
    return this.port;
  }

  /**
   * Stalls every open connection: neither side's bytes are read any more (a hung server or a
   * congested path), so nothing the client sends is acknowledged. New connections are not stalled.
   */
  stallAll(): void {
    for (const [c, u] of this.#pairs) {
      c.pause();
      u.pause();
    }
  }

  /** Resets every open connection (RST on both sides). */
  resetAll(): void {
    for (const [c, u] of this.#pairs) {
      c.resetAndDestroy();
      u.resetAndDestroy();
    }
    this.#pairs.clear();
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

/** Chunks of `chunkSec` from mono samples, yielded with `delayMs` between them. */
export async function* pacedChunks(
  samples: Float32Array,
  sampleRate: number,
  chunkSec: number,
  delayMs = 0,
  onChunk?: (index: number) => void,
): AsyncGenerator<AudioChunk> {
  const step = Math.round(chunkSec * sampleRate);
  let index = 0;
  for (let i = 0; i < samples.length; i += step) {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    else await new Promise((r) => setImmediate(r));
    onChunk?.(index++);
    yield { samples: samples.slice(i, i + step), sampleRate };
  }
}

/** Collects every event of a stream. */
export async function drain(events: AsyncIterable<TranscriptionEvent>): Promise<TranscriptionEvent[]> {
  const out: TranscriptionEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

/** The words of all finals, in order. */
export function finalWords(events: readonly TranscriptionEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'final' ? e.segment.text.split(/\s+/).filter((w) => w !== '') : []));
}

/** A `hybrid-asr serve` child process (run from source through tsx). */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly stderr: () => string;
}

/** Starts `hybrid-asr serve` with `args` and resolves with the URL it prints. */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/cli/index.ts'), 'serve', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', (l) => resolve(l.trim()));
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  return { child, url, stderr: () => err };
}

/** Kills a child and waits for it to be gone. */
export async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await gone;
}
