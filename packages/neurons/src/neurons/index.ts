/**
 * Spiking neurons: pure multi-step (`[T, …]`) and single-step functions, and `Module` wrappers.
 */
export { type MembraneState, RESET_MODES, type ResetMode, type StepResult, stopGradient } from './common';
export { collapseSpikes, expandSpikes } from './expand';
export {
  type AlifOptions,
  type AlifState,
  alif,
  alifStep,
  type FireOptions,
  type IfOptions,
  type ILifOptions,
  ifNeuron,
  ifStep,
  iLif,
  iLifStep,
  type LifOptions,
  lif,
  lifStep,
  type MultiStepOptions,
  type PlifOptions,
  plif,
  plifInitW,
  plifStep,
} from './functional';
export {
  ALIF,
  type ALIFModuleOptions,
  IF,
  type IFModuleOptions,
  ILIF,
  type ILIFModuleOptions,
  LIF,
  type LIFModuleOptions,
  type LearnableThresholdOptions,
  NeuronModule,
  type NeuronModuleOptions,
  NILIF,
  type NILIFOptions,
  PLIF,
  type PLIFModuleOptions,
} from './modules';
export { NI_LIF_DECAY_INIT, type NiLifOptions, type NiLifState, niLif, niLifStep } from './ni-lif';
