import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (rel: string) => readFileSync(new URL(rel, import.meta.url), 'utf8');

describe('README', () => {
  it('opens with install and the runnable example, which is examples/quickstart.mjs verbatim', () => {
    const readme = read('../README.md');
    const install = readme.indexOf('npm install @spiketrack/neurons');
    const block = /```js\n([\s\S]*?)```/.exec(readme);
    expect(install).toBeGreaterThan(0);
    expect(block).not.toBeNull();
    expect(block!.index).toBeGreaterThan(install);
    expect(block![1]).toBe(read('../examples/quickstart.mjs'));
  });
});
