import { runCli } from './run';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`spiketrack: internal error: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
