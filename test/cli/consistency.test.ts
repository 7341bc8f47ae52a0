import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NativeBackend } from '../../src/backends/native/index.js';
import { AbortedError, ConnectionTimeoutError, TimeoutError } from '../../src/errors/index.js';
import type { TranscriptionProgress } from '../../src/spec/index.js';
import { runCli } from '../helpers/cli.js';
import { AUDIO_DIR, OFFLINE_MODEL, STREAMING_MODEL } from '../helpers/shared.js';

const clip = join(AUDIO_DIR, 'espeak', 'espeak-001.wav');
const meeting = join(AUDIO_DIR, 'meetings', 'meeting-short-01.wav');

/** Every number under a time key has at most three decimals. */
function timesOf(v: unknown, out: number[] = [], key = ''): number[] {
  if (typeof v === 'number' && (key === 'start' || key === 'end' || key.endsWith('Sec'))) out.push(v);
  else if (Array.isArray(v)) for (const x of v) timesOf(x, out, key);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) timesOf(x, out, k);
  return out;
}
const roundedToMs = (x: number): boolean => Math.abs(x * 1000 - Math.round(x * 1000)) < 1e-6 && String(x).replace(/^-?\d+\.?/, '').length <= 3;

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('CLI consistency', () => {
  it('transcribe - reads WAV from standard input, raw PCM with --raw-rate, and gives what the file gives', async () => {
    const bytes = await readFile(clip);
    const fromFile = await runCli(['transcribe', clip, '-m', OFFLINE_MODEL, '--progress', 'none']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const fromStdin = await runCli(['transcribe', '-', '-m', OFFLINE_MODEL, '--progress', 'none'], {}, bytes);
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toBe(fromFile.stdout);
    const raw = await runCli(['transcribe', '-', '-m', OFFLINE_MODEL, '--raw-rate', '16000'], {}, bytes.subarray(44));
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdout.trim()).toBe(fromFile.stdout.trim());
    const twice = await runCli(['transcribe', '-', '-', '-m', OFFLINE_MODEL], {}, bytes);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/standard input\) can be given once/);
    const garbage = await runCli(['transcribe', '-', '-m', OFFLINE_MODEL], {}, Buffer.from('not a wav file at all, just text\n'));
    expect(garbage.code).toBe(2);
    expect(garbage.stderr.trim().split('\n')[0]).toMatch(/^hybrid-asr: .*(RIFF|WAV)/i);
  });

  it('-m means --model in transcribe, stream and live', async () => {
    for (const args of [
      ['transcribe', clip, '-m', OFFLINE_MODEL, '--progress', 'none'],
      ['stream', clip, '-m', STREAMING_MODEL, '--progress', 'none'],
      ['live', clip, '-m', OFFLINE_MODEL, '--speed', 'max'],
    ]) {
      const r = await runCli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout.toLowerCase()).toContain('example');
    }
  });

  it('JSON times are rounded to the millisecond (transcribe --format json and stream events)', async () => {
    const j = await runCli(['transcribe', meeting, '-m', OFFLINE_MODEL, '--format', 'json', '--progress', 'none']);
    expect(j.code, j.stderr).toBe(0);
    const times = timesOf(JSON.parse(j.stdout));
    expect(times.length).toBeGreaterThan(100);
    expect(times.filter((x) => !roundedToMs(x))).toEqual([]);
    const s = await runCli(['stream', clip, '-m', STREAMING_MODEL, '--progress', 'none']);
    expect(s.code, s.stderr).toBe(0);
    const streamTimes = s.stdout.trim().split('\n').flatMap((l) => timesOf(JSON.parse(l)));
    expect(streamTimes.length).toBeGreaterThan(5);
    expect(streamTimes.filter((x) => !roundedToMs(x))).toEqual([]);
  });

  it('--progress lines reports on stderr only; none reports nothing; stdout is the same', async () => {
    const lines = await runCli(['transcribe', meeting, '-m', OFFLINE_MODEL, '--progress', 'lines']);
    expect(lines.code, lines.stderr).toBe(0);
    const reports = lines.stderr.split('\n').filter((l) => l.startsWith('transcribing meeting-short-01.wav: '));
    expect(reports.length).toBeGreaterThanOrEqual(1);
    expect(reports.at(-1)).toMatch(/\(100%\)$/);
    const none = await runCli(['transcribe', meeting, '-m', OFFLINE_MODEL, '--progress', 'none']);
    expect(none.stderr).not.toMatch(/transcribing/);
    expect(none.stdout).toBe(lines.stdout);
    // auto on a pipe (not a TTY) shows nothing either.
    const auto = await runCli(['transcribe', clip, '-m', OFFLINE_MODEL]);
    expect(auto.stderr).not.toMatch(/transcribing/);
    const bad = await runCli(['transcribe', clip, '--progress', 'loud']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--progress must be one of auto, bar, lines, none/);
    const stream = await runCli(['stream', clip, '-m', STREAMING_MODEL, '--progress', 'lines']);
    expect(stream.code, stream.stderr).toBe(0);
    expect(stream.stderr).toMatch(/^streaming espeak-001\.wav: .* \(100%\)$/m);
    for (const l of stream.stdout.trim().split('\n')) expect(() => JSON.parse(l)).not.toThrow();
    const live = await runCli(['live', clip, '-m', OFFLINE_MODEL, '--speed', 'max', '--progress', 'lines']);
    expect(live.code, live.stderr).toBe(0);
    expect(live.stderr).toMatch(/^live espeak-001\.wav: .* \(100%\)$/m);
    for (const l of live.stdout.trim().split('\n')) expect(() => JSON.parse(l)).not.toThrow();
  });

  it('a refused connection shows its real cause', async () => {
    const port = await closedPort();
    const r = await runCli(['transcribe', clip, '--backend', 'remote', '--remote-url', `http://127.0.0.1:${port}`, '--progress', 'none']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
    expect(r.stderr).not.toMatch(/fetch failed\n\s+caused by: fetch failed/);
  });
});

