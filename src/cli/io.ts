import { ASRError, InvalidArgumentError } from '../errors/index.js';
import { roundTimesReplacer } from '../format/index.js';
import { causeChain } from '../internal/causes.js';

/** Exit codes of the CLI. */
export const EXIT = {
  ok: 0,
  /** A user mistake: bad flag, missing file, invalid audio. */
  usage: 2,
  /** The work failed: backend unavailable, model error, server error. */
  failure: 1,
  /** Interrupted (SIGINT). */
  interrupted: 130,
} as const;

/** Writes one JSON object per line to stdout (the `stream` / `live` output format), times rounded to the millisecond. */
export function writeJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, roundTimesReplacer)}\n`);
}

/** Whether an error is the user's doing (bad input) rather than a failure of the tool. */
function isUserError(e: unknown): boolean {
  if (!ASRError.isInstance(e)) return false;
  return e.code === 'invalid_argument' || e.code === 'invalid_audio' || e.code === 'model_error';
}

/**
 * Prints an error to stderr the way the CLI always does: one line `hybrid-asr: <message>`, the
 * cause on a second line, and a stack trace only with HYBRID_ASR_DEBUG=1 or for unexpected
 * (non-hybrid-asr) errors. Returns the exit code to use.
 */
export function reportError(e: unknown): number {
  const debug = process.env.HYBRID_ASR_DEBUG === '1';
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`hybrid-asr: ${msg}\n`);
  // Each distinct cause once, none the message already says; undici's bare wrapper is skipped.
  const seen = new Set<string>();
  const chain = causeChain(e);
  for (const [i, line] of chain.entries()) {
    if (seen.has(line) || msg.includes(line) || (line === 'fetch failed' && i < chain.length - 1)) continue;
    seen.add(line);
    process.stderr.write(`  caused by: ${line}\n`);
  }
  if (debug || !ASRError.isInstance(e)) {
    if (e instanceof Error && e.stack && (debug || !ASRError.isInstance(e))) {
      if (debug) process.stderr.write(`${e.stack}\n`);
    }
  }
  return isUserError(e) ? EXIT.usage : EXIT.failure;
}

/**
 * Wraps a commander action: awaits it, turns any error into a one-line message on stderr and a
 * non-zero exit code, and passes an AbortSignal that fires on SIGINT / SIGTERM.
 */
export function action<A extends unknown[]>(
  fn: (signal: AbortSignal, ...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const controller = new AbortController();
    const onSignal = (): void => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await fn(controller.signal, ...args);
    } catch (e) {
      process.exitCode = controller.signal.aborted ? EXIT.interrupted : reportError(e);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  };
}

/** Parses a positive integer option, naming the flag in the error. */
export function parsePositiveInt(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) {
      throw new InvalidArgumentError(`${flag} must be a positive whole number, got "${value}"`);
    }
    return n;
  };
}

/** Parses a positive number option, naming the flag in the error. */
export function parsePositiveNumber(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError(`${flag} must be a positive number, got "${value}"`);
    }
    return n;
  };
}
