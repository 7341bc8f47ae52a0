/**
 * The one async queue of the package: a single-consumer channel that producers `push()` into
 * (never waits) or `put()` into (waits while `capacity` items are queued: backpressure), and that
 * the consumer reads with `for await` or `next()` until `close()` (drains, then ends) or `fail()`
 * (drains, then throws). `return()` (a consumer's `break`) ends it at once and drops what is queued.
 * @internal
 */
interface AsyncChannelOptions<T> {
  /**
   * Items queued before `put()` waits; `push()` ignores it.
   * @defaultValue Infinity
   */
  readonly capacity?: number;
  /** Called each time the consumer takes an item, with the item and how many are still queued. */
  readonly onTake?: (item: T, remaining: number) => void;
  /** Called once when the consumer stops early (`return()`, e.g. `break` out of `for await`). */
  readonly onReturn?: () => void;
}

/** @internal */
export class AsyncChannel<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = [];
  readonly #capacity: number;
  readonly #onTake: ((item: T, remaining: number) => void) | undefined;
  readonly #onReturn: (() => void) | undefined;
  #closed = false;
  #failed = false;
  #returned = false;
  #error: unknown;
  #wakeConsumer: (() => void) | undefined;
  readonly #roomWaiters: (() => void)[] = [];

  constructor(options: AsyncChannelOptions<T> = {}) {
    this.#capacity = options.capacity ?? Infinity;
    this.#onTake = options.onTake;
    this.#onReturn = options.onReturn;
  }

  /** Items queued. */
  get size(): number {
    return this.#items.length;
  }

  /** Whether `close()`, `fail()` or `return()` was called: later items are dropped. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues an item now (no backpressure). Dropped after `close()`. */
  push(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    this.#wake();
  }

  /** Queues an item once fewer than `capacity` are queued. Dropped after `close()`. */
  async put(item: T): Promise<void> {
    while (!this.#closed && this.#items.length >= this.#capacity) {
      await new Promise<void>((r) => this.#roomWaiters.push(r));
    }
    this.push(item);
  }

  /** No more items: the consumer ends after draining the queue. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#wake();
    for (const r of this.#roomWaiters.splice(0)) r();
  }

  /** Like `close()`, but the consumer then throws `error`. Only the first end counts. */
  fail(error: unknown): void {
    if (this.#closed) return;
    this.#failed = true;
    this.#error = error;
    this.close();
  }

  async next(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      if (this.#items.length > 0) {
        const item = this.#items.shift() as T;
        this.#roomWaiters.shift()?.();
        this.#onTake?.(item, this.#items.length);
        return { value: item, done: false };
      }
      if (this.#closed) {
        if (this.#failed) {
          this.#failed = false;
          throw this.#error;
        }
        return { value: undefined, done: true };
      }
      await new Promise<void>((r) => (this.#wakeConsumer = r));
      this.#wakeConsumer = undefined;
    }
  }

  /** Ends the channel at once (a consumer's `break`): queued items are dropped. */
  return(): Promise<IteratorResult<T, undefined>> {
    this.#items.length = 0;
    this.#failed = false;
    this.close();
    if (!this.#returned) {
      this.#returned = true;
      this.#onReturn?.();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #wake(): void {
    this.#wakeConsumer?.();
  }
}
