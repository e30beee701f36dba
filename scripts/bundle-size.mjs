#!/usr/bin/env node
// Reports each package's bundle size (minified + gzip, tfjs and sibling packages excluded) for
// every entry point in its `exports`, from the built `dist/`. With `--write`, updates the table
// between the `<!-- bundle-size:start -->` / `<!-- bundle-size:end -->` markers of each README.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const write = process.argv.includes('--write');
const pkgsDir = join(root, 'packages');
const external = ['@tensorflow/*', '@spiketrack/*', 'webgpu', 'node:*', 'fs', 'path', 'url'];

const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
const rows = [];
for (const dir of readdirSync(pkgsDir).sort()) {
  const pkgDir = join(pkgsDir, dir);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  // code entry points only: not package.json nor plain files (e.g. `./weights/*`, a string)
  const entries = Object.entries(pkg.exports ?? {}).filter(
    ([k, spec]) => k !== './package.json' && typeof spec === 'object' && spec?.import?.default,
  );
  const pkgRows = [];
  for (const [sub, spec] of entries) {
    const file = spec.import.default;
    const result = await build({
      entryPoints: [join(pkgDir, file)],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: sub === './node' ? 'node' : 'browser',
      external,
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0].contents;
    const gz = gzipSync(code, { level: 9 }).length;
    const name = sub === '.' ? pkg.name : `${pkg.name}${sub.slice(1)}`;
    pkgRows.push({ name, min: code.length, gz });
  }
  rows.push(...pkgRows);
  if (write) {
    const readme = join(pkgDir, 'README.md');
    let text;
    try {
      text = readFileSync(readme, 'utf8');
    } catch {
      continue;
    }
    const table = [
      '| entry | minified | min + gzip |',
      '| --- | --- | --- |',
      ...pkgRows.map((r) => `| \`${r.name}\` | ${kb(r.min)} | ${kb(r.gz)} |`),
    ].join('\n');
    const re = /<!-- bundle-size:start -->[\s\S]*?<!-- bundle-size:end -->/;
    if (re.test(text)) {
      writeFileSync(
        readme,
        text.replace(
          re,
          `<!-- bundle-size:start -->\n${table}\n\n(tfjs excluded; measured by \`npm run size\`)\n<!-- bundle-size:end -->`,
        ),
      );
    }
  }
}
console.log('Bundle sizes (minified + gzip, tfjs and sibling packages excluded):');
console.table(Object.fromEntries(rows.map((r) => [r.name, { minified: kb(r.min), 'min+gzip': kb(r.gz) }])));
