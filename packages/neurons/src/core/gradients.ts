import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from './errors';

/**
 * tfjs-core alone registers no gradients. `@tensorflow/tfjs` and `@tensorflow/tfjs-layers` do, and
 * bundlers can load tfjs-core's own `register_all_gradients`. This tries those, in that order.
 */
let pending: Promise<boolean> | null = null;

export function hasGradients(): boolean {
  return tf.getGradient('Sum') !== undefined && tf.getGradient('Conv2D') !== undefined;
}

/** Registers tfjs's op gradients if nothing has yet. Resolves to whether they are available. */
export function ensureGradients(): Promise<boolean> {
  if (hasGradients()) return Promise.resolve(true);
  pending ??= (async () => {
    const candidates = ['@tensorflow/tfjs-core/dist/register_all_gradients', '@tensorflow/tfjs-layers'];
    for (const c of candidates) {
      try {
        await import(/* @vite-ignore */ c);
      } catch {
        // try the next one
      }
      if (hasGradients()) return true;
    }
    return false;
  })();
  return pending;
}

/** Throws a clear {@link ConfigError} when op gradients are not registered. */
export function assertGradients(where: string): void {
  if (!hasGradients()) {
    throw new ConfigError(
      `${where}: tfjs gradients are not registered. Install @tensorflow/tfjs (or @tensorflow/tfjs-layers) and import it, or call ensureGradients() first`,
    );
  }
}
