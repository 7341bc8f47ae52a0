/**
 * Options of the merge functions, their defaults, and the checks of options and spans.
 * @module
 */
import { InvalidArgumentError } from '../errors/index.js';

/** Options of {@link assignSpeakers}. */
export interface AssignSpeakersOptions {
  /**
   * A word that overlaps no turn takes the speaker of the nearest turn when that turn is at most
   * this many seconds away; farther words get no speaker.
   * @defaultValue 0.5
   */
  readonly gapThreshold?: number | undefined;
  /**
   * When the two speakers that overlap a word most differ by less than this many seconds of
   * overlap, the word goes to the speaker whose turn contains the word's midpoint (then to the
   * earlier-labelled speaker), instead of to a speaker that wins by a hair.
   * @defaultValue 0.02
   */
  readonly speakerTolerance?: number | undefined;
}

/** Options of {@link groupUtterances}. */
export interface GroupUtterancesOptions {
  /**
   * A pause between two words longer than this many seconds starts a new utterance.
   * @defaultValue 0.8
   */
  readonly gapThreshold?: number | undefined;
  /**
   * An utterance never grows longer than this many seconds (a new one starts at the next word).
   * `Infinity` means no limit.
   * @defaultValue Infinity
   */
  readonly maxSegmentSec?: number | undefined;
}

/** Options of {@link applyDiarization}. */
export type ApplyDiarizationOptions = AssignSpeakersOptions;

/** @internal */
export const ASSIGN_DEFAULTS = { gapThreshold: 0.5, speakerTolerance: 0.02 } as const;
/** @internal */
export const GROUP_DEFAULTS = { gapThreshold: 0.8, maxSegmentSec: Infinity } as const;

/** `v` when it is a number >= 0 (finite unless `allowInfinity`); else an InvalidArgumentError naming `name`. @internal */
export function checkNonNegative(name: string, v: unknown, allowInfinity = false): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (!allowInfinity && !Number.isFinite(v))) {
    throw new InvalidArgumentError(
      `\`${name}\` must be a ${allowInfinity ? '' : 'finite '}number >= 0, got ${String(v)}`,
    );
  }
  return v;
}

/** An options argument as a record (`{}` when undefined); else an InvalidArgumentError. @internal */
export function checkOptions(options: unknown, name: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`\`${name}\` must be an object, got ${shown(options)}`);
  }
  return options as Record<string, unknown>;
}

/** A non-object value as a message shows it. */
function shown(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'symbol':
      return v.toString();
    case 'function':
      return 'a function';
    default:
      return typeof v;
  }
}

/** Throws an InvalidArgumentError unless `start` and `end` are finite and `start` <= `end`. @internal */
export function checkSpan(kind: string, i: number, start: unknown, end: unknown): void {
  if (typeof start !== 'number' || typeof end !== 'number' || !Number.isFinite(start) || !Number.isFinite(end) || end < start) {
    throw new InvalidArgumentError(
      `\`${kind}[${i}]\` must have finite \`start\` <= \`end\`, got start=${String(start)} end=${String(end)}`,
    );
  }
}


/**
 * Throws an InvalidArgumentError unless `value` is an array. Asserts nothing about the type, so
 * the caller's typed parameter is not narrowed to `any[]`. @internal
 */
export function checkArray(name: string, value: unknown): void {
  if (!Array.isArray(value)) throw new InvalidArgumentError(`\`${name}\` must be an array`);
}
