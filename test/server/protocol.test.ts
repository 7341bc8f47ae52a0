/** The protocol module both sides import: one validator per message, one PCM codec. */
import { expect, it } from 'vitest';
import {
  MAX_LIVE_SAMPLE_RATE,
  MIN_LIVE_SAMPLE_RATE,
} from '../../src/audio/limits.js';
import { decodePcm, encodePcm, parseClientMessage, parseServerMessage, startMessageProblem } from '../../src/protocol/index.js';

const start = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ type: 'start', version: 1, sample_rate: 16000, encoding: 'pcm_s16le', ...extra });

it('reads client messages: start comes back unchecked, stop, and anything else is named', () => {
  expect(parseClientMessage(JSON.stringify(start({ version: 9 })))).toEqual({ type: 'start', message: start({ version: 9 }) });
  expect(parseClientMessage('{"type":"stop"}')).toEqual({ type: 'stop' });
  expect(parseClientMessage('{"type":')).toEqual({ problem: 'A text message was not valid JSON' });
  expect(parseClientMessage('{"type":"pause"}')).toEqual({ problem: 'Unknown message type "pause"' });
  expect(parseClientMessage('null')).toEqual({ problem: 'Unknown message type undefined' });
});

it('start: the live sample-rate limits of audio/limits.ts, with the server floor', () => {
  expect(startMessageProblem(start())).toBeUndefined();
  expect(startMessageProblem(start({ sample_rate: MIN_LIVE_SAMPLE_RATE }))).toBeUndefined();
  expect(startMessageProblem(start({ sample_rate: MAX_LIVE_SAMPLE_RATE }))).toBeUndefined();
  expect(startMessageProblem(start({ sample_rate: MAX_LIVE_SAMPLE_RATE + 1 }))).toMatch(/`sample_rate` must be a whole number of Hz from 1000 to 384000, got 384001/);
  expect(startMessageProblem(start({ sample_rate: 4000 }), 8000)).toMatch(/from 8000 to 384000, got 4000/);
  expect(startMessageProblem(start({ sample_rate: '16000' }))).toMatch(/got "16000"/);
  expect(startMessageProblem(start({ encoding: 'mp3' }))).toMatch(/`encoding`/);
  expect(startMessageProblem(start({ session_id: 'abcdefgh' }))).toMatch(/go together/);
  expect(startMessageProblem(start({ session_id: '../../etc', resume_offset: 0 }))).toMatch(/`session_id` must be/);
  expect(startMessageProblem(start({ session_id: 'abcdefgh', resume_offset: -1 }))).toMatch(/`resume_offset`/);
  expect(startMessageProblem([])).toBe('`start` must be an object');
});

it('server messages: every v1 type is checked, later types pass through', () => {
  const base = { ack: 0, audio_start: 0, audio_end: 0 };
  const ok = [
    { type: 'ready', version: 1, session_id: 's', sample_rate: 16000, resumed: false, ...base },
    { type: 'partial', text: 'a', start: 0, end: 1, ...base },
    { type: 'final', segment: { text: 'a', start: 0, end: 1, words: [{ word: 'a', start: 0, end: 1 }] }, ...base },
    { type: 'ack', ...base },
    { type: 'warning', warning: { type: 'other', message: 'x' }, ...base },
    { type: 'error', code: 'c', message: 'm', retryable: false, fatal: true, ...base },
    { type: 'end', duration_sec: 1, ...base },
    { type: 'from-v1.1' },
  ];
  for (const m of ok) expect(parseServerMessage(JSON.stringify(m))).toEqual(m);
  expect(parseServerMessage('[]')).toEqual({ problem: 'not an object with a string `type`' });
  expect(parseServerMessage('nope')).toEqual({ problem: 'not valid JSON' });
  expect(parseServerMessage(JSON.stringify({ type: 'ready', version: 1, sample_rate: 16000, resumed: false, ...base }))).toEqual({ problem: '`ready` has no `session_id`' });
  expect(parseServerMessage(JSON.stringify({ type: 'end', duration_sec: 1, ack: 0, audio_start: 0 }))).toEqual({ problem: '`end` has no numeric `audio_end`' });
});

it('PCM frames round-trip through encodePcm and decodePcm; float frames with NaN are refused', () => {
  const samples = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 7) * 0.9);
  const f32 = decodePcm(encodePcm(samples, 'pcm_f32le'), 'pcm_f32le');
  expect('samples' in f32 && Array.from(f32.samples)).toEqual(Array.from(samples));
  const s16 = decodePcm(encodePcm(samples, 'pcm_s16le'), 'pcm_s16le');
  expect('samples' in s16 && s16.samples).toBeInstanceOf(Int16Array);
  if ('samples' in s16) for (let i = 0; i < samples.length; i++) expect(Math.abs(s16.samples[i]! / 32768 - samples[i]!)).toBeLessThan(1e-4);
  expect(decodePcm(encodePcm(Float32Array.of(0, NaN), 'pcm_f32le'), 'pcm_f32le')).toEqual({ problem: 'A pcm_f32le frame contains NaN or Infinity' });
  // A frame that is a view into a larger buffer decodes only its own bytes.
  const big = Buffer.alloc(10, 1);
  const view = decodePcm(big.subarray(2, 6), 'pcm_s16le');
  expect('samples' in view && view.samples.length).toBe(2);
});
