/**
 * Failover when the input comes faster than real time (issue #13.2): a 10-minute meeting read as
 * fast as the stream pulls it, through a real `hybrid-asr serve` child that is SIGKILLed mid-way.
 * The remote stream applies backpressure instead of dropping unacknowledged audio, the manager
 * keeps every second not yet final, and the native backend picks up from the last final: every
 * utterance of an uninterrupted native run is found exactly once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { decodeAudio } from '../../src/audio/index.js';
import { NativeBackend } from '../../src/backends/native/index.js';
import type { BackendSwitchEvent } from '../../src/hybrid/index.js';
import { wordErrorRate } from '../../src/metrics/index.js';
import type { TranscriptionEvent } from '../../src/spec/index.js';
import { AUDIO_DIR, describeWithAssets, MODELS_DIR, STREAMING_MODEL } from '../helpers/shared.js';
import { kill, startServe, type ServeProcess } from '../remote/helpers.js';
import { drain, expectOneTimeline, paced, perClip, streamingHybrid, text, words } from './real-helpers.js';

const MEETING = join(AUDIO_DIR, 'meetings', 'meeting-10min-01.wav');
const REF = join(AUDIO_DIR, 'meetings', 'meeting-10min-01.json');
const KILL_AT_SEC = 300;

describeWithAssets([STREAMING_MODEL, MEETING, REF])('failover with input faster than real time', () => {
  let serve: ServeProcess | undefined;
  afterAll(async () => {
    if (serve) await kill(serve.child);
  });

  it('SIGKILL of the server mid-way through a 10-minute meeting fed as fast as possible: no audio lost, every utterance once', async () => {
    const audio = (await decodeAudio(MEETING, { sampleRate: 16_000 })).samples;
    const durationSec = audio.length / 16_000;
    const utterances = (JSON.parse(readFileSync(REF, 'utf8')) as { start: number; end: number; text: string }[]).map((u) => ({ start: u.start, end: u.end + 0.3 }));
    const reference = (JSON.parse(readFileSync(REF, 'utf8')) as { text: string }[]).map((u) => u.text).join(' ');

    const solo = new NativeBackend({ model: STREAMING_MODEL, threads: 1 });
    const alone = await drain(solo.transcribeStream(paced(audio, 0)));

    serve = await startServe(['-m', STREAMING_MODEL, '--port', '0', '--threads', '1'], { HYBRID_ASR_MODELS: MODELS_DIR });
    const { remote, hybrid } = streamingHybrid(serve.url, 200, 1000);
    const switches: BackendSwitchEvent[] = [];
    hybrid.on('backend-switch', (e) => switches.push(e));
    const child = serve.child;
    let finalsBeforeKill = 0;
    const events: TranscriptionEvent[] = [];
    for await (const e of hybrid.transcribeStream(
      paced(audio, 0, async (sec) => {
        if (Math.abs(sec - KILL_AT_SEC) < 0.05) {
          finalsBeforeKill = events.filter((x) => x.type === 'final').length;
          await kill(child, 'SIGKILL');
        }
      }),
    )) {
      events.push(e);
    }
    serve = undefined;

    // The remote really transcribed the first part, then the stream failed over once.
    expect(finalsBeforeKill).toBeGreaterThan(10);
    expect(switches).toHaveLength(1);
    expect(switches[0]).toMatchObject({ from: 'remote', to: 'native', kind: 'failover' });
    const atSec = switches[0]!.atSec!;
    expect(atSec).toBeGreaterThan(60);
    expect(atSec).toBeLessThanOrEqual(KILL_AT_SEC);
    // Losing audio is never a warning: the only warning is the switch itself.
    const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.warning] : []));
    expect(warnings.map((w) => w.type)).toEqual(['fallback']);
    const end = events.at(-1)!;
    expect(end.type).toBe('end');
    if (end.type === 'end') expect(end.durationSec).toBeCloseTo(durationSec, 3);

    // Exactly once at the seam: after the switch, the finals are what the native model says about
    // the audio from the switch point on (run alone on it); before it, the remote's finals end there.
    const cut = events.findIndex((e) => e.type === 'warning' && e.warning.type === 'fallback');
    const before = events.slice(0, cut).flatMap((e) => (e.type === 'final' ? [e.segment] : []));
    const after = events.slice(cut).flatMap((e) => (e.type === 'final' ? [e.segment] : []));
    expect(before.at(-1)!.end).toBeCloseTo(atSec, 6);
    const tail = (await drain(solo.transcribeStream(paced(audio.subarray(Math.round(atSec * 16_000)), 0)))).flatMap((e) =>
      e.type === 'final' ? [e.segment] : [],
    );
    await solo.dispose();
    // The same utterances in the same order; a couple of words may decode differently, because the
    // replay starts mid-chunk and the tiny streaming model is sensitive to chunk boundaries.
    expect(after).toHaveLength(tail.length);
    const seam = wordErrorRate(tail.map((s) => s.text).join(' '), after.map((s) => s.text).join(' '));
    expect(seam.wer).toBeLessThan(0.02);
    after.forEach((s, i) => expect(Math.abs(s.start - (tail[i]!.start + atSec))).toBeLessThan(0.5));

    // Every utterance the uninterrupted native run heard is heard, and none twice.
    const got = words(events);
    expectOneTimeline(got, durationSec);
    const counts = perClip(got, utterances);
    const soloCounts = perClip(words(alone), utterances);
    const missing = counts.flatMap((n, i) => (soloCounts[i]! > 0 && n === 0 ? [i] : []));
    expect(missing, `utterances with no words: ${missing.join(', ')}`).toEqual([]);
    counts.forEach((n, i) => expect(n).toBeLessThanOrEqual(soloCounts[i]! + 2));
    const werHybrid = wordErrorRate(reference, text(events)).wer;
    const werSolo = wordErrorRate(reference, text(alone)).wer;
    console.log(
      `[fast failover] switch at ${atSec.toFixed(1)} s of ${durationSec.toFixed(1)} s; words: hybrid ${got.length}, native alone ${words(alone).length}; WER hybrid ${(werHybrid * 100).toFixed(1)} %, native alone ${(werSolo * 100).toFixed(1)} %`,
    );
    expect(werHybrid).toBeLessThanOrEqual(werSolo + 0.05);
    expect(remote).toBeDefined();
    await hybrid.dispose();
  }, 300_000);
});
