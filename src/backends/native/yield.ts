/** Resolves on the next turn of the event loop (after pending I/O and timers): lets the host breathe between synchronous native steps. */
export const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));
