/**
 * The non-learned baseline tracker (zero-mean NCC) and the plain tracker interface it shares with
 * the benchmark harness. Pure JavaScript on typed arrays; browser-safe.
 */
export { NccTracker, type NccTrackerOptions } from './ncc';
export type { PlainTracker, PlainTrackResult } from './tracker';
