import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';

const read = (rel: string) => readFileSync(new URL(rel, import.meta.url), 'utf8');

describe('README', () => {
  it('opens with install and the runnable example, which is examples/quickstart.mjs verbatim', () => {
    const readme = read('../README.md');
    const install = readme.indexOf('npm install @spiketrack/energy');
    const block = /```js\n([\s\S]*?)```/.exec(readme);
    expect(install).toBeGreaterThan(0);
    expect(block).not.toBeNull();
    expect(block!.index).toBeGreaterThan(install);
    expect(block![1]).toBe(read('../examples/quickstart.mjs'));
    for (const marker of ['<!-- bundle-size:start -->', '<!-- bundle-size:end -->'])
      expect(readme).toContain(marker);
  });

  it('the example runs, prints the table, and leaks nothing', async () => {
    const backend = tf.getBackend();
    const before = tf.memory().numTensors;
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      lines.push(a.join(' '));
    });
    try {
      await import(/* @vite-ignore */ new URL('../examples/quickstart.mjs', import.meta.url).href);
    } finally {
      log.mockRestore();
    }
    expect(tf.getBackend()).toBe(backend);
    const text = lines.join('\n');
    expect(text).toMatch(/^layer\s+kind\s+input\s+dense MACs/);
    expect(text).toMatch(/\nstem\s+conv2d\s+real\s+221 k\s+221 k\s+0\s+0\s+-/);
    expect(text).toMatch(/\nconv\s+conv2d\s+spikes\s+295 k\s+0\s/);
    expect(text).toMatch(/\nhead\s+linear\s+spikes\s+41\.0 k\s+0\s/);
    expect(text).toMatch(/SNN\/ANN energy: 0\.\d+ \(exact\), 0\.\d+ \(paper\)/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
