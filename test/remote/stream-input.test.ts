/**
 * What the remote backend does with the caller's chunks and with what its server sends: one chunk
 * validator (the one every backend uses: `InvalidAudioError`, live rates 1,000–384,000 Hz), and
 * every server message checked by the protocol's validator before it is used.
 */
import { afterEach, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { RemoteBackend } from '../../src/backends/remote/index.js';
import { InvalidAudioError, StreamInterruptedError } from '../../src/errors/index.js';
import { createServer, type ASRServer } from '../../src/server/index.js';
import { STREAM_SUBPROTOCOL } from '../../src/protocol/index.js';
import type { AudioChunk, TranscriptionEvent } from '../../src/spec/index.js';
import { TestBackend } from '../../src/testing/index.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function realServer(): Promise<string> {
  const server: ASRServer = createServer({ models: { m: new TestBackend({ script: [{ word: 'hello', start: 0.2, end: 0.6 }] }) }, port: 0 });
  closers.push(() => server.close({ graceMs: 100 }));
  return `${await server.listen()}/v1`;
}

async function* chunks(...list: AudioChunk[]): AsyncGenerator<AudioChunk> {
  for (const c of list) yield c;
}

async function collect(it: AsyncIterable<TranscriptionEvent>): Promise<{ events: TranscriptionEvent[]; error: unknown }> {
  const events: TranscriptionEvent[] = [];
  try {
    for await (const e of it) events.push(e);
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

const good = (n = 1600): AudioChunk => ({ samples: new Float32Array(n), sampleRate: 16000 });

it.each([
  ['a sample rate below 1,000 Hz', { samples: new Float32Array(8), sampleRate: 500 }, /sampleRate.*1000 to 384000.*500/],
  ['a sample rate above 384,000 Hz', { samples: new Float32Array(8), sampleRate: 400_000 }, /sampleRate.*1000 to 384000.*400000/],
  ['a fractional sample rate', { samples: new Float32Array(8), sampleRate: 16000.5 }, /sampleRate/],
  ['65 channels', { samples: new Float32Array(65), sampleRate: 16000, channels: 65 }, /channels.*1\.\.64/],
  ['a partial frame', { samples: new Int16Array(3), sampleRate: 16000, channels: 2 }, /whole number of 2-channel frames/],
  ['a NaN sample', { samples: Float32Array.of(0, NaN), sampleRate: 16000 }, /NaN/],
  ['samples that are not a typed array', { samples: [0, 0] as unknown as Float32Array, sampleRate: 16000 }, /Float32Array or an Int16Array/],
] as const)('a chunk with %s fails the remote stream with InvalidAudioError, as on every backend', async (_what, chunk, message) => {
  const remote = new RemoteBackend({ baseUrl: await realServer() });
  const { events, error } = await collect(remote.transcribeStream(chunks(good(), chunk)));
  expect(error).toBeInstanceOf(InvalidAudioError);
  expect((error as Error).message).toMatch(message);
  expect(events.some((e) => e.type === 'end')).toBe(false);
  // The same chunk is refused the same way by another backend.
  const other = await collect(new TestBackend({ script: [] }).transcribeStream(chunks(chunk)));
  expect(other.error).toBeInstanceOf(InvalidAudioError);
});

it('a chunk whose format changes mid-stream is an InvalidAudioError', async () => {
  const remote = new RemoteBackend({ baseUrl: await realServer() });
  const { error } = await collect(remote.transcribeStream(chunks(good(), { samples: new Float32Array(800), sampleRate: 8000 })));
  expect(error).toBeInstanceOf(InvalidAudioError);
  expect((error as Error).message).toMatch(/8000 Hz × 1 after 16000 Hz × 1/);
});

it('valid chunks at the live-rate limits stream to the end', async () => {
  const remote = new RemoteBackend({ baseUrl: await realServer() });
  for (const sampleRate of [8000, 384_000]) {
    const { events, error } = await collect(remote.transcribeStream(chunks({ samples: new Int16Array(sampleRate / 10), sampleRate })));
    expect(error).toBeUndefined();
    expect(events.at(-1)?.type).toBe('end');
  }
});

/** A WebSocket server on 127.0.0.1 that answers `start` with `ready`, then sends `extra`. */
async function scriptedServer(extra: Record<string, unknown>[]): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => STREAM_SUBPROTOCOL });
  await new Promise<void>((r) => wss.once('listening', r));
  closers.push(() => new Promise<void>((r) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => r());
  }));
  wss.on('connection', (ws) => {
    ws.once('message', () => {
      const base = { ack: 0, audio_start: 0, audio_end: 0 };
      ws.send(JSON.stringify({ type: 'ready', version: 1, session_id: 'session-0001', sample_rate: 16000, resumed: false, ...base }));
      for (const m of extra) ws.send(JSON.stringify({ ...base, ...m }));
    });
  });
  const a = wss.address();
  return `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/v1`;
}

it.each([
  ['a final without a segment', { type: 'final', audio_end: 100 }, /`final` has no `segment`/],
  ['a final whose words are not words', { type: 'final', segment: { text: 'a', start: 0, end: 1, words: [{ w: 1 }] } }, /`final` has a segment word/],
  ['a partial without text', { type: 'partial', start: 0, end: 1 }, /`partial` has no string `text`/],
  ['an end without a duration', { type: 'end' }, /`end` has no numeric `duration_sec`/],
  ['an error without `fatal`', { type: 'error', code: 'x', message: 'y', retryable: true }, /`error` has no boolean/],
  ['a message without `ack`', { type: 'ack', ack: 'soon' }, /`ack` has no numeric `ack`/],
])('a server that sends %s gets a typed error, not a garbled event', async (_what, message, expected) => {
  const remote = new RemoteBackend({ baseUrl: await scriptedServer([message]), reconnect: { maxAttempts: 0 } });
  const { events, error } = await collect(remote.transcribeStream(chunks(good())));
  expect(events).toEqual([]);
  expect(error).toBeInstanceOf(StreamInterruptedError);
  expect((error as Error).message).toMatch(/The server sent a malformed message/);
  expect((error as Error).message).toMatch(expected);
});

it('a message type of a later minor version is ignored', async () => {
  const url = await scriptedServer([
    { type: 'telemetry', anything: true },
    { type: 'end', duration_sec: 0.1, ack: 1600, audio_end: 1600 },
  ]);
  const remote = new RemoteBackend({ baseUrl: url, reconnect: { maxAttempts: 0 } });
  const { events, error } = await collect(remote.transcribeStream(chunks(good())));
  expect(error).toBeUndefined();
  expect(events.map((e) => e.type)).toEqual(['end']);
});
