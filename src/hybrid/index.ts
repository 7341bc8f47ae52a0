/**
 * The hybrid manager: picks the native or remote backend per request from the subscription tier,
 * the remote's reachability and the models' capabilities; fails over without losing audio; dual mode.
 *
 * @module
 */
export { HybridManager } from './manager.js';
export type { HybridManagerOptions } from './options.js';
export type { BackendSelectedEvent, BackendSwitchEvent, HybridManagerEvents, UpgradeRequiredEvent } from './events.js';
export { defaultSettingsPath } from './config-paths.js';
export { NoBackendError, selectBackend } from './selection.js';
export type { BackendView, DecisionRow, RequestNeeds, Selection, SelectionInput } from './selection.js';
export { DEFAULT_TIER_POLICIES, tierAllows, tierPolicyFromTable } from './tier.js';
export type { BackendRole, TierFeature, TierPolicy, TierPolicyFn, TierRequirement } from './tier.js';
export { NetworkMonitor } from './network-monitor.js';
export type { MonitorTimers, NetworkMonitorEvents, NetworkMonitorOptions, NetworkState } from './network-monitor.js';
export { JsonFileSettingsStore, MemorySettingsStore, SettingsError } from './settings.js';
export type { HybridMode, HybridSettings, SettingsStore } from './settings.js';
export { compareTranscriptions } from './comparison.js';
export type { ComparisonReport, ComparisonSide, WordDifference } from './comparison.js';
