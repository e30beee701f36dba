export {
  type FiringRateEntry,
  FiringRateMonitor,
  type FiringRateMonitorOptions,
  type FiringRateReport,
} from './firing-rate-monitor';
