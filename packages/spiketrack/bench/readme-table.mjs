#!/usr/bin/env node
// Prints the README's "Performance" tables (Markdown) from bench/results/model.json, so the
// README can be refreshed after a new `npm run bench`: node bench/readme-table.mjs
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const file = join(here, '..', '..', '..', 'bench', 'results', 'model.json');
const data = JSON.parse(readFileSync(file, 'utf8'));

const f = (x, d = 0) => (x === null || x === undefined ? '–' : x.toFixed(d));
const s = (ms) => f(ms / 1000, 2);

console.log(
  '| backend | config | T | `trackFrame` s (PyTorch, ×) | `encodeTemplates` s (PyTorch, ×) | `forward` s | GFLOP/s (% of conv peak) | frame at conv peak s (×) | peak RSS MiB | peak `tf.memory()` MiB |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of data.results) {
  if (r.skipped) {
    console.log(`| ${r.backend} | ${r.config} | | skipped: ${r.skipped} | | | | | | |`);
    continue;
  }
  const d = r.derived;
  const atPeakMs =
    d.frameDenseMacs === null ? null : ((2 * d.frameDenseMacs) / (d.convPeakGflops * 1e9)) * 1000;
  const peakTf = Math.max(
    r.encodeTemplates.peakTensorMiB,
    r.trackFrame.peakTensorMiB,
    r.forward.peakTensorMiB,
  );
  console.log(
    `| ${r.backend} | \`${r.config}\` | ${r.templates} | ${s(d.frameMs)} (${f(d.referenceFrameMs / 1000, 2)}, ${f(d.frameRatioToReference, 1)}×) | ${s(d.encodeTemplatesMs)} (${f(d.referenceRefreshMs / 1000, 2)}, ${f(d.refreshRatioToReference, 1)}×) | ${s(d.forwardMs)} | ${f(d.frameGflops, 1)} (${f(100 * (d.fractionOfConvPeak ?? Number.NaN))} % of ${f(d.convPeakGflops, 1)}) | ${atPeakMs === null ? '–' : `${s(atPeakMs)} (${f(atPeakMs / d.referenceFrameMs, 1)}×)`} | ${f(r.memory.peakRssMiB)} | ${f(peakTf)} |`,
  );
}
if (data.timestepScaling.length > 0) {
  console.log('\n| backend | backbone | per-frame T=3 / T=1, ours | PyTorch |');
  console.log('| --- | --- | --- | --- |');
  for (const t of data.timestepScaling) {
    console.log(`| ${t.backend} | ${t.backbone} | ${f(t.ours, 2)} | ${f(t.reference, 2)} |`);
  }
}
if ((data.timestepScalingInterleaved ?? []).length > 0) {
  console.log('\nInterleaved in one process (`bench/timestep-ratio.mjs`):\n');
  console.log('| backend | backbone | T=1 s | T=3 s | T=3 / T=1, ours | PyTorch |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const t of data.timestepScalingInterleaved) {
    console.log(
      `| ${t.backend} | ${t.backbone} | ${s(t.t1Ms)} | ${s(t.t3Ms)} | ${f(t.ratio, 2)} | ${f(t.reference, 2)} |`,
    );
  }
}
const [a1, a5, a15] = data.machine.loadavgAtStart;
const [b1, b5, b15] = data.machine.loadavgAtEnd;
console.log(
  `\nMeasured ${data.date.slice(0, 16).replace('T', ' ')} UTC on ${data.machine.cpus} × ${data.machine.cpuModel}, Node ${data.machine.node}, ${f(data.totalS / 60, 1)} min; load average ${a1.toFixed(1)} / ${a5.toFixed(1)} / ${a15.toFixed(1)} at the start, ${b1.toFixed(1)} / ${b5.toFixed(1)} / ${b15.toFixed(1)} at the end.`,
);
