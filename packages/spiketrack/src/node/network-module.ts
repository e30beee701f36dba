/**
 * A network module: a user's ES module whose `createModel(options)` (or default export) builds a
 * {@link TrackingNetwork}. `spiketrack eval --tracker ./file.mjs` and `spiketrack train --model
 * ./file.mjs` (and its gradient workers) load one the same way, through this file.
 */
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@spiketrack/neurons';
import { assertTrackingNetwork, type TrackingNetwork } from '../model/tracking-network';

/** An imported network module, and the network its factory built. */
export interface NetworkModule {
  /** The module's exports (a module may export more, e.g. `trainingLoss`). */
  readonly exports: Record<string, unknown>;
  /** What `createModel(options)` returned, checked to be a {@link TrackingNetwork}. */
  readonly model: TrackingNetwork;
}

/**
 * Imports `file`, calls its `createModel(options)` (or default export) and checks the result.
 * Errors are {@link ConfigError}s that start with `where` (the option or thread that named the file)
 * and name the file.
 */
export async function importNetworkModule(
  file: string,
  options: Record<string, unknown>,
  where: string,
): Promise<NetworkModule> {
  let exports: Record<string, unknown>;
  try {
    exports = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`${where}: cannot import the network module ${file}: ${(e as Error).message}`);
  }
  const factory = typeof exports.createModel === 'function' ? exports.createModel : exports.default;
  if (typeof factory !== 'function') {
    throw new ConfigError(
      `${where}: ${file} exports no createModel function (export function createModel(options) returning a TrackingNetwork, e.g. a SpikeTrackModel or your own network)`,
    );
  }
  const model: unknown = await (factory as (o: Record<string, unknown>) => unknown)(options);
  assertTrackingNetwork(model, `${where}: ${file} createModel()`);
  return { exports, model };
}
