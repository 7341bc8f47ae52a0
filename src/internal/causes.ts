/**
 * Reading an error's `cause` chain: undici's `fetch failed` wraps the real reason
 * (`connect ECONNREFUSED 127.0.0.1:8080`), sometimes as an AggregateError of one per address.
 * @module
 */

/** An error's message, or its system code and address when the message is empty. */
function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e instanceof AggregateError && e.errors.length > 0) return [...new Set(e.errors.map(describeError))].join('; ');
  if (e.message !== '') return e.message;
  const sys = e as Error & { code?: unknown; address?: unknown; port?: unknown };
  const where = typeof sys.address === 'string' ? ` ${sys.address}${typeof sys.port === 'number' ? `:${sys.port}` : ''}` : '';
  return typeof sys.code === 'string' ? `${sys.code}${where}` : e.name;
}

/** One line per cause below `e`, outermost first (at most 8). */
export function causeChain(e: unknown): string[] {
  const lines: string[] = [];
  let c: unknown = e instanceof Error ? e.cause : undefined;
  for (let depth = 0; c !== undefined && c !== null && depth < 8; depth++) {
    lines.push(describeError(c));
    if (c instanceof AggregateError) break;
    c = c instanceof Error ? c.cause : undefined;
  }
  return lines.filter((l) => l !== '');
}

/** The innermost reason for `e`: its deepest cause's description, or its own. */
export function rootCause(e: unknown): string {
  return causeChain(e).at(-1) ?? describeError(e);
}
