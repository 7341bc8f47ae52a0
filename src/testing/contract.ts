import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeAudio } from '../audio/index.js';
import { AbortedError, ASRError, BackendUnavailableError, InvalidArgumentError, InvalidAudioError } from '../errors/index.js';
import { wordErrorRate } from '../metrics/index.js';
import type { ASRBackend, AudioChunk, Transcription, TranscriptionEvent } from '../spec/index.js';

/** Names of the cases of {@link runBackendContract}, for its `skip` option. */
export const BACKEND_CONTRACT_CASES = Object.freeze([
  'identity',
  'capabilities',
  'is-available',
  'transcribe',
  'transcribe-bytes',
  'invalid-audio',
  'aborted-before',
  'abort-during',
  'diarization',
  'unsupported-language',
  'stream',
  'stream-break',
  'stream-abort',
  'dispose',
] as const);

/** One case of {@link runBackendContract}. */
export type BackendContractCase = (typeof BACKEND_CONTRACT_CASES)[number];

/** A recording the contract suite feeds the backend. */
export interface ContractAudio {
  /** Path of a WAV file with speech. */
  readonly path: string;
  /** What is said, to check the word error rate. */
  readonly reference?: string | undefined;
  /**
   * Highest word error rate accepted (0.3 = 30 %), when `reference` is given.
   * @defaultValue 0.5
   */
  readonly maxWer?: number | undefined;
}

/** The recording streamed through `transcribeStream()`. */
export interface ContractStreamAudio extends ContractAudio {
  /**
   * Length of each streamed chunk, in seconds.
   * @defaultValue 0.1
   */
  readonly chunkSec?: number | undefined;
}

/** Options of {@link runBackendContract}. */
export interface BackendContractOptions {
  /** Makes a backend. Called once for the shared instance, and again by the `dispose` case. */
  readonly create: () => Promise<ASRBackend> | ASRBackend;
  /** The recording for `transcribe()`. */
  readonly audio: ContractAudio;
  /** The recording for `transcribeStream()`. @defaultValue `audio` */
  readonly streamAudio?: ContractStreamAudio | undefined;
  /** A language code the backend must reject. @defaultValue `'zz'` */
  readonly unsupportedLanguage?: string | undefined;
  /**
   * How far times may stray past the audio's end or a segment's bounds, in seconds (frame rounding).
   * @defaultValue 0.05
   */
  readonly timeToleranceSec?: number | undefined;
  /** Cases to skip, each with a reason in your test file. */
  readonly skip?: readonly BackendContractCase[] | undefined;
}

const EVENT_TYPES = new Set(['partial', 'final', 'diarization', 'warning', 'error', 'end']);
const WARNING_TYPES = new Set(['unsupported', 'fallback', 'other']);

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/**
 * Asserts (with vitest's `expect`) that a transcription keeps the spec's promises: finite times,
 * `0 <= start <= end <= durationSec + tolerance`, words inside their segment and in order, segments in
 * order, `text` equal to the segment texts joined by single spaces, `backend === backendId`,
 * `processingTimeSec >= 0` and a `warnings` array of known types.
 */
