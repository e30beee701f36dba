import type { CliCommand } from '../command';
import { energyCommand } from './energy';
import { forwardCommand } from './forward';
import { trackCommand } from './track';

/** Every `spiketrack` sub-command, in the order `--help` lists them. */
export const COMMANDS: readonly CliCommand[] = [forwardCommand, energyCommand, trackCommand];
