/** The README's Evaluation example, on a small fake OTB folder with a results folder. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { readDataset, readResults } from '../node/eval-files';
import { evaluate, precisionPlot, successPlot } from './index';

const tmp = mkdtempSync(join(tmpdir(), 'spiketrack-readme-eval-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const files: Record<string, string> = {
  'OTB100/Basketball/groundtruth_rect.txt': '0,0,10,10\n0,0,10,10\n',
  'OTB100/Jogging/groundtruth_rect.1.txt': '5\t5\t20\t40\n6\t5\t20\t40\n',
  'results/spiketrack/Basketball.txt': '0,0,10,10\n0,0,10,10\n',
  'results/spiketrack/Jogging-1.txt': '5,5,20,40\n6,5,20,40\n',
};
for (const [rel, text] of Object.entries(files)) {
  mkdirSync(dirname(join(tmp, rel)), { recursive: true });
  writeFileSync(join(tmp, rel), text);
}

it.skipIf(testBackend() !== 'cpu')(
  'README example: readDataset, readResults, evaluate, successPlot',
  async () => {
    const dataset = await readDataset(join(tmp, 'OTB100'), 'otb');
    expect(dataset.sequences.map((s) => s.name)).toEqual(['Basketball', 'Jogging_1']);
    const results = await readResults(join(tmp, 'results/spiketrack'), dataset.sequences);
    const ev = evaluate(results.boxes, dataset.sequences);
    // Perfect boxes: every success rate is 1 except at threshold 1 (IoU 1 is not > 1).
    expect(ev.overall.success_auc).toBeCloseTo(20 / 21, 12);
    expect(ev.overall).toMatchObject({ precision: 1, norm_precision: 1, ao: 1, sr50: 1, sr75: 1 });
    expect(ev.sequences.Basketball).toMatchObject({ frames: 2, valid_frames: 2 });
    const svg = successPlot([{ name: 'SpikeTrack', evaluation: ev }]);
    expect(svg).toContain('<title>SpikeTrack [95.2]</title>');
    expect(precisionPlot([{ name: 'SpikeTrack', evaluation: ev }])).toContain('SpikeTrack [100.0]');
  },
);
