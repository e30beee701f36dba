// Rewrites a safetensors file with its float tensors in half precision, so that training
// checkpoints and the bundled weights are small enough to commit:
//   node compact.mjs IN.safetensors OUT.safetensors [--moments bf16]
// Weights become F16 (11 significant bits). With --moments bf16, AdamW's moments
// (`optimizer.*.exp_avg`, `optimizer.*.exp_avg_sq`) become BF16 instead, whose range holds the
// tiny squared gradients that F16 would flush to zero. The optimizer's step counts stay F32;
// integer tensors and metadata are kept.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { decodeSafetensor, encodeSafetensors, parseSafetensors } from '@spiketrack/neurons';

const [inPath, outPath, ...rest] = process.argv.slice(2);
if (!inPath || !outPath) {
  console.error('usage: node compact.mjs IN.safetensors OUT.safetensors [--moments bf16]');
  process.exit(2);
}
const momentsBf16 = rest.join(' ') === '--moments bf16';
const parsed = parseSafetensors(new Uint8Array(await readFile(inPath)), { source: inPath });
const out = new Map();
for (const [name, entry] of parsed.tensors) {
  if (entry.dtype === 'F32' || entry.dtype === 'F64') {
    const { values } = decodeSafetensor(entry, { source: inPath, name });
    const moment = /^optimizer\..*\.exp_avg(_sq)?$/.test(name);
    // other optimizer entries (the step counts) stay F32: F16 holds integers exactly only to 2048
    let dtype = moment ? (momentsBf16 ? 'BF16' : 'F16') : name.startsWith('optimizer.') ? 'F32' : 'F16';
    // a tensor beyond F16's range (±65504; e.g. a BatchNorm's running variance) stays F32
    if (dtype === 'F16' && values.some((v) => Math.abs(v) > 65000)) {
      console.log(`${name}: beyond the F16 range, kept as F32`);
      dtype = 'F32';
    }
    out.set(name, { dtype, shape: entry.shape, values });
  } else {
    const { values } = decodeSafetensor(entry, { source: inPath, name });
    out.set(name, { dtype: entry.dtype, shape: entry.shape, values });
  }
}
const bytes = encodeSafetensors(out, { metadata: parsed.metadata });
await writeFile(`${outPath}.tmp`, bytes);
await rename(`${outPath}.tmp`, outPath);
console.log(`${outPath}: ${(bytes.byteLength / 1e6).toFixed(2)} MB (${out.size} tensors)`);