export function expectWellFormedTranscription(t: Transcription, backendId: string, toleranceSec = 0.05): void {
  expect(typeof t.text, 'text is a string').toBe('string');
  expect(Array.isArray(t.segments), 'segments is an array').toBe(true);
  expect(isTime(t.durationSec), `durationSec is finite and >= 0 (${t.durationSec})`).toBe(true);
  expect(isTime(t.processingTimeSec), `processingTimeSec is finite and >= 0 (${t.processingTimeSec})`).toBe(true);
  expect(t.backend, 'backend is the id of the backend').toBe(backendId);
  expect(Array.isArray(t.warnings), 'warnings is an array').toBe(true);
  for (const w of t.warnings) expect(WARNING_TYPES.has(w.type), `warning type ${w.type}`).toBe(true);
  if (t.language !== undefined) expect(typeof t.language).toBe('string');
  const limit = t.durationSec + toleranceSec;
  let prevStart = 0;
  t.segments.forEach((s, i) => {
    const at = `segments[${i}]`;
    expect(isTime(s.start) && isTime(s.end), `${at} times are finite and >= 0`).toBe(true);
    expect(s.start, `${at}.start <= end`).toBeLessThanOrEqual(s.end);
    expect(s.end, `${at}.end <= durationSec + tolerance`).toBeLessThanOrEqual(limit);
    expect(s.start, `${at} is in time order`).toBeGreaterThanOrEqual(prevStart);
    prevStart = s.start;
    expect(typeof s.text, `${at}.text is a string`).toBe('string');
    expect(Array.isArray(s.words), `${at}.words is an array`).toBe(true);
    let prevWord = s.start - toleranceSec;
    s.words.forEach((w, j) => {
      const wat = `${at}.words[${j}]`;
      expect(typeof w.word, `${wat}.word is a string`).toBe('string');
      expect(isTime(w.start) && isTime(w.end), `${wat} times are finite and >= 0`).toBe(true);
      expect(w.start, `${wat}.start <= end`).toBeLessThanOrEqual(w.end);
      expect(w.start, `${wat} is in order and inside its segment`).toBeGreaterThanOrEqual(prevWord);
      expect(w.end, `${wat} ends inside its segment`).toBeLessThanOrEqual(s.end + toleranceSec);
      prevWord = w.start;
    });
  });
  expect(t.text, 'text is the segment texts joined by single spaces').toBe(t.segments.map((s) => s.text).join(' '));
}

/** Asserts that one stream event is a well-formed member of the `TranscriptionEvent` union. */
function expectWellFormedEvent(ev: TranscriptionEvent): void {
  expect(EVENT_TYPES.has(ev.type), `event type ${String(ev.type)}`).toBe(true);
  switch (ev.type) {
    case 'partial':
      expect(typeof ev.text).toBe('string');
      expect(isTime(ev.start) && isTime(ev.end) && ev.start <= ev.end, 'partial times').toBe(true);
      break;
    case 'final':
      expect(typeof ev.segment.text).toBe('string');
      expect(isTime(ev.segment.start) && isTime(ev.segment.end) && ev.segment.start <= ev.segment.end, 'final times').toBe(true);
      expect(Array.isArray(ev.segment.words)).toBe(true);
      break;
    case 'diarization':
      expect(Array.isArray(ev.turns)).toBe(true);
      break;
    case 'warning':
      expect(WARNING_TYPES.has(ev.warning.type)).toBe(true);
      break;
    case 'error':
      expect(ASRError.isInstance(ev.error), 'error events carry an ASRError').toBe(true);
      expect(typeof ev.recoverable).toBe('boolean');
      break;
    case 'end':
      expect(isTime(ev.durationSec)).toBe(true);
      break;
  }
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to reject, but it resolved');
}

async function drain(events: AsyncIterable<TranscriptionEvent>): Promise<TranscriptionEvent[]> {
  const out: TranscriptionEvent[] = [];
  for await (const ev of events) out.push(ev);
  return out;
}

