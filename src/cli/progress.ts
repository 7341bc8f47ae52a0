/**
 * Progress on stderr for the CLI's long work (downloads, transcriptions, live and stream
 * positions): a bar on a TTY, plain lines otherwise, or nothing. Never on stdout, which carries
 * the results. `cli-progress` is loaded only when a bar is shown.
 * @module
 */
import { InvalidArgumentError } from '../errors/index.js';

/** `--progress` values. */
const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;
/** A `--progress` value: `auto` is a bar when stderr is a TTY, nothing otherwise. */
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** Parses `--progress`, naming the flag in the error. */
export function parseProgressMode(value: string): ProgressMode {
  if (!(PROGRESS_MODES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`--progress must be one of ${PROGRESS_MODES.join(', ')}, got "${value}"`);
  }
  return value as ProgressMode;
}

/** Reports the advance of one piece of work. */
export interface ProgressReporter {
  /** `done` and `total` in the reporter's unit; `total` undefined while unknown. */
  update(done: number, total: number | undefined): void;
  /** Ends the bar (or the lines); later updates are ignored. */
  stop(): void;
}

/** How a reporter shows its unit. */
interface ProgressStyle {
  /** What is being done, e.g. `transcribing talk.wav`. */
  readonly label: string;
  /** Formats an amount of the unit (`12.3 MB`, `0:42`). */
  readonly format: (n: number) => string;
  /**
   * For `lines`: the least time between two lines in ms (a line is always printed at 100 %).
   * @defaultValue 1000
   */
  readonly minIntervalMs?: number | undefined;
  /**
   * What `auto` shows when stderr is not a TTY: lines (downloads, whose logs are worth keeping)
   * or nothing (transcriptions).
   * @defaultValue 'none'
   */
  readonly offTty?: 'lines' | 'none' | undefined;
}

/** Seconds as `m:ss` (or `h:mm:ss`). */
export function formatClock(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Bytes as `12.3 MB`. */
export function formatMegabytes(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

const NONE: ProgressReporter = { update: () => {}, stop: () => {} };

/**
 * A reporter for `mode`: `bar` (cli-progress on stderr), `lines` (one line on stderr at most every
 * `minIntervalMs`), `none`; `auto` is `bar` when stderr is a TTY and `style.offTty` otherwise.
 */
export async function createProgress(mode: ProgressMode, style: ProgressStyle): Promise<ProgressReporter> {
  const tty = process.stderr.isTTY === true;
  const useBar = mode === 'bar' || (mode === 'auto' && tty);
  if (mode === 'none' || (mode === 'auto' && !tty && (style.offTty ?? 'none') === 'none')) return NONE;
  if (useBar) {
    const { default: cliProgress } = await import('cli-progress');
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, noTTYOutput: true, format: `${style.label} [{bar}] {percentage}% | {done}/{all}`, hideCursor: false },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    let stopped = false;
    return {
      update(done, total) {
        if (stopped) return;
        const all = total ?? Math.max(done, 1);
        const payload = { done: style.format(done), all: total === undefined ? '?' : style.format(total) };
        if (!started) {
          bar.start(all, done, payload);
          started = true;
        }
        bar.setTotal(all);
        bar.update(done, payload);
      },
      stop() {
        if (started && !stopped) bar.stop();
        stopped = true;
      },
    };
  }
  const minInterval = style.minIntervalMs ?? 1000;
  let last = -Infinity;
  let stopped = false;
  return {
    update(done, total) {
      if (stopped) return;
      const now = Date.now();
      const complete = total !== undefined && done >= total;
      if (!complete && now - last < minInterval) return;
      last = now;
      const pct = total !== undefined && total > 0 ? ` (${Math.floor((100 * Math.min(done, total)) / total)}%)` : '';
      process.stderr.write(`${style.label}: ${style.format(done)}${total !== undefined ? ` of ${style.format(total)}` : ''}${pct}\n`);
    },
    stop() {
      stopped = true;
    },
  };
}
