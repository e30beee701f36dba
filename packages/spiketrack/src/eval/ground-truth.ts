/**
 * Parsers of the annotation text files of tracking benchmarks: boxes (`x,y,w,h` per line) and
 * per-frame labels. Benchmarks mix separators (OTB has comma-, tab- and space-separated files,
 * NFS tab, the others comma), so any run of commas and white space separates values.
 */
import { type Box, DatasetError } from './types';

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses one value: a decimal number or `NaN`/`nan` (a missing box). Returns undefined otherwise. */
function parseValue(token: string): number | undefined {
  if (NUMBER.test(token)) return Number(token);
  if (/^nan$/i.test(token)) return Number.NaN;
  return undefined;
}

/** The non-blank lines of a text with their 1-based line numbers (blank lines are skipped, as numpy's loadtxt). */
function lines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  text.split(/\r?\n|\r/).forEach((l, i) => {
    const t = l.trim();
    if (t.length > 0) out.push({ line: i + 1, text: t });
  });
  return out;
}

/** Splits a line on any mix of commas, tabs and spaces. */
export function splitValues(line: string): string[] {
  return line.split(/[\s,]+/).filter((t) => t.length > 0);
}

/**
 * Parses a numeric table: `columns` values a line, separated by commas, tabs or spaces (mixed
 * too); `NaN` is kept. Throws a {@link DatasetError} naming `source` and the line otherwise.
 */
export function parseRows(text: string, source: string, columns: number, what: string): number[][] {
  const rows: number[][] = [];
  for (const { line, text: l } of lines(text)) {
    const tokens = splitValues(l);
    if (tokens.length !== columns) {
      throw new DatasetError(
        `${source}:${line}: expected ${columns} values (${what}), found ${tokens.length}: '${l}'`,
      );
    }
    const values = tokens.map(parseValue);
    const bad = values.indexOf(undefined);
    if (bad >= 0) throw new DatasetError(`${source}:${line}: '${tokens[bad]}' is not a number`);
    rows.push(values as number[]);
  }
  return rows;
}

/**
 * Parses a ground-truth or results file: one box `x, y, w, h` per line, separated by commas, tabs
 * or spaces (mixed too). `NaN` values are kept (a frame without annotation). Throws a
 * {@link DatasetError} naming `source` and the line for anything else.
 */
export function parseBoxes(text: string, source: string): Box[] {
  return parseRows(text, source, 4, 'x, y, w, h') as unknown as Box[];
}

/**
 * Parses a label file: integers separated by commas, tabs, spaces or line breaks (LaSOT's
 * `full_occlusion.txt` is one comma-separated line, GOT-10k's `absence.label` one value a line).
 */
export function parseLabels(text: string, source: string): number[] {
  const out: number[] = [];
  for (const { line, text: l } of lines(text)) {
    for (const t of splitValues(l)) {
      if (!/^[+-]?\d+$/.test(t)) throw new DatasetError(`${source}:${line}: '${t}' is not an integer label`);
      out.push(Number(t));
    }
  }
  return out;
}

/** Formats boxes as the benchmarks' results files: `x,y,w,h` per line, at most `digits` decimals. */
export function formatBoxes(boxes: readonly Box[], digits = 4): string {
  const f = (v: number) => String(Number(v.toFixed(digits)));
  return boxes
    .map((b) => b.map(f).join(','))
    .join('\n')
    .concat(boxes.length ? '\n' : '');
}
