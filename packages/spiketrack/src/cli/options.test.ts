import { describe, expect, it } from 'vitest';
import { UsageError } from './command';
import { intOption, numberOption, optionalString, positiveNumberOption, requireString } from './options';

describe('CLI option parsing', () => {
  it('reads strings, naming the missing option', () => {
    expect(requireString({ input: 'a.txt' }, 'input')).toBe('a.txt');
    expect(() => requireString({}, 'input', ' (a frames folder)')).toThrow(
      new UsageError('--input is required (a frames folder)'),
    );
    expect(optionalString({}, 'out')).toBeNull();
    expect(() => optionalString({ out: '' }, 'out')).toThrow(/--out needs a value/);
  });

  it('reads integers in a range, strictly', () => {
    expect(intOption({}, 'steps', 1000)).toBe(1000);
    expect(intOption({ steps: ' 12 ' }, 'steps', 1000)).toBe(12);
    expect(intOption({ seed: '0' }, 'seed', 1, { min: 0 })).toBe(0);
    expect(() => intOption({ steps: '0' }, 'steps', 1)).toThrow(/--steps must be an integer ≥ 1, got '0'/);
    expect(() => intOption({ steps: '1e3' }, 'steps', 1)).toThrow(UsageError);
    expect(() => intOption({ steps: '2.5' }, 'steps', 1)).toThrow(UsageError);
    expect(() => intOption({ frames: '1' }, 'frames', 2, { min: 2, max: 10 })).toThrow(
      /--frames must be an integer in 2\.\.10, got '1'/,
    );
    expect(() => intOption({ seed: String(2 ** 60) }, 'seed', 1, { min: 0 })).toThrow(UsageError);
  });

  it('reads numbers', () => {
    expect(numberOption({ interval: '2.5' }, 'interval', 25, { min: 1 })).toBe(2.5);
    expect(() => numberOption({ interval: '0' }, 'interval', 25, { min: 1 })).toThrow(
      /--interval must be a number ≥ 1, got '0'/,
    );
    expect(() => numberOption({ interval: 'x' }, 'interval', 25)).toThrow(UsageError);
    expect(positiveNumberOption({ lr: '5e-4' }, 'lr', 1)).toBe(5e-4);
    expect(() => positiveNumberOption({ lr: '0' }, 'lr', 1)).toThrow(
      /--lr must be a positive number, got '0'/,
    );
    expect(() => positiveNumberOption({ lr: 'Infinity' }, 'lr', 1)).toThrow(UsageError);
  });
});
