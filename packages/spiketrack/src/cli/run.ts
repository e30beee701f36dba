import { parseArgs } from 'node:util';
import { BackendError, CheckpointError, ConfigError, ShapeError } from '@spiketrack/neurons';
import { type CliCommand, type CliIO, EXIT, UsageError } from './command';
import { COMMANDS } from './commands/index';

const BAD_INPUT_ERRORS = [UsageError, ShapeError, CheckpointError, ConfigError, BackendError];

function overview(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: spiketrack <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `spiketrack <command> --help` for the options of a command.',
    'Exit codes: 0 success, 2 bad input, 1 internal error.',
    '',
  ].join('\n');
}

/** Whether an error is the user's input (exit 2) rather than a bug (exit 1). */
export function isBadInputError(err: unknown): boolean {
  if (BAD_INPUT_ERRORS.some((E) => err instanceof E)) return true;
  // Missing files and similar, from node:fs.
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    [
      'ENOENT',
      'EISDIR',
      'ENOTDIR',
      'EACCES',
      'ERR_PARSE_ARGS_UNKNOWN_OPTION',
      'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
      'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL',
    ].includes(code)
  );
}

/**
 * Runs `spiketrack` with the given arguments (without `node` and the script) and resolves to the
 * exit code. Never throws: errors are printed to `io.stderr`.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIO = { stdout: process.stdout, stderr: process.stderr, interactive: Boolean(process.stderr.isTTY) },
  commands: readonly CliCommand[] = COMMANDS,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(overview(commands));
    return name === undefined ? EXIT.badInput : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${await packageVersion()}\n`);
    return EXIT.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`spiketrack: unknown command '${name}'.\n\n${overview(commands)}`);
    return EXIT.badInput;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${command.help.trimEnd()}\n`);
    return EXIT.ok;
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: command.options,
      allowPositionals: true,
      strict: true,
    });
    return (
      (await command.run(values as Record<string, string | boolean | undefined>, positionals, io)) ?? EXIT.ok
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (isBadInputError(err)) {
      io.stderr.write(`spiketrack ${name}: ${message}\nRun \`spiketrack ${name} --help\` for usage.\n`);
      return EXIT.badInput;
    }
    io.stderr.write(
      `spiketrack ${name}: internal error: ${err instanceof Error ? (err.stack ?? message) : message}\n`,
    );
    return EXIT.internal;
  }
}

async function packageVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(await readFile(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'spiketrack' && pkg.version) return pkg.version;
    } catch {
      // try the next location (dist/ or src/cli/)
    }
  }
  return 'unknown';
}
