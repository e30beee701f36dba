// Barrel of src/energy: the tracker's per-frame energy accounting and its reports.
export {
  formatTrackerEnergy,
  formatTrackerEnergyMarkdown,
  trackerEnergySvg,
} from './report-format';
export { TRACKER_STAGES, type TrackerStage, trackerStageOf } from './stages';
export {
  type TrackerBranchEnergy,
  type TrackerEnergies,
  type TrackerEnergyInputs,
  type TrackerEnergyOptions,
  type TrackerEnergyReport,
  TrackerOpCounter,
  type TrackerLayerEnergy,
  type TrackerStageEnergy,
  trackerEnergy,
} from './tracker-energy';
