import type { ParseArgsConfig } from 'node:util';

/** Where a command writes: stdout for results, stderr for progress and messages. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Whether stderr is a terminal (progress bars redraw in place only then). */
  readonly interactive: boolean;
}

/** Parsed option values, as `node:util` `parseArgs` returns them. */
export type CliValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** One `spiketrack <name>` sub-command. */
export interface CliCommand {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The usage and option lines printed by `--help`. */
  readonly help: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** Runs the command; resolves to its exit code (0 when omitted). */
  run(values: CliValues, positionals: string[], io: CliIO): Promise<number | undefined>;
}

/**
 * Bad input from the command line or the files it names: printed without a stack trace, exit code 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit codes of every `spiketrack` command. */
export const EXIT = Object.freeze({ ok: 0, internal: 1, badInput: 2 });
