import type { CliCommand } from '../command';
import { averageCommand } from './average';
import { demoCommand } from './demo';
import { energyCommand } from './energy';
import { evalCommand } from './eval';
import { forwardCommand } from './forward';
import { metricsCommand } from './metrics';
import { trackCommand } from './track';
import { trainCommand } from './train';

/** Every `spiketrack` sub-command, in the order `--help` lists them. */
export const COMMANDS: readonly CliCommand[] = [
  forwardCommand,
  metricsCommand,
  energyCommand,
  trackCommand,
  evalCommand,
  trainCommand,
  averageCommand,
  demoCommand,
];
