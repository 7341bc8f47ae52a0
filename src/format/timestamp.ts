/**
 * Formats milliseconds as `HH:MM:SS<sep>mmm`. Hours get two digits, or as many as they need
 * (a 100-hour recording gives `100:00:00,000`, never a wrapped or truncated value).
 * @internal
 */
export function formatTimestampMs(ms: number, separator: ',' | '.'): string {
  const total = Math.max(0, Math.round(ms));
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = Math.floor((total % 60_000) / 1000);
  const milli = total % 1000;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}${separator}${String(milli).padStart(3, '0')}`;
}
