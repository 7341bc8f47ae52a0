import { BackendUnavailableError } from '../errors/index.js';
import { registerError } from '../internal/error-registry.js';
import type { BackendCapabilities, TranscriptionConfig, TranscriptionWarning } from '../spec/index.js';
import type { BackendRole } from './tier.js';

/** What a request needs, as far as choosing a backend goes. */
export interface RequestNeeds {
  /** Requested language, if any. */
  readonly language?: string | undefined;
  /** Whether speaker labels were asked for (and the tier allows them). */
  readonly diarization: boolean;
  /** Whether hotwords were given (and the tier allows them). */
  readonly hotwords: boolean;
  /** Length of the audio in seconds, when known before transcribing. */
  readonly durationSec?: number | undefined;
}

/** What the selector knows about one backend. */
export interface BackendView {
  /** Whether the backend answered `isAvailable()` with `true` (for the remote: the network monitor's view). */
  readonly available: boolean;
  /** Its loaded model's capabilities. */
  readonly capabilities: BackendCapabilities;
}

/** Everything {@link selectBackend} decides on. */
export interface SelectionInput {
  /** `auto` runs the decision table; `native` / `remote` pin the first choice. */
  readonly mode: 'auto' | BackendRole;
  /** Backends the tier allows. */
  readonly allowed: readonly BackendRole[];
  /** The network monitor's view: `false` only when the remote backend is known to be unreachable. */
  readonly online: boolean;
  /** The native backend, or `undefined` when the app gave none. */
  readonly native: BackendView | undefined;
  /** The remote backend, or `undefined` when the app gave none. */
  readonly remote: BackendView | undefined;
  /** What the request needs. */
  readonly needs: RequestNeeds;
}

/** Rows of the decision table (see {@link selectBackend}). */
export type DecisionRow =
  | 'offline-native'
  | 'offline-error'
  | 'remote-capability'
  | 'native-capable'
  | 'remote-fallback'
  | 'native-with-warnings'
  | 'no-backend'
  | 'pinned';

/** The decision. */
export interface Selection {
  /** The backend to run the request on. */
  readonly backend: BackendRole;
  /** The row of the decision table that decided. */
  readonly row: DecisionRow;
  /** Why, in words. */
  readonly reason: string;
  /** Soft problems to add to the result (unsupported options). */
  readonly warnings: readonly TranscriptionWarning[];
  /** Options to drop from the request before running it (they became warnings). */
  readonly drop: readonly ('language' | 'diarization' | 'hotwords')[];
  /** Set when the tier's lack of the remote backend made the choice worse. */
  readonly remoteWouldHelp: boolean;
}

/** A request the selector cannot place; `row` tells which row of the table refused it. */
export class NoBackendError extends BackendUnavailableError {
  override readonly code: string = 'no_backend';
  /** The row of the decision table that refused the request. */
  readonly row: DecisionRow;
  /** Whether the tier's lack of the remote backend is part of the reason. */
  readonly remoteWouldHelp: boolean;

  /**
   * @param message - why no backend can run the request.
   * @param row - the refusing row.
   * @param remoteWouldHelp - whether the remote backend could have run it.
   */
  constructor(message: string, row: DecisionRow, remoteWouldHelp = false) {
    super(message);
    this.row = row;
    this.remoteWouldHelp = remoteWouldHelp;
  }

  override get isRetryable(): boolean {
    return false;
  }
}
registerError(NoBackendError, 'NoBackendError');

/** Whether `caps` lists `language` (compared on the primary subtag: `en-US` matches `en`). */
function supportsLanguage(caps: BackendCapabilities, language: string | undefined): boolean {
  if (language === undefined || caps.languages === 'any') return true;
  const want = language.toLowerCase().split(/[-_]/)[0];
  return caps.languages.some((l) => l.toLowerCase().split(/[-_]/)[0] === want);
}

