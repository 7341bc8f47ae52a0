/**
 * The hybrid manager through the real parts: the native backend on the real sherpa-onnx addon and
 * models, and a real `hybrid-asr serve` child on 127.0.0.1 (killed with SIGKILL mid-stream, or made
 * to answer 503 through a fault-injecting TCP proxy).
 */
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeAudio } from '../../src/audio/index.js';
import { NativeBackend } from '../../src/backends/native/index.js';
import { HybridManager, MemorySettingsStore, type BackendSwitchEvent, type ComparisonReport } from '../../src/hybrid/index.js';
import { wordErrorRate } from '../../src/metrics/index.js';
import type { TranscriptionEvent } from '../../src/spec/index.js';
import { AUDIO_DIR, describeWithAssets, MODELS_DIR, OFFLINE_MODEL, STREAMING_MODEL, VAD_MODEL } from '../helpers/shared.js';
import { kill, startServe, type ServeProcess } from '../remote/helpers.js';
import { drain, expectOneTimeline, paced, perClip, streamingHybrid, text, words } from './real-helpers.js';

const LONG = join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.wav');
const SEGMENTS = join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.segments.tsv');
const CLIP = join(AUDIO_DIR, 'espeak', 'espeak-001.wav');

/** Reference text of the long file and the source clips' intervals. */
function longReference(): { text: string; clips: { start: number; end: number; text: string }[] } {
  const rows = readFileSync(SEGMENTS, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  const clips = rows.map(([s, e, , text]) => ({ start: Number(s), end: Number(e), text: text! }));
  return { text: clips.map((c) => c.text).join(' '), clips };
}

/** A TCP proxy that forwards to `target`, or answers every new connection with 503 while `failing`. */
class FaultProxy {
  failing = false;
  port = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  constructor(target: number) {
    this.#server = createTcpServer((client) => {
      this.#sockets.add(client);
      client.on('close', () => this.#sockets.delete(client));
      client.on('error', () => undefined);
      if (this.failing) {
        client.once('data', () => {
          const body = JSON.stringify({ error: { message: 'maintenance', type: 'server_error' } });
          client.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
        });
        return;
      }
      const up = connect(target, '127.0.0.1');
      this.#sockets.add(up);
      up.on('close', () => this.#sockets.delete(up));
      up.on('error', () => client.destroy());
      client.on('close', () => up.destroy());
      up.on('close', () => client.destroy());
      client.pipe(up);
      up.pipe(client);
    });
  }
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    const a = this.#server.address();
    this.port = typeof a === 'object' && a !== null ? a.port : 0;
    return `http://127.0.0.1:${this.port}`;
  }
  /** Cuts every open connection. */
  resetAll(): void {
    for (const s of this.#sockets) s.destroy();
  }
  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

describeWithAssets([OFFLINE_MODEL, STREAMING_MODEL, VAD_MODEL, LONG, SEGMENTS, CLIP])('hybrid manager through the real parts', () => {
  let long: Float32Array;
  let nativeAlone: TranscriptionEvent[];
  const ref = existsRef();

  function existsRef(): ReturnType<typeof longReference> | undefined {
    try {
      return longReference();
    } catch {
      return undefined;
    }
  }

  beforeAll(async () => {
    long = (await decodeAudio(LONG, { sampleRate: 16_000 })).samples;
    const solo = new NativeBackend({ model: STREAMING_MODEL, threads: 1 });
    nativeAlone = await drain(solo.transcribeStream(paced(long, 0)));
    await solo.dispose();
  }, 120_000);

  it('dual mode on a file where the two backends differ: offline vs streaming model', async () => {
    const offline = new NativeBackend({ model: OFFLINE_MODEL, vadModel: VAD_MODEL, threads: 1 });
    const streaming = new NativeBackend({ model: STREAMING_MODEL, threads: 1, id: 'remote' });
    const hybrid = new HybridManager({ native: offline, remote: streaming, tier: 'team', mode: 'dual', allowDual: true, settings: new MemorySettingsStore() });
    const reports: ComparisonReport[] = [];
    hybrid.on('comparison', (r) => reports.push(r));
    const file = join(AUDIO_DIR, 'espeak', 'espeak-002.wav');
    const result = await hybrid.transcribe(file);
    // What each backend says on its own, to check the report against.
    const a = await offline.transcribe(file);
    const b = await streaming.transcribe(file);
    expect(a.text).not.toBe(b.text); // a genuinely different pair
    expect(result.backend).toBe('native');
    expect(result.text).toBe(a.text);
    const rep = reports[0]!;
    expect(rep).toBe(hybrid.lastComparison);
    const expected = wordErrorRate(a.text, b.text);
    expect(rep.wer).toBeCloseTo(expected.wer, 10);
    expect(rep.wer).toBeGreaterThan(0);
    expect([rep.substitutions, rep.deletions, rep.insertions]).toEqual([expected.substitutions, expected.deletions, expected.insertions]);
    expect(rep.differences).toHaveLength(expected.substitutions + expected.deletions + expected.insertions);
    // Rebuild both transcripts from the alignment: the differences are exactly where they disagree.
    const pref: string[] = [];
    const other: string[] = [];
    expected.alignment.forEach((op, i) => {
      const d = rep.differences.find((x) => x.index === i);
      if (op.op === 'match') {
        expect(d).toBeUndefined();
        pref.push(op.ref);
        other.push(op.hyp);
      } else {
        expect(d?.op).toBe(op.op);
        if (d?.op === 'substitute' || d?.op === 'delete') pref.push(d.preferred);
        if (d?.op === 'substitute' || d?.op === 'insert') other.push(d.other);
      }
    });
    expect(pref.join(' ')).toBe(wordErrorRate(a.text, a.text).alignment.map((x) => (x.op === 'match' ? x.ref : '')).join(' '));
    expect(other).toEqual(wordErrorRate(b.text, b.text).alignment.map((x) => (x.op === 'match' ? x.ref : '')));
    for (const s of [rep.preferred, rep.other]) {
      expect(s.durationSec).toBeCloseTo(4.637, 2);
      expect(s.processingTimeSec).toBeGreaterThan(0);
      expect(s.realTimeFactor).toBeCloseTo(s.processingTimeSec / s.durationSec, 10);
    }
    expect(rep.preferred.backend).toBe('native');
    expect(rep.other.backend).toBe('remote');
    await hybrid.dispose();
  }, 120_000);

  let serve: ServeProcess | undefined;
  afterAll(async () => {
    if (serve) await kill(serve.child);
  });

  it('kill -9 the server mid-stream: native continues from the un-finalised audio; every second once, no lost or duplicated words', async () => {
    serve = await startServe(['-m', STREAMING_MODEL, '--port', '0', '--threads', '1'], { HYBRID_ASR_MODELS: MODELS_DIR });
    const { remote, hybrid } = streamingHybrid(serve.url, 200, 1000);
    const switches: BackendSwitchEvent[] = [];
    hybrid.on('backend-switch', (e) => switches.push(e));
    const remoteLog: string[] = [];
    remote.on('reconnect', (n, d, e) => remoteLog.push(`reconnect#${n} (${e.message})`));
    remote.on('resume', (_id, off) => remoteLog.push(`resume@${off.toFixed(2)}`));
    let finalsBeforeKill = 0;
    const events: TranscriptionEvent[] = [];
    const child = serve.child;
    for await (const e of hybrid.transcribeStream(
      paced(long, 8, async (sec) => {
        if (Math.abs(sec - 40) < 0.05) {
          finalsBeforeKill = events.filter((x) => x.type === 'final').length;
          await kill(child, 'SIGKILL');
        }
      }),
    )) {
      events.push(e);
    }
    serve = undefined;
    expect(finalsBeforeKill).toBeGreaterThan(3); // the remote really was transcribing
    expect(switches).toHaveLength(1);
    expect(switches[0]).toMatchObject({ from: 'remote', to: 'native', kind: 'failover' });
    expect(switches[0]!.atSec).toBeGreaterThan(10);
    expect(switches[0]!.atSec).toBeLessThanOrEqual(40);
    const end = events.at(-1)!;
    expect(end.type).toBe('end');
    if (end.type === 'end') expect(end.durationSec).toBeCloseTo(long.length / 16_000, 3);

    const got = words(events);
    const solo = words(nativeAlone);
    expectOneTimeline(got, long.length / 16_000);
    const vsSolo = wordErrorRate(solo.map((w) => w.word), got.map((w) => w.word));
    const r = ref!;
    const werHybrid = wordErrorRate(r.text, text(events)).wer;
    const werSolo = wordErrorRate(r.text, text(nativeAlone)).wer;
    console.log(
      `[hybrid kill -9] switch at ${switches[0]!.atSec!.toFixed(2)} s; WER vs reference: hybrid ${(werHybrid * 100).toFixed(1)} %, native alone ${(werSolo * 100).toFixed(1)} %; vs native alone: ${vsSolo.substitutions} sub, ${vsSolo.deletions} del, ${vsSolo.insertions} ins`,
    );
    // Exactly-once at the seam: after the switch the hybrid's finals are exactly what the native model
    // says about the audio from the switch point on (run alone on it), shifted onto the original timeline;
    // before it, they are the remote's finals, ending at or before the switch point.
    const atSec = switches[0]!.atSec!;
    const cut = events.findIndex((e) => e.type === 'warning' && e.warning.type === 'fallback');
    expect(cut).toBeGreaterThan(0);
    const before = events.slice(0, cut).flatMap((e) => (e.type === 'final' ? [e.segment] : []));
    const after = events.slice(cut).flatMap((e) => (e.type === 'final' ? [e.segment] : []));
    expect(before.length).toBeGreaterThanOrEqual(finalsBeforeKill);
    expect(before.at(-1)!.end).toBeCloseTo(atSec, 6);
    const check = new NativeBackend({ model: STREAMING_MODEL, threads: 1 });
    const tail = (await drain(check.transcribeStream(paced(long.subarray(Math.round(atSec * 16_000)), 0)))).flatMap((e) =>
      e.type === 'final' ? [e.segment] : [],
    );
    await check.dispose();
    expect(after.map((s) => s.text)).toEqual(tail.map((s) => s.text));
    after.forEach((s, i) => {
      expect(s.start).toBeCloseTo(tail[i]!.start + atSec, 6);
      expect(s.end).toBeCloseTo(tail[i]!.end + atSec, 6);
    });
    // No clip of the recording is lost or transcribed twice.
    const counts = perClip(got, r.clips);
    const alone = perClip(solo, r.clips);
    counts.forEach((n, i) => {
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThanOrEqual(alone[i]! + 2);
    });
    console.log(`[hybrid kill -9] remote client: ${remoteLog.join(', ') || 'no reconnects'}`);
    console.log(`[hybrid kill -9] words per clip: hybrid ${counts.join(',')} / native alone ${alone.join(',')}`);
    // Quality: no worse than the native backend alone (within 5 points: the tiny model's output
    // depends on where a stream starts, and the server's on its own chunking).
    expect(werHybrid).toBeLessThanOrEqual(werSolo + 0.05);
    await hybrid.dispose();
  }, 180_000);

  it('503s for a while: requests fail over to native, the monitor sees the remote down, then restores it', async () => {
    const s = await startServe(['-m', STREAMING_MODEL, '--port', '0', '--threads', '1'], { HYBRID_ASR_MODELS: MODELS_DIR });
    const proxy = new FaultProxy(Number(new URL(s.url).port));
    const base = await proxy.listen();
    const { native, hybrid } = streamingHybrid(base, 100, 400);
    const log: string[] = [];
    hybrid.on('online', () => log.push('online'));
    hybrid.on('offline', () => log.push('offline'));
    hybrid.on('backend-switch', (e) => log.push(`${e.kind}:${e.from}->${e.to}`));
    try {
      const first = await hybrid.transcribe(CLIP);
      expect(first.backend).toBe('remote');
      proxy.failing = true;
      proxy.resetAll(); // keep-alive connections too
      const during = await hybrid.transcribe(CLIP);
      expect(during.backend).toBe('native');
      expect(during.warnings).toContainEqual(expect.objectContaining({ type: 'fallback', from: 'remote', to: 'native', reason: expect.stringMatching(/503/) }));
      await new Promise<void>((r) => (hybrid.networkState === 'offline' ? r() : hybrid.once('offline', () => r())));
      // While down, requests go straight to native (no failed attempt first).
      const offline = await hybrid.transcribe(CLIP);
      expect(offline.backend).toBe('native');
      expect(offline.warnings.filter((w) => w.type === 'fallback')).toEqual([]);
      const probesDown = hybrid.network!.probeCount;
      await new Promise((r) => setTimeout(r, 1000));
      const probesAfter = hybrid.network!.probeCount - probesDown;
      expect(probesAfter).toBeGreaterThanOrEqual(2); // probed while down…
      expect(probesAfter).toBeLessThanOrEqual(6); // …with backoff, not a storm (100, 200, 400, 400 ms)
      // A stream started now runs on native; the 503s end mid-stream and it moves back to the remote.
      const reference = text(await drain(native.transcribeStream(paced(long.subarray(0, 16_000 * 30), 0))));
      const events: TranscriptionEvent[] = [];
      for await (const e of hybrid.transcribeStream(
        paced(long.subarray(0, 16_000 * 30), 8, (sec) => {
          if (Math.abs(sec - 8) < 0.05) proxy.failing = false;
        }),
      )) {
        events.push(e);
      }
      expect(log).toContain('online');
      expect(log.at(-1)).toBe('restore:native->remote');
      expect(hybrid.currentBackend).toBe('remote');
      expectOneTimeline(words(events), 30);
      const vs = wordErrorRate(reference, text(events));
      console.log(`[hybrid 503] events ${log.join(', ')}; stream vs native alone: ${vs.substitutions} sub, ${vs.deletions} del, ${vs.insertions} ins`);
      expect(vs.deletions + vs.insertions).toBe(0);
      // And batch requests use the remote again.
      expect((await hybrid.transcribe(CLIP)).backend).toBe('remote');
      expect(log.slice(0, 3)).toEqual(['online', 'failover:remote->native', 'offline']);
    } finally {
      await hybrid.dispose();
      await proxy.close();
      await kill(s.child);
    }
  }, 180_000);
});
