/**
 * What a module that emits spikes says about its output, so that monitors (firing rates) and
 * `@spiketrack/energy` can read spike counts from any neuron without knowing its type.
 *
 * Neuron modules implement it; {@link isSpikeSource} detects it.
 */
export interface SpikeSource {
  /** Multiply the module's output by this to get integer spike counts (NI-LIF: D = 4; binary: 1). */
  readonly spikeCountScale: number;
  /** The most spikes one element can emit per time step (binary neurons: 1; NI-LIF, I-LIF: D). */
  readonly maxSpikesPerStep: number;
  /**
   * Which axis of the output is time in the last call (0 for the multi-step `[T, …]` form), or
   * null when the call was a single step.
   */
  readonly outputTimeAxis: number | null;
}

export function isSpikeSource(m: unknown): m is SpikeSource {
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof (m as SpikeSource).spikeCountScale === 'number' &&
    typeof (m as SpikeSource).maxSpikesPerStep === 'number' &&
    'outputTimeAxis' in m
  );
}