/** Requirements `caps` cannot meet at all (the backend would throw): language, duration. */
function hardGaps(caps: BackendCapabilities, needs: RequestNeeds): string[] {
  const gaps: string[] = [];
  if (!supportsLanguage(caps, needs.language)) {
    gaps.push(`language '${needs.language}' (model has ${caps.languages === 'any' ? 'any' : caps.languages.join(', ')})`);
  }
  if (needs.durationSec !== undefined && caps.maxAudioDurationSec !== undefined && needs.durationSec > caps.maxAudioDurationSec) {
    gaps.push(`${needs.durationSec.toFixed(1)} s of audio (model accepts at most ${caps.maxAudioDurationSec} s)`);
  }
  return gaps;
}

/** Asked-for options `caps` can't honour, as the warnings the result will carry. */
function softGaps(caps: BackendCapabilities, needs: RequestNeeds, id: string): TranscriptionWarning[] {
  const w: TranscriptionWarning[] = [];
  if (needs.diarization && !caps.diarization) w.push({ type: 'unsupported', feature: 'diarization', details: `the ${id} backend's model has no diarization` });
  if (needs.hotwords && !caps.hotwords) w.push({ type: 'unsupported', feature: 'hotwords', details: `the ${id} backend's model has no hotwords` });
  return w;
}

/** Whether `remote` has something the request asks for that `native` lacks. */
function remoteOnlyNeed(native: BackendView | undefined, remote: BackendView, needs: RequestNeeds): string | undefined {
  const nc = native?.capabilities;
  const rc = remote.capabilities;
  if (hardGaps(rc, needs).length > 0) return undefined;
  if (nc === undefined) return 'no native backend';
  const hard = hardGaps(nc, needs);
  if (hard.length > 0) return `the native model lacks ${hard.join(' and ')}`;
  if (needs.diarization && !nc.diarization && rc.diarization) return 'diarization needs the remote backend';
  return undefined;
}

/**
 * Chooses the backend for one request. Pure: everything it reads is in `input`.
 *
 * Decision table for `mode: 'auto'` (first matching row wins):
 *
 * | # | row                    | condition                                                                                     | result |
 * |---|------------------------|-----------------------------------------------------------------------------------------------|--------|
 * | 1 | `offline-native`       | tier allows remote but it is known unreachable, native available with no hard gap (language, duration)  | native (soft gaps → warnings) |
 * | 2 | `offline-error`        | tier allows remote but it is known unreachable, native unavailable or with a hard gap                   | `NoBackendError` saying why |
 * | 3 | `remote-capability`    | tier allows remote, and the request needs something only remote has (diarization, a language, a duration) | remote |
 * | 4 | `native-capable`       | tier allows native, native available and supports the language (and duration)                | native (soft gaps → warnings) |
 * | 5 | `remote-fallback`      | tier allows remote                                                                           | remote (soft gaps → warnings) |
 * | 6 | `native-with-warnings` | native available but lacks the language, the remote has it but the tier does not include it  | native, `language` dropped with a warning (and `upgrade-required`) |
 * | 7 | `no-backend`           | anything else (native unavailable and remote not allowed; a language no backend has)          | `NoBackendError` saying why |
 *
 * "Known unreachable" means the network monitor says offline (or the app said so). Hard gaps make a backend throw; soft gaps (diarization, hotwords) only
 * produce warnings. `mode: 'native'` / `'remote'` (row `pinned`) take that backend when the tier
 * allows it and it is available; otherwise the auto table decides.
 *
 * @throws NoBackendError when no backend can run the request (rows 2 and 7).
 */