describe('transcribe() progress and deadlines on-device', () => {
  it('reports progress through a real decode: monotonic, total known up front, ends at the duration', async () => {
    const asr = new NativeBackend({ model: OFFLINE_MODEL });
    try {
      const seen: TranscriptionProgress[] = [];
      const t = await asr.transcribe(meeting, { onProgress: (p) => seen.push(p) });
      expect(seen.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.processedSec).toBeGreaterThanOrEqual(seen[i - 1]!.processedSec);
      expect(seen.every((p) => p.totalSec !== undefined && Math.abs(p.totalSec - t.durationSec) < 0.01)).toBe(true);
      expect(seen.at(-1)).toEqual({ processedSec: t.durationSec, totalSec: t.durationSec });
      // A short clip reports once, at the end.
      const short: TranscriptionProgress[] = [];
      const c = await asr.transcribe(clip, { onProgress: (p) => short.push(p) });
      expect(short).toEqual([{ processedSec: c.durationSec, totalSec: c.durationSec }]);
    } finally {
      await asr.dispose();
    }
  });

  it('AbortSignal.timeout() on on-device work is a TimeoutError (an AbortedError), not a ConnectionTimeoutError', async () => {
    const asr = new NativeBackend({ model: OFFLINE_MODEL });
    try {
      await asr.transcribe(clip); // loaded
      const e = await asr.transcribe(join(AUDIO_DIR, 'meetings', 'meeting-10min-01.wav'), { abortSignal: AbortSignal.timeout(50) }).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(TimeoutError.isInstance(e), String(e)).toBe(true);
      expect(AbortedError.isInstance(e)).toBe(true);
      expect(ConnectionTimeoutError.isInstance(e)).toBe(false);
    } finally {
      await asr.dispose();
    }
  });
});

describe('transcribe() progress through the server', () => {
  it('RemoteBackend reports once, when the real server answers', async () => {
    const { createServer } = await import('../../src/server/index.js');
    const { RemoteBackend } = await import('../../src/backends/remote/index.js');
    const native = new NativeBackend({ model: OFFLINE_MODEL });
    const server = createServer({ models: { m: native }, port: 0 });
    const url = await server.listen();
    try {
      const remote = new RemoteBackend({ baseUrl: `${url}/v1`, apiKey: undefined });
      const seen: TranscriptionProgress[] = [];
      const t = await remote.transcribe(clip, { onProgress: (p) => seen.push(p) });
      expect(t.text).toContain('example');
      expect(seen).toEqual([{ processedSec: t.durationSec, totalSec: t.durationSec }]);
      await remote.dispose();
    } finally {
      await server.close();
      await native.dispose();
    }
  });
});
