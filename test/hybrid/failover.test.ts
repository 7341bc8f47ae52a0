import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AbortedError, BadRequestError, ConnectionError, InternalServerError, InvalidAudioError, StreamInterruptedError } from '../../src/errors/index.js';
import { HybridManager, MemorySettingsStore, type BackendSwitchEvent, type ComparisonReport } from '../../src/hybrid/index.js';
import type { AudioChunk, TranscriptionEvent } from '../../src/spec/index.js';
import { TestBackend, type ScriptedWord, type StreamFailure } from '../../src/testing/index.js';
import { burstAudio, burstScript, chunksOf, drain, finalWords, RATE, silenceWav } from './helpers.js';

const wav = silenceWav(2);
const say = (text: string): ScriptedWord[] => text.split(' ').map((word, i) => ({ word, start: 0.1 + i * 0.3, end: 0.3 + i * 0.3 }));

function pair(opts: { remote?: ConstructorParameters<typeof TestBackend>[0]; native?: ConstructorParameters<typeof TestBackend>[0]; mode?: 'dual' | 'auto' | 'remote'; failover?: boolean } = {}) {
  const native = new TestBackend({ id: 'native', script: say('from native'), ...opts.native });
  const remote = new TestBackend({ id: 'remote', script: say('from remote'), capabilities: { offline: false, languages: 'any' }, ...opts.remote });
  const hybrid = new HybridManager({
    native,
    remote,
    tier: 'pro-cloud',
    settings: new MemorySettingsStore(),
    mode: opts.mode ?? 'remote',
    allowDual: true,
    ...(opts.failover !== undefined ? { failover: opts.failover } : {}),
    network: { intervalMs: 60_000, backoffInitialMs: 20, backoffMaxMs: 40 },
  });
  const switches: BackendSwitchEvent[] = [];
  hybrid.on('backend-switch', (e) => switches.push(e));
  return { native, remote, hybrid, switches };
}

