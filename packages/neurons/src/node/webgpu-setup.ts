import { existsSync } from 'node:fs';
import { BackendError } from '../core/errors';

/** Vulkan ICDs known to satisfy Dawn, in the order they are tried when none is configured. */
const KNOWN_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/x86_64-linux-gnu/chromium/vk_swiftshader_icd.json',
];

let installed: Promise<boolean> | null = null;

/**
 * Defines `navigator.gpu` in Node with Dawn (the optional `webgpu` package), so that
 * `@tensorflow/tfjs-backend-webgpu` registers when it is imported afterwards.
 *
 * When `VK_ICD_FILENAMES` is unset and Debian's SwiftShader ICD (package `chromium`) exists, it is
 * used: Debian's default lavapipe is rejected by Dawn. Resolves to false when there is nothing to
 * install (no `webgpu` package); throws a {@link BackendError} if Dawn fails to load.
 */
export function installNodeWebGPU(): Promise<boolean> {
  installed ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (g.navigator?.gpu) return true;
    if (!process.env.VK_ICD_FILENAMES) {
      const icd = KNOWN_ICDS.find((p) => existsSync(p));
      if (icd) process.env.VK_ICD_FILENAMES = icd;
    }
    let mod: { create: (flags: string[]) => unknown; globals: Record<string, unknown> };
    try {
      mod = (await import(/* @vite-ignore */ 'webgpu')) as typeof mod;
    } catch (e) {
      const msg = (e as Error).message;
      if (
        /Cannot find (package|module) 'webgpu'/.test(msg) ||
        (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND'
      ) {
        return false;
      }
      throw new BackendError(`cannot load Dawn from the 'webgpu' package: ${msg}`);
    }
    Object.assign(globalThis, mod.globals);
    const gpu = mod.create([]);
    if (g.navigator) {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    } else {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    }
    return true;
  })();
  return installed;
}

/** Asks Dawn for an adapter; resolves to a description, or null when there is none. */
export async function probeWebGPUAdapter(): Promise<string | null> {
  if (!(await installNodeWebGPU())) return null;
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  const adapter = (await gpu?.requestAdapter()) as { info?: Record<string, string> } | null | undefined;
  if (!adapter) return null;
  const info = adapter.info ?? {};
  return (
    [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') ||
    'unknown adapter'
  );
}
