import { InvalidArgumentError } from '../errors/index.js';
import type { BackendCapabilities, TranscriptionConfig } from '../spec/index.js';
import type { ScriptedWord, StreamFailure } from './types.js';

export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return Array.isArray(v) ? 'an array' : typeof v;
}

export function checkNonNegative(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new InvalidArgumentError(`\`${name}\` must be a finite number >= 0, got ${describeValue(v)}`);
  }
}

export function checkInjected(name: string, e: unknown): void {
  if (!(e instanceof Error) && typeof e !== 'function') {
    throw new InvalidArgumentError(`\`${name}\` must be an Error or a function returning one, got ${describeValue(e)}`);
  }
}

export function checkStreamFailure(f: StreamFailure): void {
  if (typeof f !== 'object' || f === null) throw new InvalidArgumentError(`\`streamFailure\` must be an object, got ${describeValue(f)}`);
  checkNonNegative('streamFailure.afterSec', f.afterSec);
  if (f.error !== undefined) checkInjected('streamFailure.error', f.error);
}

export function checkScript(script: unknown): void {
  if (typeof script === 'function') return;
  if (!Array.isArray(script)) throw new InvalidArgumentError(`\`script\` must be an array of words or a function, got ${describeValue(script)}`);
  let prevStart = 0;
  script.forEach((w: unknown, i) => {
    const o = w as Partial<ScriptedWord> | null;
    if (typeof o !== 'object' || o === null || typeof o.word !== 'string' || o.word.trim() === '') {
      throw new InvalidArgumentError(`\`script[${i}].word\` must be a non-empty string`);
    }
    checkNonNegative(`script[${i}].start`, o.start);
    checkNonNegative(`script[${i}].end`, o.end);
    if (o.end! < o.start!) throw new InvalidArgumentError(`\`script[${i}].end\` (${o.end}) must not be before its start (${o.start})`);
    if (o.start! < prevStart) throw new InvalidArgumentError(`\`script[${i}].start\` (${o.start}) must not be before the previous word's start`);
    if (o.speaker !== undefined && typeof o.speaker !== 'string') throw new InvalidArgumentError(`\`script[${i}].speaker\` must be a string`);
    prevStart = o.start!;
  });
}

export function checkCapabilities(c: BackendCapabilities): BackendCapabilities {
  const languages = c.languages;
  for (const k of ['streaming', 'diarization', 'offline', 'wordTimestamps', 'hotwords'] as const) {
    if (typeof c[k] !== 'boolean') throw new InvalidArgumentError(`\`capabilities.${k}\` must be a boolean, got ${describeValue(c[k])}`);
  }
  if (c.languages !== 'any' && !(Array.isArray(c.languages) && c.languages.every((l) => typeof l === 'string' && l !== ''))) {
    throw new InvalidArgumentError("`capabilities.languages` must be 'any' or an array of language codes");
  }
  for (const k of ['maxAudioDurationSec', 'maxWindowSec', 'sampleRate'] as const) {
    const v = c[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) {
      throw new InvalidArgumentError(`\`capabilities.${k}\` must be a finite number > 0, got ${describeValue(v)}`);
    }
  }
  return Object.freeze({ ...c, languages: languages === 'any' ? 'any' : Object.freeze([...languages]) });
}

/** Checks the parts of a call's options the test backend reads; returns the signal. */
export function checkConfig(config: TranscriptionConfig): AbortSignal | undefined {
  if (typeof config !== 'object' || config === null) {
    throw new InvalidArgumentError(`options must be an object, got ${describeValue(config)}`);
  }
  const { language, diarization, hotwords, abortSignal, punctuation, onProgress } = config;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new InvalidArgumentError(`\`onProgress\` must be a function, got ${describeValue(onProgress)}`);
  }
  if (abortSignal !== undefined && !(abortSignal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`\`abortSignal\` must be an AbortSignal, got ${describeValue(abortSignal)}`);
  }
  if (language !== undefined && (typeof language !== 'string' || language === '')) {
    throw new InvalidArgumentError(`\`language\` must be a non-empty string, got ${describeValue(language)}`);
  }
  if (diarization !== undefined && typeof diarization !== 'boolean' && (typeof diarization !== 'object' || diarization === null)) {
    throw new InvalidArgumentError(`\`diarization\` must be a boolean or an options object, got ${describeValue(diarization)}`);
  }
  if (punctuation !== undefined && typeof punctuation !== 'boolean') {
    throw new InvalidArgumentError(`\`punctuation\` must be a boolean, got ${describeValue(punctuation)}`);
  }
  if (hotwords !== undefined && !(Array.isArray(hotwords) && hotwords.every((h) => typeof h === 'string'))) {
    throw new InvalidArgumentError('`hotwords` must be an array of strings');
  }
  return abortSignal;
}