describe('batch failover', () => {
  it('a retryable error on the chosen backend re-runs the request on the other, and says so', async () => {
    const { hybrid, remote, switches } = pair();
    remote.failNext(1, () => new InternalServerError(503, 'overloaded'));
    const r = await hybrid.transcribe(wav);
    expect(r.backend).toBe('native');
    expect(r.text).toBe('from native');
    expect(r.warnings).toContainEqual({ type: 'fallback', from: 'remote', to: 'native', reason: 'remote failed: overloaded' });
    expect(switches).toEqual([expect.objectContaining({ from: 'remote', to: 'native', kind: 'failover', reason: 'remote failed: overloaded' })]);
    expect(switches[0]!.error).toBeInstanceOf(InternalServerError);
    expect(hybrid.currentBackend).toBe('native');
  });

  it('an unavailable backend fails over; a stream-shaped input is replayed to the second backend intact', async () => {
    const { hybrid, remote, native } = pair();
    remote.available = false;
    const r = await hybrid.transcribe(Readable.from([Buffer.from(wav.subarray(0, 100)), Buffer.from(wav.subarray(100))]));
    expect(r.backend).toBe('native');
    const call = native.calls[0]!;
    expect(call.method === 'transcribe' && call.audio?.durationSec).toBeCloseTo(2, 3);
  });

  it('a non-retryable error is not failed over (the request itself is wrong)', async () => {
    const { hybrid, remote, native } = pair();
    remote.failNext(1, () => new BadRequestError(400, 'bad model'));
    await expect(hybrid.transcribe(wav)).rejects.toThrow('bad model');
    expect(native.calls).toHaveLength(0);
  });

  it('failover: false keeps the error; an abort is never failed over', async () => {
    const off = pair({ failover: false });
    off.remote.failNext(1, () => new ConnectionError('refused'));
    await expect(off.hybrid.transcribe(wav)).rejects.toThrow('refused');
    const { hybrid, native } = pair({ remote: { latencyMs: 200 } });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    await expect(hybrid.transcribe(wav, { abortSignal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(native.calls).toHaveLength(0);
  });

  it('isTranscribing is true while a request runs', async () => {
    const { hybrid } = pair({ remote: { latencyMs: 50 } });
    expect(hybrid.isTranscribing).toBe(false);
    const p = hybrid.transcribe(wav);
    await new Promise((r) => setTimeout(r, 10));
    expect(hybrid.isTranscribing).toBe(true);
    await p;
    expect(hybrid.isTranscribing).toBe(false);
  });
});

describe('dual mode (TestBackends)', () => {
  it('runs both, returns the preferred one, and reports WER, speed and differing words', async () => {
    const { hybrid, native, remote } = pair({
      mode: 'dual',
      native: { script: say('the cat sat on the mat') },
      remote: { script: say('today the bat sat on mat'), latencyMs: 30 },
    });
    const reports: ComparisonReport[] = [];
    hybrid.on('comparison', (r) => reports.push(r));
    const r = await hybrid.transcribe(wav);
    expect(r.backend).toBe('native'); // auto's pick: native can do it
    expect(native.calls).toHaveLength(1);
    expect(remote.calls).toHaveLength(1);
    const rep = reports[0]!;
    expect(hybrid.lastComparison).toBe(rep);
    expect(rep.preferred.backend).toBe('native');
    expect(rep.other.backend).toBe('remote');
    expect(rep.words).toBe(6);
    expect([rep.substitutions, rep.deletions, rep.insertions]).toEqual([1, 1, 1]);
    expect(rep.wer).toBeCloseTo(3 / 6);
    expect(rep.differences).toEqual([
      { op: 'insert', index: 0, other: 'today' },
      { op: 'substitute', index: 2, preferred: 'cat', other: 'bat' },
      { op: 'delete', index: 5, preferred: 'the' },
    ]);
    expect(rep.other.processingTimeSec).toBeGreaterThan(0);
    expect(rep.other.realTimeFactor).toBeCloseTo(rep.other.processingTimeSec / 2, 6);
    expect(rep.preferred.durationSec).toBeCloseTo(2, 3);
  });

  it('dual mode for streams: the preferred backend events are returned, the other runs on the same audio, compared at the end', async () => {
    const VOC = ['alpha', 'beta', 'gamma', 'delta'];
    const spoken: ScriptedWord[] = VOC.map((word, i) => ({ word, start: 0.5 + i * 1.5, end: 1.0 + i * 1.5 }));
    const { hybrid, remote } = pair({ mode: 'dual', native: { script: spoken } });
    remote.script = (audio) => {
      const r = burstScript(VOC)(audio);
      const seg = r.segments[0]!;
      const words = seg.words.map((w, i) => (i === 2 ? { ...w, word: 'gamut' } : w));
      return { segments: [{ ...seg, words, text: words.map((w) => w.word).join(' ') }] };
    };
    const reports: ComparisonReport[] = [];
    hybrid.on('comparison', (r) => reports.push(r));
    let during: [boolean, string | undefined] | undefined;
    const events = await drain(hybrid.transcribeStream(chunksOf(burstAudio(spoken, 7), 0.1, (i) => void (i === 20 && (during = [hybrid.isTranscribing, hybrid.currentBackend])))));
    expect(during).toEqual([true, 'native']);
    expect(hybrid.isTranscribing).toBe(false);
    expect(finalWords(events).map((w) => w.word)).toEqual(VOC);
    const rep = reports[0]!;
    expect(rep.preferred.backend).toBe('native');
    expect(rep.other.backend).toBe('remote');
    expect(rep.other.text).toBe('alpha beta gamut delta');
    expect(rep.differences).toEqual([{ op: 'substitute', index: 2, preferred: 'gamma', other: 'gamut' }]);
    expect(rep.wer).toBeCloseTo(0.25);
  });

  it('compare() works in any mode; identical transcripts give WER 0 and no differences', async () => {
    const { hybrid } = pair({ native: { script: say('same words') }, remote: { script: say('same words') } });
    const rep = await hybrid.compare(wav);
    expect(rep.wer).toBe(0);
    expect(rep.differences).toEqual([]);
  });
});

// ----------------------------------------------------------------------------- streaming failover

/** 20 words, 1.5 s apart (each its own utterance), as burst audio of 31 s. */
const VOCAB = Array.from({ length: 20 }, (_, i) => `w${i}`);
const WORDS: ScriptedWord[] = VOCAB.map((word, i) => ({ word, start: 0.5 + i * 1.5, end: 1.0 + i * 1.5 }));
const AUDIO = burstAudio(WORDS, 31);

/** A stream failure after `afterSec` that also takes the backend down (as a killed server is). */
function dies(backend: () => TestBackend, afterSec: number): StreamFailure {
  return {
    afterSec,
    error: (info) => {
      backend().available = false;
      return new StreamInterruptedError('server gone', info);
    },
  };
}

/** WORDS as heard by a backend whose stream starts at `offset` on the original timeline. */
function from(offset: number): ScriptedWord[] {
  return WORDS.filter((w) => w.start >= offset).map((w) => ({ ...w, start: w.start - offset, end: w.end - offset }));
}

function expectEveryWordOnce(events: readonly TranscriptionEvent[]): void {
  const got = finalWords(events);
  expect(got.map((w) => w.word)).toEqual(VOCAB);
  got.forEach((w, i) => {
    expect(w.start).toBeCloseTo(WORDS[i]!.start, 3);
    expect(w.end).toBeCloseTo(WORDS[i]!.end, 3);
  });
  const end = events.at(-1)!;
  expect(end.type).toBe('end');
  if (end.type === 'end') {
    expect(end.durationSec).toBeCloseTo(31, 3);
    expect(end.transcription!.text).toBe(VOCAB.join(' '));
  }
}

describe('streaming failover (TestBackends)', () => {
  it('mid-stream failure: the other backend continues from the un-finalised audio; every word once, on the original timeline', async () => {
    const p = pair({ remote: { script: WORDS }, native: { script: burstScript(VOCAB) } });
    const { hybrid, native, switches, remote } = p;
    remote.streamFailure = dies(() => remote, 12.25);
    const events = await drain(hybrid.transcribeStream(chunksOf(AUDIO, 0.1)));
    expectEveryWordOnce(events);
    expect(switches).toHaveLength(1);
    const sw = switches[0]!;
    expect(sw).toMatchObject({ from: 'remote', to: 'native', kind: 'failover' });
    // The remote finalised w0..w7 (w7 ends at 11.5 and is final once 0.8 s of pause has passed, at
    // 12.3 s, when it fails); replay starts at its end.
    expect(sw.atSec).toBeCloseTo(11.5, 3);
    const replay = native.calls[0]!;
    expect(replay.method === 'transcribeStream' && replay.receivedSec).toBeCloseTo(31 - 11.5, 3);
    expect(events).toContainEqual({ type: 'warning', warning: expect.objectContaining({ type: 'fallback', from: 'remote', to: 'native' }) });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('a failure before any final replays the whole stream', async () => {
    const { hybrid, native, remote } = pair({ remote: { script: WORDS }, native: { script: burstScript(VOCAB) } });
    remote.streamFailure = dies(() => remote, 0.4);
    expectEveryWordOnce(await drain(hybrid.transcribeStream(chunksOf(AUDIO, 0.1))));
    const c = native.calls[0]!;
    expect(c.method === 'transcribeStream' && c.receivedSec).toBeCloseTo(31, 3);
  });

  it('no duplicated words from the overlap: a word whose tail is replayed is not emitted twice', async () => {
    // The remote thinks w6 ends at 9.8 (its final ends there), but its burst goes on to 10.0: the
    // replay from 9.8 contains the tail, which the native backend hears as "w6" again.
    const early = WORDS.map((w, i) => (i === 6 ? { ...w, end: 9.8 } : w));
    const { hybrid, remote } = pair({ remote: { script: early }, native: { script: burstScript(VOCAB) } });
    remote.streamFailure = dies(() => remote, 12.25);
    const events = await drain(hybrid.transcribeStream(chunksOf(AUDIO, 0.1)));
    expect(finalWords(events).map((w) => w.word)).toEqual(VOCAB);
  });

  it('the failed backend is restored when healthy: the stream moves back at a final, still every word once', async () => {
    const { hybrid, remote, native, switches } = pair({ remote: { script: WORDS } });
    remote.streamFailure = dies(() => remote, 6.45); // last remote final: w3, ending at 5.5
    native.script = from(5.5); // native hears the words on its own timeline (it starts at 5.5)
    const online: number[] = [];
    hybrid.on('online', () => online.push(Date.now()));
    hybrid.on('backend-switch', (e) => {
      if (e.kind !== 'failover') return;
      // The server comes back 100 ms later, healthy, as a burst decoder.
      setTimeout(() => {
        remote.streamFailure = undefined;
        remote.script = burstScript(VOCAB);
        remote.available = true;
      }, 100);
    });
    // Pace the audio (5 ms per 100 ms chunk) so that the probes can see the server back mid-stream.
    const events = await drain(hybrid.transcribeStream(chunksOf(AUDIO, 0.1, () => new Promise((r) => setTimeout(r, 5)))));
    expectEveryWordOnce(events);
    expect(switches.map((e) => [e.from, e.to, e.kind])).toEqual([
      ['remote', 'native', 'failover'],
      ['native', 'remote', 'restore'],
    ]);
    expect(switches[0]!.atSec).toBeCloseTo(5.5, 3);
    // Restored at a final of the native backend, from its end on.
    const restoredAt = switches[1]!.atSec!;
    expect(WORDS.some((w) => Math.abs(w.end - restoredAt) < 1e-3)).toBe(true);
    expect(restoredAt).toBeGreaterThan(5.5);
    expect(restoredAt).toBeLessThan(29.5);
    expect(online.length).toBeGreaterThanOrEqual(1);
    expect(hybrid.currentBackend).toBe('remote');
  });

  it('two failures in a row: back and forth, every word once', async () => {
    const { hybrid, switches, native, remote } = pair({ remote: { script: WORDS }, native: { script: burstScript(VOCAB) } });
    remote.streamFailure = { afterSec: 6.25 }; // a transient failure: the remote stays up
    native.streamFailure = { afterSec: 3.0 }; // native fails 3 s after it starts (its own timeline)
    hybrid.on('backend-switch', (e) => {
      if (e.to === 'remote') {
        remote.streamFailure = undefined;
        remote.script = burstScript(VOCAB);
      }
    });
    const events = await drain(hybrid.transcribeStream(chunksOf(AUDIO, 0.1)));
    expect(finalWords(events).map((w) => w.word)).toEqual(VOCAB);
    expect(switches.length).toBeGreaterThanOrEqual(2);
  });

  it('a non-retryable stream error is not failed over and reaches the caller as error event + throw', async () => {
    const { hybrid, native } = pair({ remote: { script: WORDS, streamFailure: { afterSec: 2, error: new BadRequestError(400, 'bad stream') } } });
    const seen: TranscriptionEvent[] = [];
    await expect(
      (async () => {
        for await (const e of hybrid.transcribeStream(chunksOf(AUDIO, 0.1))) seen.push(e);
      })(),
    ).rejects.toThrow('bad stream');
    expect(seen.at(-1)).toMatchObject({ type: 'error', recoverable: false });
    expect(native.calls).toHaveLength(0);
  });

  it('malformed caller audio is the caller error: no failover, the InvalidAudioError comes through', async () => {
    const { hybrid, native, switches } = pair({ remote: { script: WORDS } });
    async function* bad(): AsyncGenerator<AudioChunk> {
      yield* chunksOf(AUDIO.subarray(0, 16_000), 0.1);
      yield { samples: new Float32Array([0, Number.NaN]), sampleRate: RATE };
    }
    await expect(drain(hybrid.transcribeStream(bad()))).rejects.toBeInstanceOf(InvalidAudioError);
    expect(switches).toEqual([]);
    expect(native.calls).toHaveLength(0);
  });

  it('audio not yet final is never dropped: a failover after 10 s without a final replays all of it', async () => {
    const long: ScriptedWord[] = [{ word: 'w0', start: 0.5, end: 1.0 }];
    const native = new TestBackend({ id: 'native', script: burstScript(VOCAB) });
    const remote = new TestBackend({ id: 'remote', script: [], streamFailure: { afterSec: 10 }, capabilities: { languages: 'any' } });
    const hybrid = new HybridManager({ native, remote, tier: 'team', mode: 'remote', settings: new MemorySettingsStore(), maxStreamBufferSec: 4 });
    const events = await drain(hybrid.transcribeStream(chunksOf(burstAudio(long, 12), 0.1)));
    expect(events.filter((e) => e.type === 'warning' && e.warning.type === 'other')).toEqual([]);
    const c = native.calls[0]!;
    expect(c.method === 'transcribeStream' && c.receivedSec).toBeCloseTo(12, 1);
    expect(events.flatMap((e) => (e.type === 'final' ? e.segment.words.map((w) => w.word) : []))).toEqual(['w0']);
  });
});
