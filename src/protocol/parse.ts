/**
 * The one validator of each message of the streaming protocol, used by both sides: the server
 * reads client messages with {@link parseClientMessage} and {@link startMessageProblem}, the remote
 * backend reads server messages with {@link parseServerMessage}. Each returns what is wrong as a
 * sentence (the caller picks the error: a close with 4400 on the server, a `ConnectionError` on
 * the client), never throws.
 *
 * @module
 */
import { liveSampleRateProblem } from '../audio/index.js';
import { STREAM_PROTOCOL_VERSION } from './constants.js';
import type { ServerMessage } from './messages.js';

/** What is wrong with a message, as a sentence. */
interface ProtocolProblem {
  /** The sentence. */
  readonly problem: string;
}

/** A client message read by {@link parseClientMessage}: its type, and the raw `start` to validate. */
type ParsedClientMessage = { readonly type: 'start'; readonly message: unknown } | { readonly type: 'stop' } | ProtocolProblem;

/**
 * Reads a client text message: JSON with `type` `start` or `stop`. A `start` comes back unchecked
 * (a second `start` is refused before its fields are looked at): check it with {@link startMessageProblem}.
 */
export function parseClientMessage(text: string): ParsedClientMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { problem: 'A text message was not valid JSON' };
  }
  const type = isObject(msg) ? msg.type : undefined;
  if (type === 'start') return { type: 'start', message: msg };
  if (type === 'stop') return { type: 'stop' };
  return { problem: `Unknown message type ${JSON.stringify(type)}` };
}

/**
 * What is wrong with a `start` message, or `undefined` when it is a valid {@link StartMessage}
 * (`sample_rate` from `minSampleRate` to the live-audio maximum, see `audio/limits.ts`).
 */
export function startMessageProblem(m: unknown, minSampleRate?: number): string | undefined {
  if (!isObject(m)) return '`start` must be an object';
  if (m.version !== STREAM_PROTOCOL_VERSION) return `\`version\` must be ${STREAM_PROTOCOL_VERSION}, got ${JSON.stringify(m.version)}`;
  const rateProblem = liveSampleRateProblem(m.sample_rate, '`sample_rate`', minSampleRate);
  if (rateProblem !== undefined) return rateProblem;
  if (m.encoding !== 'pcm_s16le' && m.encoding !== 'pcm_f32le') {
    return `\`encoding\` must be "pcm_s16le" or "pcm_f32le", got ${JSON.stringify(m.encoding)}`;
  }
  if (m.language !== undefined && typeof m.language !== 'string') return '`language` must be a string';
  if (m.model !== undefined && typeof m.model !== 'string') return '`model` must be a string';
  if (m.partials !== undefined && typeof m.partials !== 'boolean') return '`partials` must be a boolean';
  if (m.session_id !== undefined && (typeof m.session_id !== 'string' || !/^[\w-]{8,64}$/.test(m.session_id))) {
    return '`session_id` must be 8–64 letters, digits, "-" or "_"';
  }
  if (m.resume_offset !== undefined && (typeof m.resume_offset !== 'number' || !Number.isInteger(m.resume_offset) || m.resume_offset < 0)) {
    return `\`resume_offset\` must be a whole number >= 0, got ${JSON.stringify(m.resume_offset)}`;
  }
  if ((m.resume_offset !== undefined) !== (m.session_id !== undefined)) return '`session_id` and `resume_offset` go together';
  return undefined;
}

/**
 * Reads a server text message. Messages of the types of version 1 must carry their fields
 * (`ack`, `audio_start`, `audio_end` and those of the type); a message of another type (from a
 * later minor version) only needs a string `type`, and is for the caller to ignore.
 */
export function parseServerMessage(text: string): ServerMessage | ProtocolProblem {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return { problem: 'not valid JSON' };
  }
  if (!isObject(m) || typeof m.type !== 'string') return { problem: 'not an object with a string `type`' };
  const check = SERVER_MESSAGE_CHECKS[m.type];
  if (check === undefined) return m as unknown as ServerMessage;
  for (const f of ['ack', 'audio_start', 'audio_end']) {
    if (!isFiniteNumber(m[f])) return { problem: `\`${m.type}\` has no numeric \`${f}\`` };
  }
  const problem = check(m);
  return problem === undefined ? (m as unknown as ServerMessage) : { problem: `\`${m.type}\` ${problem}` };
}

type Obj = Record<string, unknown>;

/** For each message type of version 1: what is wrong with its own fields. */
const SERVER_MESSAGE_CHECKS: Readonly<Record<string, (m: Obj) => string | undefined>> = {
  ready: (m) =>
    typeof m.session_id !== 'string' || m.session_id === ''
      ? 'has no `session_id`'
      : !isFiniteNumber(m.version) || !isFiniteNumber(m.sample_rate)
        ? 'has no numeric `version` or `sample_rate`'
        : typeof m.resumed !== 'boolean'
          ? 'has no boolean `resumed`'
          : undefined,
  partial: (m) =>
    typeof m.text !== 'string' ? 'has no string `text`' : !isFiniteNumber(m.start) || !isFiniteNumber(m.end) ? 'has no numeric `start` or `end`' : undefined,
  final: (m) => segmentProblem(m.segment),
  ack: () => undefined,
  warning: (m) => (isObject(m.warning) && typeof m.warning.type === 'string' ? undefined : 'has no `warning` with a string `type`'),
  error: (m) =>
    typeof m.code !== 'string' || typeof m.message !== 'string'
      ? 'has no string `code` or `message`'
      : typeof m.retryable !== 'boolean' || typeof m.fatal !== 'boolean'
        ? 'has no boolean `retryable` or `fatal`'
        : undefined,
  end: (m) => (isFiniteNumber(m.duration_sec) ? undefined : 'has no numeric `duration_sec`'),
};

function segmentProblem(s: unknown): string | undefined {
  if (!isObject(s) || typeof s.text !== 'string' || !isFiniteNumber(s.start) || !isFiniteNumber(s.end) || !Array.isArray(s.words)) {
    return 'has no `segment` with `text`, `start`, `end` and `words`';
  }
  for (const w of s.words as unknown[]) {
    if (!isObject(w) || typeof w.word !== 'string' || !isFiniteNumber(w.start) || !isFiniteNumber(w.end)) {
      return 'has a segment word without `word`, `start` and `end`';
    }
  }
  return undefined;
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
