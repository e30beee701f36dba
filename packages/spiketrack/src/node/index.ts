/**
 * `spiketrack/node`: Node-only parts of the tracker (files, video through ffmpeg, the CLI's runner).
 */
export { runCli } from '../cli/run';
export type { CliCommand, CliIO } from '../cli/command';
