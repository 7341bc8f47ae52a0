/**
 * Batch requests of the hybrid manager: one recording on one backend, re-run on the other after a
 * retryable failure; dual mode (both at once, compared); `compare()`.
 * @module
 */
import { openAudio } from '../audio/index.js';
import { throwIfAborted, toAbortError } from '../errors/index.js';
import type { AudioInput, Transcription, TranscriptionConfig, TranscriptionWarning } from '../spec/index.js';
import { canFailOver, errorText } from './backends.js';
import { compareTranscriptions, type ComparisonReport } from './comparison.js';
import type { HybridContext } from './context.js';
import { fitLanguage, type Selection } from './selection.js';
import type { BackendRole } from './tier.js';

/** Reads a stream-shaped input into bytes so that it can be sent to a second backend. @internal */
export async function replayable(audio: AudioInput, signal: AbortSignal | undefined): Promise<AudioInput> {
  if (typeof audio !== 'object' || audio === null || audio instanceof Uint8Array || audio instanceof Float32Array || audio instanceof URL) return audio;
  if (!(Symbol.asyncIterator in audio)) return audio;
  const parts: Buffer[] = [];
  try {
    for await (const b of audio as AsyncIterable<Uint8Array>) {
      throwIfAborted(signal);
      parts.push(Buffer.from(b));
    }
  } catch (e) {
    throw toAbortError(signal, e);
  }
  return Buffer.concat(parts);
}

/** Length of `audio` in seconds when it can be known cheaply (header only), else undefined. @internal */
export async function probeDuration(audio: AudioInput, signal: AbortSignal | undefined): Promise<number | undefined> {
  if (audio instanceof Float32Array) return audio.length / 16_000;
  if (typeof audio === 'object' && audio !== null && 'format' in audio) {
    const n = audio.format === 'pcm16' ? audio.data.length / 2 : audio.samples.length;
    return n / (audio.channels ?? 1) / audio.sampleRate;
  }
  if (typeof audio === 'string' || audio instanceof URL || audio instanceof Uint8Array) {
    try {
      const r = await openAudio(audio, signal ? { abortSignal: signal } : {});
      const d = r.durationSec;
      await r.close();
      return d;
    } catch {
      return undefined; // the backend will report the bad input
    }
  }
  return undefined;
}

/**
 * Runs one recording on `role`; on a retryable failure (and with failover on) runs it on the other
 * backend, with a `fallback` warning in the result and a `backend-switch` event.
 * @internal
 */
export async function runBatch(ctx: HybridContext, input: AudioInput, config: TranscriptionConfig, role: BackendRole, warnings: TranscriptionWarning[]): Promise<Transcription> {
  const { backends } = ctx;
  const backend = backends.get(role);
  ctx.setCurrent(backend.id);
  try {
    const r = await backend.transcribe(input, config);
    backends.noteResult(role);
    return { ...r, warnings: [...warnings, ...r.warnings] };
  } catch (e) {
    backends.noteResult(role, e);
    if (!canFailOver(e) || config.abortSignal?.aborted) throw toAbortError(config.abortSignal, e);
    const to = await backends.fallbackFor(role, config.abortSignal);
    if (to === undefined) throw e;
    const other = backends.get(to);
    const reason = `${backend.id} failed: ${errorText(e)}`;
    ctx.emit('backend-switch', { from: backend.id, to: other.id, kind: 'failover', reason, error: e as Error });
    ctx.setCurrent(other.id);
    const w: TranscriptionWarning = { type: 'fallback', from: backend.id, to: other.id, reason };
    ctx.emit('warning', w);
    const cfg = fitLanguage(other.capabilities, config);
    const r = await other.transcribe(input, cfg);
    backends.noteResult(to);
    return { ...r, warnings: [...warnings, w, ...r.warnings] };
  }
}

/**
 * Dual mode: runs the recording on both backends at once and returns the preferred one's result
 * (the other's when the preferred failed and failover is allowed); emits `comparison` when both
 * succeeded.
 * @internal
 */
export async function runDual(
  ctx: HybridContext,
  input: AudioInput,
  config: TranscriptionConfig,
  sel: Selection,
  warnings: TranscriptionWarning[],
): Promise<Transcription> {
  const { backends } = ctx;
  const prefRole = sel.backend;
  const otherRole: BackendRole = prefRole === 'native' ? 'remote' : 'native';
  const pref = backends.get(prefRole);
  const other = backends.get(otherRole);
  ctx.setCurrent(pref.id);
  const [a, b] = await Promise.allSettled([pref.transcribe(input, config), other.transcribe(input, fitLanguage(other.capabilities, config))]);
  backends.noteResult(prefRole, a.status === 'rejected' ? a.reason : undefined);
  backends.noteResult(otherRole, b.status === 'rejected' ? b.reason : undefined);
  throwIfAborted(config.abortSignal);
  if (a.status === 'fulfilled' && b.status === 'fulfilled') {
    ctx.compared(compareTranscriptions(a.value, b.value));
    return { ...a.value, warnings: [...warnings, ...a.value.warnings] };
  }
  if (a.status === 'fulfilled') {
    const w: TranscriptionWarning = { type: 'other', message: `dual mode: ${other.id} failed (${errorText((b as PromiseRejectedResult).reason)}); no comparison` };
    ctx.emit('warning', w);
    return { ...a.value, warnings: [...warnings, w, ...a.value.warnings] };
  }
  if (b.status === 'fulfilled' && canFailOver(a.reason) && backends.failover) {
    const reason = `${pref.id} failed: ${errorText(a.reason)}`;
    ctx.emit('backend-switch', { from: pref.id, to: other.id, kind: 'failover', reason, error: a.reason as Error });
    ctx.setCurrent(other.id);
    const w: TranscriptionWarning = { type: 'fallback', from: pref.id, to: other.id, reason };
    ctx.emit('warning', w);
    return { ...b.value, warnings: [...warnings, w, ...b.value.warnings] };
  }
  throw a.reason;
}

/** Runs both backends on one recording, `prefRole` first in the report, and emits `comparison`. @internal */
export async function compareBoth(ctx: HybridContext, input: AudioInput, config: TranscriptionConfig, prefRole: BackendRole): Promise<ComparisonReport> {
  const pref = ctx.backends.get(prefRole);
  const other = ctx.backends.get(prefRole === 'native' ? 'remote' : 'native');
  const [a, b] = await Promise.all([pref.transcribe(input, config), other.transcribe(input, fitLanguage(other.capabilities, config))]);
  const report = compareTranscriptions(a, b);
  ctx.compared(report);
  return report;
}
