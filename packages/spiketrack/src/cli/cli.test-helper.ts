/** Test-only: runs `spiketrack` in-process and captures what it prints. */
import { Writable } from 'node:stream';
import type { CliIO } from './command';
import { runCli } from './run';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function sink(chunks: string[]): Writable {
  return new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
}

/** Runs `spiketrack ...argv` and returns its exit code and output. */
export async function cli(...argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { stdout: sink(out), stderr: sink(err), interactive: false };
  const code = await runCli(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** An IO whose stderr is captured (`err()`) and whose stdout is dropped. */
export function captureIO(): { io: CliIO; err: () => string } {
  const err: string[] = [];
  const io: CliIO = { stdout: sink([]), stderr: sink(err), interactive: false };
  return { io, err: () => err.join('') };
}
