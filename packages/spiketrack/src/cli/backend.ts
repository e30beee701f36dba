import { BACKEND_NAMES, type BackendName } from '@spiketrack/neurons';
import { selectBackend } from '@spiketrack/neurons/node';
import { type CliIO, UsageError } from './command';

/** The `--backend` option shared by the commands that run a network. */
export const BACKEND_OPTION = { backend: { type: 'string', default: 'auto' } } as const;

/** Help line for {@link BACKEND_OPTION}. */
export const BACKEND_HELP =
  '  --backend NAME        auto | webgpu | wasm | cpu | tensorflow (default auto: WebGPU on a hardware adapter,\n                         then tfjs-node, then wasm, then cpu)';

/**
 * Whether a WebGPU adapter description names a CPU rasterizer (SwiftShader, llvmpipe/lavapipe):
 * there, WebGPU is far slower than wasm on the same CPU.
 */
export function isSoftwareAdapter(description: string | undefined): boolean {
  return /swiftshader|llvmpipe|lavapipe|software|fallback/i.test(description ?? '');
}

/** Selects the backend named on the command line and reports the choice (and why) on stderr. */
export async function selectCliBackend(value: unknown, io: CliIO): Promise<BackendName> {
  const name = String(value ?? 'auto');
  if (name !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`--backend must be one of auto, ${BACKEND_NAMES.join(', ')}; got '${name}'`);
  }
  let chosen = await selectBackend(name as BackendName | 'auto');
  const skipped = chosen.skipped.map((s) => `${s.backend}: ${s.reason}`);
  if (name === 'auto' && chosen.backend === 'webgpu' && isSoftwareAdapter(chosen.adapter)) {
    // auto picks the fastest: a software WebGPU adapter loses to wasm (--backend webgpu still uses it)
    skipped.unshift(
      `webgpu: ${chosen.adapter} is a software adapter, slower than wasm here (pass --backend webgpu to use it)`,
    );
    try {
      chosen = await selectBackend('wasm');
    } catch (e) {
      skipped.push(`wasm: ${(e as Error).message}`);
      chosen = await selectBackend('cpu');
    }
  }
  io.stderr.write(
    `backend: ${chosen.backend}${chosen.adapter ? ` (${chosen.adapter})` : ''}${
      skipped.length ? ` — skipped ${skipped.join('; ')}` : ''
    }\n`,
  );
  return chosen.backend;
}
