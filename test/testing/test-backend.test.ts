import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  BackendUnavailableError,
  ConnectionError,
  InvalidArgumentError,
  InvalidAudioError,
  StreamInterruptedError,
} from '../../src/errors/index.js';
import type { AudioChunk, TranscriptionEvent } from '../../src/spec/index.js';
import { TestBackend, type ScriptedWord, type TestStreamCall, type TestTranscribeCall } from '../../src/testing/index.js';

const require = createRequire(import.meta.url);
const wav = require('node-wav') as { encode(channels: Float32Array[], o: { sampleRate: number; float: boolean; bitDepth: number }): Buffer };

/** A real 16-bit WAV file of `sec` seconds of a quiet tone. */
function wavBytes(sec: number, sampleRate = 16_000): Uint8Array {
  const n = Math.round(sec * sampleRate);
  const s = new Float32Array(n);
  for (let i = 0; i < n; i++) s[i] = 0.1 * Math.sin((2 * Math.PI * 440 * i) / sampleRate);
  return new Uint8Array(wav.encode([s], { sampleRate, float: false, bitDepth: 16 }));
}

const script: ScriptedWord[] = [
  { word: 'hello', start: 0.2, end: 0.5, speaker: 'S1' },
  { word: 'world', start: 0.6, end: 1.0, speaker: 'S1' },
  { word: 'second', start: 2.0, end: 2.4, speaker: 'S2' },
  { word: 'turn', start: 2.5, end: 2.9, speaker: 'S2' },
  { word: 'beyond', start: 5.0, end: 5.5 },
];

function chunksOf(sec: number, chunkSec = 0.1, sampleRate = 16_000): AudioChunk[] {
  const per = Math.round(chunkSec * sampleRate);
  const total = Math.round(sec * sampleRate);
  const out: AudioChunk[] = [];
  for (let at = 0; at < total; at += per) out.push({ samples: new Float32Array(Math.min(per, total - at)), sampleRate });
  return out;
}

async function* from(chunks: readonly AudioChunk[], onClose?: () => void): AsyncGenerator<AudioChunk> {
  try {
    for (const c of chunks) yield c;
  } finally {
    onClose?.();
  }
}

