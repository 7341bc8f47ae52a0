import type { EventEmitter } from 'eventemitter3';
import type { TranscriptionWarning } from '../spec/index.js';
import type { ComparisonReport } from './comparison.js';
import type { DecisionRow } from './selection.js';
import type { TierRequirement } from './tier.js';

/** Why the manager moved a request or a stream from one backend to another. */
export interface BackendSwitchEvent {
  /** `id` of the backend left. */
  readonly from: string;
  /** `id` of the backend taken. */
  readonly to: string;
  /** `failover`: the first backend failed; `restore`: a stream went back to the preferred backend once it was healthy. */
  readonly kind: 'failover' | 'restore';
  /** Why, in words. */
  readonly reason: string;
  /** The error that caused a failover. */
  readonly error?: Error | undefined;
  /** For streams: where on the stream's timeline the new backend starts (the replayed audio's start), seconds. */
  readonly atSec?: number | undefined;
}

/** The tier lacks something the app or the user asked for. */
export interface UpgradeRequiredEvent {
  /** What was asked for: a mode's backend, `dual`, or a feature. */
  readonly requested: TierRequirement;
  /** The current tier. */
  readonly tier: string;
  /** The tier that has it, when the policy names one. */
  readonly requiredTier: string | undefined;
  /** In words. */
  readonly message: string;
}

/** Which backend a request or stream started on, and why. */
export interface BackendSelectedEvent {
  /** `transcribe` (batch), `stream`, or `dual` (both run; `backend` is the preferred one). */
  readonly request: 'transcribe' | 'stream' | 'dual';
  /** `id` of the backend. */
  readonly backend: string;
  /** The decision-table row that chose it. */
  readonly row: DecisionRow;
  /** Why, in words. */
  readonly reason: string;
}

/** Typed events of a {@link HybridManager}. */
export interface HybridManagerEvents {
  /** A request or stream started on a backend (before any failover). */
  'backend-selected': [event: BackendSelectedEvent];
  /** A request or stream moved to another backend. */
  'backend-switch': [event: BackendSwitchEvent];
  /** The tier lacks what was asked for; the manager carried on without it. */
  'upgrade-required': [event: UpgradeRequiredEvent];
  /** The remote backend became reachable. */
  online: [];
  /** The remote backend became unreachable. */
  offline: [reason: string];
  /** Dual mode compared the two backends' transcripts of one recording. */
  comparison: [report: ComparisonReport];
  /** A soft problem (also carried in results). */
  warning: [warning: TranscriptionWarning];
}

/** The manager's `emit`, handed to the parts that run requests. @internal */
export type EmitHybridEvent = EventEmitter<HybridManagerEvents>['emit'];
