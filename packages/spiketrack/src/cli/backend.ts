import { BACKEND_NAMES, type BackendName } from '@spiketrack/neurons';
import { selectBackend } from '@spiketrack/neurons/node';
import { type CliIO, UsageError } from './command';

/** The `--backend` option shared by the commands that run a network. */
export const BACKEND_OPTION = { backend: { type: 'string', default: 'auto' } } as const;

/** Help line for {@link BACKEND_OPTION}. */
export const BACKEND_HELP =
  '  --backend NAME        auto | webgpu | wasm | cpu | tensorflow (default auto: WebGPU on a hardware adapter,\n                         then tfjs-node, then wasm, then cpu)';

/** Selects the backend named on the command line and reports the choice (and why) on stderr. */
export async function selectCliBackend(value: unknown, io: CliIO): Promise<BackendName> {
  const name = String(value ?? 'auto');
  if (name !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`--backend must be one of auto, ${BACKEND_NAMES.join(', ')}; got '${name}'`);
  }
  // auto picks the fastest: it passes over a software WebGPU adapter (--backend webgpu still uses it)
  const chosen = await selectBackend(name as BackendName | 'auto');
  const skipped = chosen.skipped.map((s) => `${s.backend}: ${s.reason}`);
  io.stderr.write(
    `backend: ${chosen.backend}${chosen.adapter ? ` (${chosen.adapter})` : ''}${
      skipped.length ? ` — skipped ${skipped.join('; ')}` : ''
    }\n`,
  );
  return chosen.backend;
}
