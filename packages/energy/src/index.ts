/**
 * `@spiketrack/energy`: energy accounting for spiking networks, measured on real forward passes of
 * any `Module` tree of `@spiketrack/neurons`: dense MACs, synaptic operations (ACs) counted from the
 * actual spikes and in the paper convention, input firing rates, and picojoules per process.
 */
export {
  CONVENTIONS,
  type CountOpsOptions,
  countOps,
  type LayerOps,
  type LayerTraffic,
  OpCounter,
  type OpReport,
  type OpTotals,
  type SpikeDecision,
  type SpikeDetection,
  type SpikeOverride,
  type SpikeScale,
} from './count';
export {
  type ConventionEnergy,
  type EnergyOptions,
  type EnergyReport,
  energy,
  type LayerEnergy,
  PROCESS_MODELS,
  type ProcessModel,
  type ProcessName,
  type ProcessSpec,
  processModel,
} from './energy';
export { MEMORY_MODELS, type MemoryModel, type MemoryName, type MemorySpec, memoryModel } from './memory';
export {
  type ColumnAlign,
  ENERGY_TABLE_ALIGN,
  type EnergyTableRow,
  energyTableRows,
  formatCount,
  formatEnergy,
  formatEnergyMarkdown,
  formatEnergyTable,
  markdownTable,
  textTable,
} from './format';
export { axisFanout } from './geometry';
export { type EnergyBar, type EnergyBarChartOptions, energyBarChartSvg, escapeXml } from './svg';
