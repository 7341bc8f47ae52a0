import type { BackendPair } from './backends.js';
import type { ComparisonReport } from './comparison.js';
import type { EmitHybridEvent } from './events.js';

/**
 * What the manager lends the parts that run requests (batch, dual mode, stream failover): the
 * backends, its `emit`, and the two pieces of its state they report to.
 * @internal
 */
export interface HybridContext {
  /** The backends and the remote's health. */
  readonly backends: BackendPair;
  /** The manager's `emit`. */
  readonly emit: EmitHybridEvent;
  /** Records the backend now running (the manager's `currentBackend`). */
  setCurrent(id: string): void;
  /** Records a dual-mode comparison (the manager's `lastComparison`) and emits `comparison`. */
  compared(report: ComparisonReport): void;
}
