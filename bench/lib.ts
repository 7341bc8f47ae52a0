/** Small helpers shared by the benches: robust statistics and the `--json` switch. */

/** Median of a list of numbers. */
export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** The p-th percentile (nearest rank) of a list of numbers. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

/** Whether `--json` was passed. */
export const wantJson = process.argv.includes('--json');

/** Value of `--name <value>` on the command line, or `fallback`. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** Prints a human table line (unless --json). */
export function line(label: string, value: string): void {
  if (!wantJson) console.log(`${label.padEnd(58)} ${value}`);
}

/** Prints the results object as JSON (with --json). */
export function done(results: Record<string, unknown>): void {
  if (wantJson) console.log(JSON.stringify(results, null, 2));
}
