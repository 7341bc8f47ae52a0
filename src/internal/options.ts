/**
 * Options objects: an option the caller passes as `undefined` means "not set". Under
 * `exactOptionalPropertyTypes` users naturally pass `{ apiKey: process.env.KEY }`; spreading that
 * over the defaults would replace a default with `undefined`. One place drops such keys first.
 * @module
 */

/** `T` without `undefined` in its property types (optional properties stay optional). */
type Defined<T> = { [K in keyof T]: Exclude<T[K], undefined> };

/** A copy of `options` without the keys whose value is `undefined`; `{}` for `undefined`. */
export function definedOnly<T extends object>(options: T | undefined): Defined<T> {
  const out: Record<string, unknown> = {};
  if (options !== undefined && options !== null) {
    for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  }
  return out as Defined<T>;
}

/** Every property of `T` present and defined: the type of an options object after its defaults. */
export type Complete<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };
