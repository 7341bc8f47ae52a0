import { abortErrorOf } from '../errors/index.js';

/**
 * Resolves like `p`, or rejects with an `AbortedError` (or timeout error) as soon as `signal`
 * fires. `p` itself is not cancelled.
 * @internal
 */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(abortErrorOf(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortErrorOf(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Iterates `source`, but a pending `next()` rejects as soon as `signal` fires, even when the
 * source never yields again (a stalled microphone). The source is told to stop (`return()`) when
 * iteration ends for any reason.
 * @internal
 */
export async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal | undefined): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const r = await raceAbort(it.next(), signal);
      if (r.done) return;
      yield r.value;
    }
  } finally {
    if (it.return !== undefined) void Promise.resolve(it.return()).catch(() => undefined);
  }
}

/**
 * Sleeps `ms` milliseconds; rejects with `AbortedError` (or the timeout error) as soon as `signal`
 * fires, and at once when it already has.
 * @internal
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortErrorOf(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortErrorOf(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