export function selectBackend(input: SelectionInput): Selection {
  const { allowed, needs, native, remote } = input;
  const nativeOk = native !== undefined && allowed.includes('native');
  const remoteAllowed = remote !== undefined && allowed.includes('remote');
  const remoteUsable = remoteAllowed && input.online && remote.available;
  const make = (backend: BackendRole, row: DecisionRow, reason: string, extra: Partial<Selection> = {}): Selection => {
    const view = backend === 'native' ? native! : remote!;
    return { backend, row, reason, warnings: softGaps(view.capabilities, needs, backend), drop: [], remoteWouldHelp: false, ...extra };
  };

  if (input.mode !== 'auto') {
    const view = input.mode === 'native' ? native : remote;
    const usable = input.mode === 'native' ? nativeOk && native.available : remoteUsable;
    if (usable && view !== undefined && hardGaps(view.capabilities, needs).length === 0) {
      return make(input.mode, 'pinned', `mode is '${input.mode}'`);
    }
  }

  const nativeHard = nativeOk && native.available ? hardGaps(native.capabilities, needs) : undefined;
  const nativeWhyNot = !nativeOk
    ? native === undefined
      ? 'there is no native backend'
      : 'the tier does not include the native backend'
    : !native.available
      ? 'the native backend is unavailable'
      : nativeHard!.length > 0
        ? `the native model lacks ${nativeHard!.join(' and ')}`
        : undefined;
  const remoteHelps = remote !== undefined && !remoteAllowed && hardGaps(remote.capabilities, needs).length === 0;

  // Rows 1-2: the remote backend is known to be out of reach.
  if (remoteAllowed && !(input.online && remote.available)) {
    if (nativeWhyNot === undefined) return make('native', 'offline-native', 'the remote backend is unreachable');
    throw new NoBackendError(`The remote backend is unreachable and ${nativeWhyNot}`, 'offline-error');
  }
  // Row 3: a capability only the remote has.
  if (remoteAllowed) {
    const need = remoteOnlyNeed(nativeOk ? native : undefined, remote, needs);
    if (need !== undefined) return make('remote', 'remote-capability', need);
  }
  // Row 4: native can do it.
  if (nativeWhyNot === undefined) {
    const soft = softGaps(native!.capabilities, needs, 'native');
    const helps = remoteHelps && (needs.diarization && remote.capabilities.diarization && !native!.capabilities.diarization);
    return make('native', 'native-capable', 'the native backend can run the request', { warnings: soft, remoteWouldHelp: helps });
  }
  // Row 5: remote if the tier allows it.
  if (remoteAllowed) {
    const rh = hardGaps(remote.capabilities, needs);
    if (rh.length === 0) return make('remote', 'remote-fallback', nativeWhyNot);
  }
  // Row 6: native anyway, without the language it lacks.
  if (remoteHelps && nativeOk && native.available && nativeHard!.every((g) => g.startsWith('language'))) {
    const soft = softGaps(native.capabilities, needs, 'native');
    return make('native', 'native-with-warnings', `${nativeWhyNot}; no other backend is allowed`, {
      warnings: [
        { type: 'unsupported', feature: 'language', details: `the native model lacks language '${needs.language}'; transcribed with its own language instead` },
        ...soft,
      ],
      drop: ['language'],
      remoteWouldHelp: remoteHelps,
    });
  }
  // Row 7.
  const remoteWhyNot =
    remote === undefined
      ? 'there is no remote backend'
      : !remoteAllowed
        ? 'the tier does not include the remote backend'
        : `the remote model lacks ${hardGaps(remote.capabilities, needs).join(' and ')}`;
  throw new NoBackendError(`No backend can run this request: ${nativeWhyNot ?? 'native cannot'} and ${remoteWhyNot}`, 'no-backend', remoteHelps);
}

/** `c` without `language` (a selection that dropped it). @internal */
export function withoutLanguage<T extends TranscriptionConfig>(c: T): T {
  const { language: _l, ...rest } = c;
  return rest as T;
}

/** Drops `language` for a backend whose model lacks it (after a failover), so the call can proceed. @internal */
export function fitLanguage<T extends TranscriptionConfig>(caps: BackendCapabilities, c: T): T {
  return supportsLanguage(caps, c.language) ? c : withoutLanguage(c);
}
