import { describe, expect, it } from 'vitest';
import { AsyncChannel } from '../../src/internal/channel.js';

async function drain<T>(c: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of c) out.push(x);
  return out;
}

describe('AsyncChannel', () => {
  it('yields pushed items in order, then ends after close()', async () => {
    const c = new AsyncChannel<number>();
    c.push(1);
    c.push(2);
    const got = drain(c);
    c.push(3);
    c.close();
    c.push(4); // after close: dropped
    expect(await got).toEqual([1, 2, 3]);
  });

  it('wakes a waiting consumer', async () => {
    const c = new AsyncChannel<string>();
    const first = c.next();
    setTimeout(() => c.push('a'), 5);
    expect(await first).toEqual({ value: 'a', done: false });
  });

  it('fail() drains the queue first, then throws once; a second end is ignored', async () => {
    const c = new AsyncChannel<number>();
    c.push(1);
    const boom = new Error('boom');
    c.fail(boom);
    c.fail(new Error('second'));
    expect(await c.next()).toEqual({ value: 1, done: false });
    await expect(c.next()).rejects.toBe(boom);
    expect(await c.next()).toEqual({ value: undefined, done: true });
  });

  it('put() waits for room when capacity is reached (backpressure), push() does not', async () => {
    const c = new AsyncChannel<number>({ capacity: 2 });
    await c.put(1);
    await c.put(2);
    let third = false;
    const p = c.put(3).then(() => (third = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(third).toBe(false);
    expect(c.size).toBe(2);
    c.push(99); // no backpressure
    expect(c.size).toBe(3);
    expect((await c.next()).value).toBe(1); // 2 and 99 still queued: still full
    await new Promise((r) => setTimeout(r, 10));
    expect(third).toBe(false);
    expect((await c.next()).value).toBe(2);
    await p;
    expect(third).toBe(true);
    c.close();
    expect(await drain(c)).toEqual([99, 3]);
  });

  it('close() releases producers waiting for room; their items are dropped', async () => {
    const c = new AsyncChannel<number>({ capacity: 1 });
    await c.put(1);
    const p = c.put(2);
    c.close();
    await p;
    expect(await drain(c)).toEqual([1]);
  });

  it('onTake reports each item taken and what remains', async () => {
    const seen: [number, number][] = [];
    const c = new AsyncChannel<number>({ onTake: (x, remaining) => seen.push([x, remaining]) });
    c.push(1);
    c.push(2);
    c.close();
    await drain(c);
    expect(seen).toEqual([
      [1, 1],
      [2, 0],
    ]);
  });

  it("a consumer's break ends the channel, drops what is queued and calls onReturn once", async () => {
    let returns = 0;
    const c = new AsyncChannel<number>({ onReturn: () => returns++ });
    c.push(1);
    c.push(2);
    for await (const x of c) {
      expect(x).toBe(1);
      break;
    }
    expect(returns).toBe(1);
    expect(c.closed).toBe(true);
    expect(c.size).toBe(0);
    await c.return();
    expect(returns).toBe(1);
    expect(await c.next()).toEqual({ value: undefined, done: true });
  });
});
