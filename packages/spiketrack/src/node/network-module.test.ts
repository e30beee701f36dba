import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@spiketrack/neurons';
import { afterAll, describe, expect, it } from 'vitest';
import { importNetworkModule } from './network-module';

const dir = mkdtempSync(join(tmpdir(), 'spiketrack-network-module-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function moduleFile(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

// The package's own model, imported by path as a user's module would import 'spiketrack'.
const modelUrl = new URL('../model/model.ts', import.meta.url).href;
const tiny = '{ dims: [8, 8, 16, 16], numHeads: 2, resolution: 32, templates: 1, decoderChannel: 16 }';

describe('importNetworkModule', () => {
  it('calls createModel with the options and returns the network and the exports', async () => {
    const file = moduleFile(
      'named.mjs',
      `import { SpikeTrackModel } from ${JSON.stringify(modelUrl)};
export let seen;
export function createModel(options) { seen = options; return new SpikeTrackModel({ config: ${tiny}, seed: options.seed }); }
export const trainingLoss = () => 0;
`,
    );
    const { exports, model } = await importNetworkModule(file, { seed: 4 }, 'test');
    try {
      expect(exports.seen).toEqual({ seed: 4 });
      expect(typeof exports.trainingLoss).toBe('function');
      expect(model.config.resolution).toBe(32);
    } finally {
      model.dispose();
    }
  });

  it('takes the default export when there is no createModel', async () => {
    const file = moduleFile(
      'default.mjs',
      `import { SpikeTrackModel } from ${JSON.stringify(modelUrl)};
export default () => new SpikeTrackModel({ config: ${tiny} });
`,
    );
    const { model } = await importNetworkModule(file, {}, 'test');
    model.dispose();
  });

  it('names the option and the file in each error', async () => {
    const missing = join(dir, 'missing.mjs');
    await expect(importNetworkModule(missing, {}, '--tracker')).rejects.toThrow(ConfigError);
    await expect(importNetworkModule(missing, {}, '--tracker')).rejects.toThrow(
      /^--tracker: cannot import the network module .*missing\.mjs/,
    );
    const broken = moduleFile('broken.mjs', 'export function createModel( {\n');
    await expect(importNetworkModule(broken, {}, 'train worker')).rejects.toThrow(
      /^train worker: cannot import the network module .*broken\.mjs/,
    );
    const empty = moduleFile('empty.mjs', 'export const name = 1;\n');
    await expect(importNetworkModule(empty, {}, 'x')).rejects.toThrow(
      /^x: .*empty\.mjs exports no createModel function/,
    );
    const notNet = moduleFile('not-net.mjs', 'export function createModel() { return { config: {} }; }\n');
    await expect(importNetworkModule(notNet, {}, 'x')).rejects.toThrow(
      /^x: .*not-net\.mjs createModel\(\): not a tracking network/,
    );
  });
});
