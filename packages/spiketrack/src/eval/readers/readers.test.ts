/**
 * The benchmark readers on small fake dataset folders (no images needed): layouts, quirks
 * (start frames, two-target sequences, frame ranges, 30 fps subsampling, mixed separators) and
 * the errors that name the file and line. Also the built-in tables' sizes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testBackend } from '../../../../../test-support/helpers';
import { readDataset } from '../../node/eval-files';
import { LASOT_TEST_SEQUENCES } from '../tables/lasot';
import { OTB100_SEQUENCES } from '../tables/otb';
import { UAV123_SEQUENCES } from '../tables/uav';
import { DatasetError, type Sequence } from '../types';

const tmp = mkdtempSync(join(tmpdir(), 'spiketrack-datasets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function put(root: string, files: Record<string, string>): string {
  for (const [rel, text] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return root;
}

describe.skipIf(testBackend() !== 'cpu')('dataset readers', () => {
  it('has the full sequence tables', () => {
    expect(LASOT_TEST_SEQUENCES).toHaveLength(280);
    expect(new Set(LASOT_TEST_SEQUENCES).size).toBe(280);
    expect(new Set(LASOT_TEST_SEQUENCES.map((n) => n.split('-')[0])).size).toBe(70);
    expect(OTB100_SEQUENCES).toHaveLength(100);
    expect(new Set(OTB100_SEQUENCES.map((e) => e.name)).size).toBe(100);
    expect(UAV123_SEQUENCES).toHaveLength(123);
    expect(new Set(UAV123_SEQUENCES.map((e) => e.name)).size).toBe(123);
    const bird = UAV123_SEQUENCES.filter((e) => e.video === 'bird1').map((e) => [e.name, e.start, e.end]);
    expect(bird).toEqual([
      ['bird1_1', 1, 253],
      ['bird1_2', 775, 1477],
      ['bird1_3', 1573, 2437],
    ]);
    expect(UAV123_SEQUENCES.find((e) => e.name === 'car1_s')?.video).toBe('car1_s');
    const david = OTB100_SEQUENCES.find((e) => e.name === 'David')!;
    expect([david.start, david.end]).toEqual([300, 770]);
  });

  it('reads LaSOT with its visibility rule and the test split', async () => {
    const root = put(join(tmp, 'lasot'), {
      'airplane/airplane-1/groundtruth.txt': '1,2,3,4\n5,6,7,8\n9,10,11,12\n',
      'airplane/airplane-1/full_occlusion.txt': '0,1,0',
      'airplane/airplane-1/out_of_view.txt': '0,0,1\n',
      'airplane/airplane-2/groundtruth.txt': '1,1,2,2\n',
      'airplane/airplane-2/full_occlusion.txt': '0',
      'airplane/airplane-2/out_of_view.txt': '0',
    });
    const d = await readDataset(root, 'lasot');
    expect(d.sequences.map((s) => s.name)).toEqual(['airplane-1']);
    expect(d.missing).toHaveLength(279);
    const s = d.sequences[0]!;
    expect(s.groundTruth).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
    ]);
    expect(s.targetVisible).toEqual([true, false, false]);
    expect(s.objectClass).toBe('airplane');
    expect(s.frames[2]).toBe(`${root}/airplane/airplane-1/img/00000003.jpg`);
    const all = await readDataset(root, 'lasot', { split: 'all' });
    expect(all.sequences.map((x) => x.name)).toEqual(['airplane-1', 'airplane-2']);

    put(root, { 'airplane/airplane-2/out_of_view.txt': '0,0' });
    await expect(readDataset(root, 'lasot', { split: 'all' })).rejects.toThrow(
      /airplane-2\/out_of_view\.txt: 2 labels, but the ground truth has 1 frames/,
    );
    put(root, { 'airplane/airplane-1/groundtruth.txt': '1,2,3,4\n5,6,x,8\n9,10,11,12\n' });
    await expect(readDataset(root, 'lasot')).rejects.toThrow(
      /airplane-1\/groundtruth\.txt:2: 'x' is not a number/,
    );
    put(root, { 'airplane/airplane-1/groundtruth.txt': '1,2,3,4\n5,6,7\n' });
    await expect(readDataset(root, 'lasot')).rejects.toThrow(/groundtruth\.txt:2: expected 4 values/);
  });

  it('reads GOT-10k val (labels) and test (first box only)', async () => {
    const val = put(join(tmp, 'got10k/val'), {
      'list.txt': 'GOT-10k_Val_000001\n',
      'GOT-10k_Val_000001/groundtruth.txt': '1,2,3,4\n2,3,4,5\n3,4,5,6\n',
      'GOT-10k_Val_000001/absence.label': '0\n1\n0\n',
      'GOT-10k_Val_000001/cover.label': '8\n0\n5\n',
      'GOT-10k_Val_000001/meta_info.ini': '[METAINFO]\nobject_class: ice cream\nresolution: (1280, 720)\n',
      'GOT-10k_Val_000001/00000001.jpg': '',
      'GOT-10k_Val_000001/00000002.jpg': '',
      'GOT-10k_Val_000001/00000003.jpg': '',
    });
    const v = (await readDataset(val, 'got10k')).sequences[0]!;
    expect(v.hasGroundTruth).toBe(true);
    expect(v.absent).toEqual([false, true, false]);
    expect(v.cover).toEqual([8, 0, 5]);
    expect(v.imageSize).toEqual([1280, 720]);
    expect(v.objectClass).toBe('ice cream');
    expect(v.targetVisible).toBeUndefined(); // pytracking's GOT-10k metrics use no visibility
    expect(v.frames.map((f) => f.slice(-12))).toEqual(['00000001.jpg', '00000002.jpg', '00000003.jpg']);
    const test = put(join(tmp, 'got10k/test'), {
      'GOT-10k_Test_000001/groundtruth.txt': '10,20,30,40\n',
      'GOT-10k_Test_000001/00000001.jpg': '',
      'GOT-10k_Test_000001/00000002.jpg': '',
    });
    const t = (await readDataset(test, 'got10k')).sequences[0]!;
    expect(t.name).toBe('GOT-10k_Test_000001');
    expect(t.hasGroundTruth).toBe(false);
    expect(t.frames).toHaveLength(2);
  });

  it('reads OTB with mixed separators, late starts, initOmit and two-target sequences', async () => {
    const root = put(join(tmp, 'otb'), {
      'Basketball/groundtruth_rect.txt': '1,2,3,4\n5\t6\t7\t8\r\n9 10 11 12\n13, 14\t15  16\n',
      'David/groundtruth_rect.txt': '1,1,5,5\n2,2,5,5\n',
      'Jogging/groundtruth_rect.1.txt': '1,1,1,1\n',
      'Jogging/groundtruth_rect.2.txt': '2,2,2,2\n',
      'Tiger1/groundtruth_rect.txt': '0,0,1,1\n0,0,1,1\n0,0,1,1\n0,0,1,1\n0,0,1,1\n6,6,9,9\n7,7,9,9\n',
    });
    const d = await readDataset(root, 'otb');
    expect(d.sequences.map((s) => s.name)).toEqual([
      'Basketball',
      'David',
      'Jogging_1',
      'Jogging_2',
      'Tiger1',
    ]);
    expect(d.missing).toHaveLength(95);
    const [bb, david, j1, j2, tiger] = d.sequences as [Sequence, Sequence, Sequence, Sequence, Sequence];
    expect(bb.groundTruth[3]).toEqual([13, 14, 15, 16]);
    expect(bb.frames[0]).toBe(`${root}/Basketball/img/0001.jpg`);
    expect(david.frames[0]).toBe(`${root}/David/img/0300.jpg`);
    expect(david.frames).toHaveLength(471);
    expect(j1.frames[0]).toBe(`${root}/Jogging/img/0001.jpg`);
    expect(j1.groundTruth).toEqual([[1, 1, 1, 1]]);
    expect(j2.groundTruth).toEqual([[2, 2, 2, 2]]);
    expect(j2.aliases).toEqual(['Jogging-2']);
    expect(tiger.frames[0]).toBe(`${root}/Tiger1/img/0006.jpg`);
    expect(tiger.groundTruth).toEqual([
      [6, 6, 9, 9],
      [7, 7, 9, 9],
    ]);
  });

  it('reads UAV123 sub-sequences as frame ranges, with NaN rows', async () => {
    const root = put(join(tmp, 'uav'), {
      'anno/UAV123/bird1_2.txt': '1,2,3,4\nNaN,NaN,NaN,NaN\n3,4,5,6\n',
      'anno/UAV123/bike1.txt': '1,1,1,1\n',
      'anno/UAV123/custom.txt': '1,1,1,1\n2,2,2,2\n',
    });
    const d = await readDataset(root, 'uav');
    expect(d.sequences.map((s) => s.name)).toEqual(['uav_bike1', 'uav_bird1_2', 'uav_custom']);
    expect(d.missing).toHaveLength(121);
    const bird = d.sequences[1]!;
    expect(bird.frames[0]).toBe(`${root}/data_seq/UAV123/bird1/000775.jpg`);
    expect(bird.frames).toHaveLength(1477 - 775 + 1);
    expect(bird.groundTruth[1]!.every(Number.isNaN)).toBe(true);
    expect(bird.aliases).toEqual(['bird1_2']);
    expect(d.sequences[2]!.frames).toEqual([
      `${root}/data_seq/UAV123/custom/000001.jpg`,
      `${root}/data_seq/UAV123/custom/000002.jpg`,
    ]);
  });

  it('reads NFS in pytracking’s layout and the official 30/ layout (240 → 30 fps)', async () => {
    const py = put(join(tmp, 'nfs-py'), { 'anno/nfs_Gymnastics.txt': '1\t2\t3\t4\n5\t6\t7\t8\n' });
    const a = (await readDataset(py, 'nfs')).sequences[0]!;
    expect(a.name).toBe('nfs_Gymnastics');
    expect(a.groundTruth[1]).toEqual([5, 6, 7, 8]);
    expect(a.frames[1]).toBe(`${py}/sequences/Gymnastics/00002.jpg`);
    const rows = Array.from(
      { length: 16 },
      (_, i) => `1 ${10 + i} 20 ${30 + i} 60 ${i + 1} 0 0 0 "ball"`,
    ).join('\n');
    const off = put(join(tmp, 'nfs-official'), {
      'bee/30/bee.txt': rows,
      'bee/30/bee/00001.jpg': '',
      'bee/30/bee/00002.jpg': '',
    });
    const b = (await readDataset(off, 'nfs')).sequences[0]!;
    expect(b.name).toBe('nfs_bee');
    // Rows 0 and 8 of 16 (every 8th), xmin ymin xmax ymax → xywh.
    expect(b.groundTruth).toEqual([
      [10, 20, 20, 40],
      [18, 20, 20, 40],
    ]);
    put(off, { 'bee/30/bee.txt': '1 2 3\n' });
    await expect(readDataset(off, 'nfs')).rejects.toThrow(/bee\.txt:1: expected 'track_id xmin/);
  });

  it('reads TrackingNet sets and TNL2K', async () => {
    const root = put(join(tmp, 'trackingnet'), {
      'TEST/anno/seqA.txt': '1,2,3,4\n',
      'TEST/frames/seqA/0.jpg': '',
      'TEST/frames/seqA/1.jpg': '',
      'TEST/frames/seqA/10.jpg': '',
      'TEST/frames/seqA/2.jpg': '',
      'TRAIN_0/anno/seqB.txt': '1,2,3,4\n2,3,4,5\n',
    });
    const t = (await readDataset(root, 'trackingnet')).sequences[0]!;
    expect(t.hasGroundTruth).toBe(false);
    expect(t.frames.map((f) => f.split('/').pop())).toEqual(['0.jpg', '1.jpg', '2.jpg', '10.jpg']);
    const train = await readDataset(root, 'trackingnet', { sets: ['TRAIN_0'] });
    expect(train.sequences[0]!.hasGroundTruth).toBe(true);
    expect(train.sequences[0]!.frames[1]).toBe(`${root}/TRAIN_0/frames/seqB/1.jpg`);
    await expect(readDataset(root, 'trackingnet', { sets: ['TRAIN_7'] })).rejects.toThrow(
      /no TrackingNet set 'TRAIN_7'/,
    );

    const tnl = put(join(tmp, 'tnl2k'), {
      'advSamp_Baseball_game_002-Done/groundtruth.txt': '1,2,3,4\n',
      'advSamp_Baseball_game_002-Done/language.txt': 'the batter in white\n',
      'advSamp_Baseball_game_002-Done/imgs/00001.png': '',
    });
    const s = (await readDataset(tnl, 'tnl2k')).sequences[0]!;
    expect(s.language).toBe('the batter in white');
    expect(s.frames).toEqual([`${tnl}/advSamp_Baseball_game_002-Done/imgs/00001.png`]);
  });

  it('names the problem for missing folders and unknown formats', async () => {
    await expect(readDataset(join(tmp, 'nope'), 'otb')).rejects.toThrow(/nope: dataset folder not found/);
    await expect(readDataset(tmp, 'vot' as never)).rejects.toThrow(/unknown dataset format 'vot'/);
    const empty = put(join(tmp, 'empty'), { 'readme.txt': '' });
    await expect(readDataset(empty, 'otb')).rejects.toThrow(DatasetError);
    await expect(readDataset(empty, 'uav')).rejects.toThrow(/expected the folder anno\/UAV123/);
  });
});
