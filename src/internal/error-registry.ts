/**
 * The cross-realm identity of hybrid-asr's errors. Each registered class's prototype holds the
 * names of its class chain under a well-known symbol, so two copies of the package (its ESM and
 * CJS builds, or two installs in one app) recognise each other's errors. Names are given
 * explicitly when a class is registered, never read from `constructor.name`, which bundlers and
 * minifiers empty or mangle.
 * @module
 */

/** The marker's key; `Symbol.for` makes it the same symbol in every copy of the package. */
const ERROR_MARK: unique symbol = Symbol.for('hybrid-asr.error') as never;

type Marked = { [ERROR_MARK]?: readonly string[] };

/**
 * Registers an error class under a stable name: sets `name` on its prototype and the marker
 * (its name followed by its parent's chain). Call it right after the class's declaration, parents
 * before children. A class that is not registered behaves as its nearest registered parent.
 */
export function registerError(ctor: abstract new (...args: never[]) => Error, name: string): void {
  const parent = Object.getPrototypeOf(ctor.prototype) as Marked;
  const chain = Object.freeze([name, ...(parent[ERROR_MARK] ?? [])]);
  Object.defineProperty(ctor.prototype, 'name', { value: name, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(ctor.prototype, ERROR_MARK, { value: chain, enumerable: false });
}

/** Whether `e` carries the marker of the class whose prototype is `proto` (from any copy). */
export function hasErrorMark(proto: object, e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const own = (proto as Marked)[ERROR_MARK]?.[0];
  const marks = (e as Marked)[ERROR_MARK];
  return own !== undefined && Array.isArray(marks) && marks.includes(own);
}