async function collect(events: AsyncIterable<TranscriptionEvent>): Promise<TranscriptionEvent[]> {
  const out: TranscriptionEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe('TestBackend options', () => {
  it.each([
    [{ id: '' }, '`id` must be a non-empty string'],
    [{ latencyMs: -1 }, '`latencyMs` must be a finite number >= 0, got -1'],
    [{ segmentGapSec: 0 }, '`segmentGapSec` must be a finite number > 0, got 0'],
    [{ available: 'yes' }, '`available` must be a boolean, got "yes"'],
    [{ script: [{ word: 'x', start: 2, end: 1 }] }, '`script[0].end` (1) must not be before its start (2)'],
    [{ script: 'hello' }, '`script` must be an array of words or a function'],
    [{ capabilities: { streaming: 'yes' } }, '`capabilities.streaming` must be a boolean'],
    [{ capabilities: { sampleRate: -5 } }, '`capabilities.sampleRate` must be a finite number > 0, got -5'],
    [{ failFirst: { count: -1, error: new Error('x') } }, '`failFirst.count` must be a whole number >= 0'],
    [{ failFirst: { count: 1, error: 'boom' } }, '`failFirst.error` must be an Error or a function'],
    [{ streamFailure: { afterSec: Number.NaN } }, '`streamFailure.afterSec` must be a finite number >= 0, got NaN'],
  ])('rejects %j', (options, message) => {
    expect(() => new TestBackend(options as never)).toThrow(InvalidArgumentError);
    expect(() => new TestBackend(options as never)).toThrow(message);
  });
});

describe('TestBackend.transcribe', () => {
  it('hears its script, cut to the audio, grouped into segments at pauses', async () => {
    const b = new TestBackend({ script });
    const t = await b.transcribe(wavBytes(3));
    expect(t.text).toBe('hello world second turn');
    expect(t.segments.map((s) => [s.start, s.end, s.text])).toEqual([
      [0.2, 1.0, 'hello world'],
      [2.0, 2.9, 'second turn'],
    ]);
    expect(t.segments[0]!.words.map((w) => w.word)).toEqual(['hello', 'world']);
    expect(t.segments[0]!.speaker).toBeUndefined();
    expect(t.durationSec).toBeCloseTo(3, 5);
    expect(t.backend).toBe('test');
    expect(t.warnings).toEqual([]);
    const call = b.calls[0] as TestTranscribeCall;
    expect(call.method).toBe('transcribe');
    expect(call.audio?.sampleRate).toBe(16_000);
    expect(call.audio?.samples.length).toBe(48_000);
  });

  it('clips a word the audio cuts off', async () => {
    const t = await new TestBackend({ script }).transcribe(wavBytes(2.2));
    expect(t.segments.at(-1)!.words.at(-1)).toEqual({ word: 'second', start: 2.0, end: expect.closeTo(2.2, 5) as number });
  });

  it('warns about options it cannot honour and rejects an unknown language', async () => {
    const b = new TestBackend({ script });
    const t = await b.transcribe(wavBytes(1), { diarization: true, hotwords: ['x'], punctuation: true });
    expect(t.warnings.map((w) => w.type === 'unsupported' && w.feature)).toEqual(['diarization', 'hotwords', 'punctuation']);
    await expect(b.transcribe(wavBytes(1), { language: 'de' })).rejects.toThrow(BackendUnavailableError);
    await expect(b.transcribe(wavBytes(1), { language: 'de' })).rejects.toThrow('does not recognise language "de"');
  });

  it('labels speakers when it can diarize and is asked to', async () => {
    const b = new TestBackend({ script, capabilities: { diarization: true, wordTimestamps: false } });
    const t = await b.transcribe(wavBytes(3), { diarization: { maxSpeakers: 2 } });
    expect(t.segments.map((s) => [s.speaker, s.words.length])).toEqual([['S1', 0], ['S2', 0]]);
    expect(t.speakers).toEqual([{ id: 'S1', totalSec: expect.closeTo(0.8, 5) as number }, { id: 'S2', totalSec: expect.closeTo(0.9, 5) as number }]);
    expect(t.warnings).toEqual([]);
  });

  it('hands a script function the decoded audio and fills in what it leaves out', async () => {
    const b = new TestBackend({
      id: 'scripted',
      script: (audio, config) => ({
        segments: [{ start: 0, end: audio.durationSec, text: `${audio.samples.length} samples ${config.language ?? ''}`.trim(), words: [] }],
      }),
    });
    const t = await b.transcribe(wavBytes(0.5), { language: 'en' });
    expect(t.text).toBe('8000 samples en');
    expect(t.backend).toBe('scripted');
    expect(t.durationSec).toBeCloseTo(0.5, 5);
  });

  it('rejects audio that is not audio with InvalidAudioError', async () => {
    await expect(new TestBackend().transcribe(new TextEncoder().encode('not a wav file at all'))).rejects.toThrow(InvalidAudioError);
  });

  it('fails the next N calls with the injected error, then recovers, logging every call', async () => {
    const b = new TestBackend({ script, failFirst: { count: 1, error: () => new ConnectionError('first down') } });
    b.failNext(1, new ConnectionError('second down'));
    await expect(b.transcribe(wavBytes(1))).rejects.toThrow('first down');
    await expect(b.transcribe(wavBytes(1))).rejects.toThrow('second down');
    await expect(b.transcribe(wavBytes(1))).resolves.toMatchObject({ text: 'hello world' });
    expect(b.calls.map((c) => (c.error as Error | undefined)?.message)).toEqual(['first down', 'second down', undefined]);
  });

  it('follows its availability toggle', async () => {
    const b = new TestBackend({ available: false });
    expect(await b.isAvailable()).toBe(false);
    await expect(b.transcribe(wavBytes(1))).rejects.toThrow(BackendUnavailableError);
    b.available = true;
    expect(await b.isAvailable()).toBe(true);
    await expect(b.transcribe(wavBytes(1))).resolves.toMatchObject({ backend: 'test' });
  });

  it('does no work for an already-aborted call', async () => {
    const b = new TestBackend({ script });
    await expect(b.transcribe(wavBytes(1), { abortSignal: AbortSignal.abort() })).rejects.toThrow(AbortedError);
    expect((b.calls[0] as TestTranscribeCall).audio).toBeUndefined();
  });

  it('aborts during its artificial latency', async () => {
    const b = new TestBackend({ script, latencyMs: 60_000 });
    const controller = new AbortController();
    const p = b.transcribe(wavBytes(1), { abortSignal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(p).rejects.toThrow(AbortedError);
    expect(await b.isAvailable({ abortSignal: AbortSignal.abort() })).toBe(false);
  });

  it('rejects every call after dispose (idempotent)', async () => {
    const b = new TestBackend();
    await b.dispose();
    await b.dispose();
    expect(b.disposed).toBe(true);
    await expect(b.transcribe(wavBytes(1))).rejects.toThrow(BackendUnavailableError);
    await expect(collect(b.transcribeStream(from(chunksOf(1))))).rejects.toThrow(BackendUnavailableError);
  });
});

describe('TestBackend.transcribeStream', () => {
  it('yields partials then finals on the stream timeline, and end last', async () => {
    const b = new TestBackend({ script });
    const events = await collect(b.transcribeStream(from(chunksOf(3.5))));
    const summary = events.map((e) =>
      e.type === 'partial' ? `p:${e.text}@${e.end.toFixed(1)}` : e.type === 'final' ? `f:${e.segment.text}` : e.type,
    );
    expect(summary).toEqual([
      'p:hello@0.5',
      'p:hello world@1.0',
      'f:hello world',
      'p:second@2.4',
      'p:second turn@2.9',
      'f:second turn',
      'end',
    ]);
    const end = events.at(-1)!;
    expect(end.type === 'end' && end.durationSec).toBeCloseTo(3.5, 5);
    expect(end.type === 'end' && end.transcription?.text).toBe('hello world second turn');
    const call = b.calls[0] as TestStreamCall;
    expect([call.chunks, call.sampleRate, call.closed, call.cancelled]).toEqual([35, 16_000, true, false]);
  });

  it('downmixes interleaved Int16 chunks and times them by samples received', async () => {
    const b = new TestBackend({ script, capabilities: { streaming: false } });
    const stereo = (sec: number): AudioChunk => ({ samples: new Int16Array(Math.round(8000 * sec) * 2), sampleRate: 8000, channels: 2 });
    const events = await collect(b.transcribeStream(from([stereo(1), stereo(1.2)])));
    expect(events.map((e) => e.type)).toEqual(['final', 'final', 'end']);
    expect(events.at(-1)).toMatchObject({ type: 'end', durationSec: 2.2 });
    // No partials without streaming; the word cut off by the end of the audio ends where the audio does.
    expect(events[1]).toMatchObject({ type: 'final', segment: { text: 'second', end: 2.2 } });
  });

  it('rejects chunks whose format changes mid-stream, after an error event', async () => {
    const b = new TestBackend({ script });
    const events: TranscriptionEvent[] = [];
    const run = async (): Promise<void> => {
      for await (const e of b.transcribeStream(from([{ samples: new Float32Array(1600), sampleRate: 16_000 }, { samples: new Float32Array(800), sampleRate: 8000 }]))) {
        events.push(e);
      }
    };
    await expect(run()).rejects.toThrow(InvalidAudioError);
    expect(events.at(-1)).toMatchObject({ type: 'error', recoverable: false });
  });

  it('fails after T seconds with the audio since the last final', async () => {
    const b = new TestBackend({ script, streamFailure: { afterSec: 2.5 } });
    const events: TranscriptionEvent[] = [];
    let caught: unknown;
    try {
      for await (const e of b.transcribeStream(from(chunksOf(3.5)))) events.push(e);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(StreamInterruptedError);
    const err = caught as StreamInterruptedError;
    expect(err.audioOffsetSec).toBeCloseTo(1.0, 5);
    expect(err.unacknowledgedAudio.length).toBe(Math.round((2.5 - 1.0) * 16_000));
    expect(events.filter((e) => e.type === 'final')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'error', recoverable: false });
    expect(events.some((e) => e.type === 'end')).toBe(false);
  });

  it('stops pulling audio when the consumer breaks out', async () => {
    const b = new TestBackend({ script });
    let closed = false;
    let pulled = 0;
    async function* counting(): AsyncGenerator<AudioChunk> {
      try {
        for (const c of chunksOf(10)) {
          pulled++;
          yield c;
        }
      } finally {
        closed = true;
      }
    }
    for await (const e of b.transcribeStream(counting())) {
      if (e.type === 'partial') break;
    }
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(true);
    expect(pulled).toBe(5);
    expect((b.calls[0] as TestStreamCall).cancelled).toBe(true);
  });

  it('rejects with AbortedError when aborted while waiting for audio', async () => {
    const b = new TestBackend({ script });
    const controller = new AbortController();
    async function* quiet(): AsyncGenerator<AudioChunk> {
      yield { samples: new Float32Array(1600), sampleRate: 16_000 };
      await new Promise(() => undefined);
    }
    const p = collect(b.transcribeStream(quiet(), { abortSignal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    await expect(p).rejects.toThrow(AbortedError);
  });

  it('warns at the start of a stream and runs a script function when the input ends', async () => {
    const b = new TestBackend({
      script: (audio) => ({ segments: [{ start: 0, end: audio.durationSec, text: `${audio.samples.length}`, words: [] }] }),
    });
    const events = await collect(b.transcribeStream(from(chunksOf(1)), { diarization: true }));
    expect(events.map((e) => e.type)).toEqual(['warning', 'final', 'end']);
    expect(events[1]).toMatchObject({ segment: { text: '16000', end: 1 } });
  });
});
