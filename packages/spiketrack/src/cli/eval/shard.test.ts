import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../../test-support/helpers';
import { UsageError } from '../command';
import { parseShard, shardNames } from './shard';

describe.skipIf(testBackend() !== 'cpu')('--shard', () => {
  it('parses i/n', () => {
    expect(parseShard('0/1')).toEqual({ index: 0, count: 1 });
    expect(parseShard(' 3/4 ')).toEqual({ index: 3, count: 4 });
  });

  it.each(['4/4', '1/0', '-1/2', '1', 'a/b', '1/2/3', '0.5/2', ''])('rejects %j', (v) => {
    expect(() => parseShard(v)).toThrow(UsageError);
    expect(() => parseShard(v)).toThrow(/--shard must be i\/n/);
  });

  it('takes every n-th sequence of the sorted names, and the shards partition them', () => {
    const names = ['e', 'b', 'a', 'd', 'c', 'B'];
    expect(shardNames(names, { index: 0, count: 2 })).toEqual(['B', 'b', 'd']);
    expect(shardNames(names, { index: 1, count: 2 })).toEqual(['a', 'c', 'e']);
    const all = [0, 1, 2].flatMap((index) => shardNames(names, { index, count: 3 }));
    expect(all.sort()).toEqual([...names].sort());
    expect(shardNames(names, { index: 0, count: 1 })).toEqual(['B', 'a', 'b', 'c', 'd', 'e']);
  });
});
