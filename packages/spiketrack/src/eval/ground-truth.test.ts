/** The annotation parsers: separators, NaN rows, number forms, and errors naming file and line. */
import { describe, expect, it } from 'vitest';
import { testBackend } from '../../../../test-support/helpers';
import { formatBoxes, parseBoxes, parseLabels, parseRows } from './ground-truth';

describe.skipIf(testBackend() !== 'cpu')('ground-truth parsers', () => {
  it('parses boxes with any mix of commas, tabs and spaces, CRLF and blank lines', () => {
    expect(parseBoxes('1,2,3,4\r\n\n5\t6 7,\t8\n  9 , 10 ,11,12  \n\n', 'gt.txt')).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
    ]);
    expect(parseBoxes('-1.5,.25,1e2,3.0E-1\n', 'gt.txt')).toEqual([[-1.5, 0.25, 100, 0.3]]);
    const nan = parseBoxes('NaN,nan,NAN,NaN\n', 'gt.txt')[0]!;
    expect(nan.every(Number.isNaN)).toBe(true);
    expect(parseBoxes('', 'empty.txt')).toEqual([]);
  });

  it('names the file and line of a malformed row', () => {
    expect(() => parseBoxes('1,2,3,4\n1,2,3\n', 'a/groundtruth.txt')).toThrow(
      "a/groundtruth.txt:2: expected 4 values (x, y, w, h), found 3: '1,2,3'",
    );
    expect(() => parseBoxes('1,2,3,4\n\n1,2,3,Infinity\n', 'b.txt')).toThrow(
      "b.txt:3: 'Infinity' is not a number",
    );
    expect(() => parseBoxes('0x10,2,3,4\n', 'c.txt')).toThrow("c.txt:1: '0x10' is not a number");
    expect(() => parseRows('1 2\n', 't.txt', 1, 'seconds')).toThrow(
      /t\.txt:1: expected 1 values \(seconds\)/,
    );
  });

  it('parses label files on one line or one per line', () => {
    expect(parseLabels('0,0,1,1,0', 'occ.txt')).toEqual([0, 0, 1, 1, 0]);
    expect(parseLabels('0\n1\n8\n', 'cover.label')).toEqual([0, 1, 8]);
    expect(() => parseLabels('0\n0.5\n', 'absence.label')).toThrow(
      "absence.label:2: '0.5' is not an integer label",
    );
  });

  it('formats boxes as results files', () => {
    expect(formatBoxes([[1, 2.5, 3.123456, 4]])).toBe('1,2.5,3.1235,4\n');
    expect(formatBoxes([])).toBe('');
  });
});
