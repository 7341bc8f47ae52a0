import { ASRError } from '../../errors/index.js';

/**
 * Cross-realm `instanceof` for any error class of the hierarchy, typed for subclasses whose
 * constructors differ from `ASRError`'s (where `Sub.isInstance(e)` does not type-check).
 * @internal
 */
export function isInstanceOf<T extends ASRError>(ctor: abstract new (...args: never[]) => T, e: unknown): e is T {
  return ASRError.isInstance.call(ctor as unknown as typeof ASRError, e);
}
