import { CheckpointError } from '@spiketrack/neurons';

/** Where checkpoint bytes come from: the bytes themselves, a file path (Node), or a URL (fetch). */
export type CheckpointSource = string | URL | Uint8Array | ArrayBuffer;

interface NodeFs {
  promises: { readFile(path: string | URL): Promise<Uint8Array> };
}

/** Node's `fs`, reached without an import statement (so browser bundles never see it), or null. */
function nodeFs(): NodeFs | null {
  const proc = (
    globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } }
  ).process;
  if (!proc?.versions?.node || typeof proc.getBuiltinModule !== 'function') return null;
  return (proc.getBuiltinModule('node:fs') as NodeFs | undefined) ?? null;
}

const URL_SCHEME = /^(https?|blob|data):/i;

/**
 * Reads checkpoint bytes from a {@link CheckpointSource}: `Uint8Array`/`ArrayBuffer` as they are;
 * in Node, a string (or `file:` URL) is a file path; an `http(s):`, `blob:` or `data:` URL (and,
 * in a browser, any string) is fetched. Errors are {@link CheckpointError}s naming the source.
 */
export async function readCheckpointBytes(
  src: CheckpointSource,
): Promise<{ bytes: Uint8Array; source: string }> {
  if (src instanceof Uint8Array) return { bytes: src, source: 'checkpoint bytes' };
  if (src instanceof ArrayBuffer) return { bytes: new Uint8Array(src), source: 'checkpoint bytes' };
  if (typeof src !== 'string' && !(src instanceof URL)) {
    throw new CheckpointError(
      `readCheckpointBytes: expected a path, a URL, a Uint8Array or an ArrayBuffer, got ${src === null ? 'null' : typeof src}`,
    );
  }
  const name = String(src);
  const fs = nodeFs();
  const isFileUrl = src instanceof URL ? src.protocol === 'file:' : /^file:/i.test(name);
  if (fs && (isFileUrl || !URL_SCHEME.test(name))) {
    try {
      const data = await fs.promises.readFile(isFileUrl ? new URL(name) : name);
      return { bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), source: name };
    } catch (e) {
      throw new CheckpointError(`cannot read checkpoint '${name}': ${(e as Error).message}`);
    }
  }
  if (typeof fetch !== 'function') {
    throw new CheckpointError(`cannot read checkpoint '${name}': no fetch() and no file system here`);
  }
  let res: Response;
  try {
    res = await fetch(name);
  } catch (e) {
    throw new CheckpointError(`cannot fetch checkpoint '${name}': ${(e as Error).message}`);
  }
  if (!res.ok)
    throw new CheckpointError(`cannot fetch checkpoint '${name}': HTTP ${res.status} ${res.statusText}`);
  return { bytes: new Uint8Array(await res.arrayBuffer()), source: name };
}
