/**
 * A bounded single-consumer async queue: `put()` waits while the queue is full (backpressure),
 * the consumer iterates with `for await` until `close()`.
 * @internal
 */
export class FeedQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private closed = false;
  private wakeConsumer: (() => void) | undefined;
  private readonly roomWaiters: (() => void)[] = [];
  private readonly capacity: number;

  /** @param capacity - items held before `put()` waits. */
  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Items waiting. */
  get size(): number {
    return this.items.length;
  }

  /** Adds an item; resolves once there is room for it. */
  async put(item: T): Promise<void> {
    while (!this.closed && this.items.length >= this.capacity) {
      await new Promise<void>((r) => this.roomWaiters.push(r));
    }
    if (this.closed) return;
    this.items.push(item);
    this.wakeConsumer?.();
  }

  /** No more items: the consumer ends after draining. Idempotent. */
  close(): void {
    this.closed = true;
    this.wakeConsumer?.();
    for (const r of this.roomWaiters.splice(0)) r();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        this.roomWaiters.shift()?.();
        yield item;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((r) => {
        this.wakeConsumer = r;
      });
      this.wakeConsumer = undefined;
    }
  }
}