/** Garbage that is no audio format: deterministic bytes, not a RIFF header. */
function garbageBytes(): Uint8Array {
  const b = new Uint8Array(4096);
  let x = 0x2545f491;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function checkOptions(o: BackendContractOptions): void {
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('runBackendContract options must be an object');
  if (typeof o.create !== 'function') throw new InvalidArgumentError('`create` must be a function returning a backend');
  for (const [name, a] of [['audio', o.audio], ['streamAudio', o.streamAudio]] as const) {
    if (a === undefined && name === 'streamAudio') continue;
    if (typeof a !== 'object' || a === null || typeof a.path !== 'string' || a.path === '') {
      throw new InvalidArgumentError(`\`${name}.path\` must be the path of a WAV file`);
    }
    if (a.maxWer !== undefined && !(typeof a.maxWer === 'number' && a.maxWer >= 0 && Number.isFinite(a.maxWer))) {
      throw new InvalidArgumentError(`\`${name}.maxWer\` must be a finite number >= 0, got ${String(a.maxWer)}`);
    }
  }
  const chunkSec = o.streamAudio?.chunkSec;
  if (chunkSec !== undefined && !(typeof chunkSec === 'number' && chunkSec > 0 && Number.isFinite(chunkSec))) {
    throw new InvalidArgumentError(`\`streamAudio.chunkSec\` must be a finite number > 0, got ${String(chunkSec)}`);
  }
  for (const s of o.skip ?? []) {
    if (!(BACKEND_CONTRACT_CASES as readonly string[]).includes(s)) {
      throw new InvalidArgumentError(`\`skip\` names an unknown case "${s}" (cases: ${BACKEND_CONTRACT_CASES.join(', ')})`);
    }
  }
}

/**
 * Registers (with vitest's `describe` / `it`) the contract suite every {@link ASRBackend} must pass.
 * Call it at the top level of a test file. `vitest` must be installed (an optional peer dependency of
 * hybrid-asr).
 *
 * @example
 * ```ts
 * import { runBackendContract } from 'hybrid-asr/testing/vitest';
 * runBackendContract('native backend', {
 *   create: () => createNativeBackend({ model: 'models/tiny-ctc-en-offline' }),
 *   audio: { path: 'audio/hello.wav', reference: 'hello world', maxWer: 0.4 },
 * });
 * ```
 * @param suiteName - name of the `describe` block.
 * @param options - see {@link BackendContractOptions}; validated eagerly.
 * @throws InvalidArgumentError for malformed options.
 */
export function runBackendContract(suiteName: string, options: BackendContractOptions): void {
  checkOptions(options);
  const skip = new Set<string>(options.skip ?? []);
  const tol = options.timeToleranceSec ?? 0.05;
  const streamAudio: ContractStreamAudio = options.streamAudio ?? options.audio;
  const unsupportedLanguage = options.unsupportedLanguage ?? 'zz';
  const test = (id: BackendContractCase, title: string, fn: () => Promise<void> | void): void => {
    (skip.has(id) ? it.skip : it)(`${title} [${id}]`, fn);
  };

  describe(suiteName, () => {
    let backend: ASRBackend;
    beforeAll(async () => {
      backend = await options.create();
    });
    afterAll(async () => {
      await backend?.dispose();
    });

    /** The stream recording, as 16 kHz chunks of `chunkSec`. */
    async function chunks(): Promise<{ list: AudioChunk[]; durationSec: number }> {
      const audio = await decodeAudio(streamAudio.path, { sampleRate: 16_000 });
      const step = Math.max(1, Math.round((streamAudio.chunkSec ?? 0.1) * audio.sampleRate));
      const list: AudioChunk[] = [];
      for (let i = 0; i < audio.samples.length; i += step) {
        list.push({ samples: audio.samples.slice(i, i + step), sampleRate: audio.sampleRate });
      }
      return { list, durationSec: audio.durationSec };
    }

    /** A chunk source that records whether its consumer closed it, optionally hanging after `hangAfter` chunks. */
    function source(
      list: readonly AudioChunk[],
      hangAfter = Infinity,
    ): { iterable: AsyncIterable<AudioChunk>; closed: () => boolean; hanging: () => boolean } {
      let closed = false;
      let hanging = false;
      async function* gen(): AsyncGenerator<AudioChunk> {
        try {
          for (let i = 0; i < list.length; i++) {
            if (i >= hangAfter) {
              hanging = true;
              await new Promise(() => undefined);
            }
            await new Promise((r) => setImmediate(r));
            yield list[i]!;
          }
        } finally {
          closed = true;
        }
      }
      return { iterable: gen(), closed: () => closed, hanging: () => hanging };
    }

    test('identity', 'has a non-empty id and name', () => {
      expect(typeof backend.id === 'string' && backend.id.length > 0, 'id is a non-empty string').toBe(true);
      expect(typeof backend.name === 'string' && backend.name.length > 0, 'name is a non-empty string').toBe(true);
    });

    test('capabilities', 'describes its capabilities in the spec shape', async () => {
      expect(await backend.isAvailable()).toBe(true);
      const c = backend.capabilities;
      for (const k of ['streaming', 'diarization', 'offline', 'wordTimestamps', 'hotwords'] as const) {
        expect(typeof c[k], `capabilities.${k} is a boolean`).toBe('boolean');
      }
      if (c.languages !== 'any') {
        expect(Array.isArray(c.languages), "languages is 'any' or an array").toBe(true);
        for (const l of c.languages) expect(typeof l === 'string' && l.length > 0, `language code ${String(l)}`).toBe(true);
      }
      for (const k of ['maxAudioDurationSec', 'maxWindowSec', 'sampleRate'] as const) {
        const v = c[k];
        if (v !== undefined) expect(Number.isFinite(v) && v > 0, `capabilities.${k} is a finite number > 0`).toBe(true);
      }
    });

    test('is-available', 'isAvailable resolves a boolean and never throws', async () => {
      expect(await backend.isAvailable()).toBe(true);
      const aborted = AbortSignal.abort();
      const r = await backend.isAvailable({ abortSignal: aborted }).then(
        (v) => v,
        (e: unknown) => e,
      );
      expect(typeof r, 'isAvailable with an aborted signal still resolves a boolean').toBe('boolean');
    });

    test('transcribe', 'transcribes a file into a well-formed Transcription', async () => {
      const t = await backend.transcribe(options.audio.path);
      expectWellFormedTranscription(t, backend.id, tol);
      const { reference, maxWer = 0.5 } = options.audio;
      if (reference !== undefined) {
        const { wer } = wordErrorRate(reference, t.text);
        expect(wer, `WER of "${t.text}" against "${reference}"`).toBeLessThanOrEqual(maxWer);
      }
    });

    test('transcribe-bytes', 'transcribes the same file given as bytes', async () => {
      const bytes = new Uint8Array(await readFile(options.audio.path));
      const t = await backend.transcribe(bytes);
      expectWellFormedTranscription(t, backend.id, tol);
      if (options.audio.reference !== undefined) {
        expect(wordErrorRate(options.audio.reference, t.text).wer).toBeLessThanOrEqual(options.audio.maxWer ?? 0.5);
      }
    });

    test('invalid-audio', 'rejects garbage bytes with InvalidAudioError', async () => {
      const e = await rejection(backend.transcribe(garbageBytes()));
      expect(InvalidAudioError.isInstance(e), `expected InvalidAudioError, got ${String(e)}`).toBe(true);
      expect(await backend.isAvailable(), 'still available afterwards').toBe(true);
    });

    test('aborted-before', 'rejects an already-aborted call with AbortedError and stays usable', async () => {
      const e = await rejection(backend.transcribe(options.audio.path, { abortSignal: AbortSignal.abort() }));
      expect(AbortedError.isInstance(e), `expected AbortedError, got ${String(e)}`).toBe(true);
      const events = backend.transcribeStream(source([]).iterable, { abortSignal: AbortSignal.abort() });
      const se = await rejection(drain(events));
      expect(AbortedError.isInstance(se), `stream: expected AbortedError, got ${String(se)}`).toBe(true);
      expectWellFormedTranscription(await backend.transcribe(options.audio.path), backend.id, tol);
    });

    test('abort-during', 'rejects with AbortedError when aborted during a call', async () => {
      const controller = new AbortController();
      const p = backend.transcribe(options.audio.path, { abortSignal: controller.signal });
      controller.abort();
      const e = await rejection(p);
      expect(AbortedError.isInstance(e), `expected AbortedError, got ${String(e)}`).toBe(true);
    });

    test('diarization', 'answers a diarization request with speakers or an "unsupported" warning', async () => {
      const t = await backend.transcribe(options.audio.path, { diarization: true });
      expectWellFormedTranscription(t, backend.id, tol);
      if (backend.capabilities.diarization) {
        for (const s of t.segments) expect(typeof s.speaker, 'diarized segments carry a speaker').toBe('string');
      } else {
        expect(t.warnings).toContainEqual(expect.objectContaining({ type: 'unsupported', feature: 'diarization' }));
      }
    });

    test('unsupported-language', 'rejects a language it does not know with a typed ASRError', async () => {
      const e = await rejection(backend.transcribe(options.audio.path, { language: unsupportedLanguage }));
      expect(ASRError.isInstance(e), `expected an ASRError, got ${String(e)}`).toBe(true);
    });

    test('stream', 'streams well-formed events: ordered finals, exactly one end, last', async () => {
      const { list, durationSec } = await chunks();
      const events = await drain(backend.transcribeStream(source(list).iterable));
      events.forEach(expectWellFormedEvent);
      const ends = events.filter((e) => e.type === 'end');
      expect(ends.length, 'exactly one end event').toBe(1);
      expect(events[events.length - 1]?.type, 'end is the last event').toBe('end');
      expect(events.some((e) => e.type === 'error'), 'no error events').toBe(false);
      const end = ends[0]!;
      if (end.type === 'end') expect(Math.abs(end.durationSec - durationSec), 'end.durationSec is the audio streamed').toBeLessThanOrEqual(0.1 + tol);
      let prevEnd = 0;
      const texts: string[] = [];
      for (const e of events) {
        if (e.type !== 'final') continue;
        expect(e.segment.start, 'finals are ordered and do not overlap').toBeGreaterThanOrEqual(prevEnd - tol);
        expect(e.segment.end, 'finals lie inside the streamed audio').toBeLessThanOrEqual(durationSec + tol);
        prevEnd = e.segment.end;
        texts.push(e.segment.text);
      }
      if (streamAudio.reference !== undefined) {
        const text = texts.join(' ');
        expect(wordErrorRate(streamAudio.reference, text).wer, `WER of streamed "${text}"`).toBeLessThanOrEqual(streamAudio.maxWer ?? 0.5);
      }
    });

    test('stream-break', 'stops pulling audio when the consumer breaks out, and streams again afterwards', async () => {
      const { list } = await chunks();
      const first = source(list);
      let seen = 0;
      for await (const ev of backend.transcribeStream(first.iterable)) {
        expectWellFormedEvent(ev);
        seen++;
        break;
      }
      expect(seen).toBe(1);
      await vi.waitFor(() => expect(first.closed(), 'the audio source was closed').toBe(true), { timeout: 10_000 });
      const events = await drain(backend.transcribeStream(source(list).iterable));
      expect(events.filter((e) => e.type === 'end').length).toBe(1);
      expect(events[events.length - 1]?.type).toBe('end');
    });

    test('stream-abort', 'rejects with AbortedError when aborted while waiting for audio', async () => {
      const { list } = await chunks();
      const controller = new AbortController();
      const src = source(list, 3);
      const events = backend.transcribeStream(src.iterable, { abortSignal: controller.signal });
      const done = drain(events).then(
        () => new Error('the stream ended instead of rejecting'),
        (e: unknown) => e,
      );
      // Abort once the backend waits for audio that does not come (a quiet microphone).
      await vi.waitFor(() => expect(src.hanging(), 'the backend pulled the first chunks').toBe(true), { timeout: 10_000 });
      controller.abort();
      const e = await done;
      expect(AbortedError.isInstance(e), `expected AbortedError, got ${String(e)}`).toBe(true);
    });

    test('dispose', 'dispose is idempotent; afterwards calls reject with BackendUnavailableError', async () => {
      const b = await options.create();
      expect(await b.isAvailable()).toBe(true);
      await b.dispose();
      await b.dispose();
      const e = await rejection(b.transcribe(options.audio.path));
      expect(BackendUnavailableError.isInstance(e), `expected BackendUnavailableError, got ${String(e)}`).toBe(true);
      const { list } = await chunks();
      const se = await rejection(drain(b.transcribeStream(source(list).iterable)));
      expect(BackendUnavailableError.isInstance(se), `stream: expected BackendUnavailableError, got ${String(se)}`).toBe(true);
      expect(await b.isAvailable()).toBe(false);
    });
  });
}
