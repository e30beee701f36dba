import type { EnergyReport } from './energy';

const SI = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
] as const;

/** An operation count: exact below 10 000 (two decimals when fractional), else 3 significant digits with k/M/G/T. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a < 1e4) return Number.isInteger(n) ? String(n) : n.toFixed(2);
  for (const [v, s] of SI) if (a >= v) return `${(n / v).toPrecision(3)} ${s}`;
  return String(n);
}

/** An energy given in pJ, in the largest unit (pJ, nJ, µJ, mJ, J) that keeps it ≥ 1. */
export function formatEnergy(pj: number): string {
  if (!Number.isFinite(pj)) return String(pj);
  const units = [
    [1e12, 'J'],
    [1e9, 'mJ'],
    [1e6, 'µJ'],
    [1e3, 'nJ'],
  ] as const;
  const a = Math.abs(pj);
  for (const [v, u] of units) if (a >= v) return `${(pj / v).toPrecision(4)} ${u}`;
  return `${pj.toPrecision(4)} pJ`;
}

/** Column alignment of {@link textTable} and {@link markdownTable}: true right-aligns (numbers). */
export type ColumnAlign = readonly boolean[];

/**
 * A plain-text table: the first row is the header, columns are padded to their widest cell and
 * separated by two spaces; `rightAlign[c]` right-aligns column c.
 */
export function textTable(rows: readonly (readonly string[])[], rightAlign: ColumnAlign): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (rightAlign[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A cell of a Markdown table: `|` and line breaks escaped. */
function markdownCell(cell: string): string {
  return cell.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * A GitHub-flavoured Markdown table: the first row is the header; `rightAlign[c]` right-aligns
 * column c (`---:`). `|` in cells is escaped.
 */
export function markdownTable(rows: readonly (readonly string[])[], rightAlign: ColumnAlign): string {
  if (rows.length === 0) return '';
  const line = (r: readonly string[]) => `| ${r.map(markdownCell).join(' | ')} |`;
  const rule = `| ${rows[0]!.map((_, c) => (rightAlign[c] ? '---:' : '---')).join(' | ')} |`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

/** One row of an energy table: what {@link formatEnergyTable} shows of a layer (a `LayerEnergy` is one). */
export interface EnergyTableRow {
  path: string;
  kind: string;
  spiking: boolean | 'mixed';
  denseMacs: number;
  macs: number;
  acs: number;
  paperAcs: number;
  inputRate: number | null;
  /** Energy in pJ, `exact` and `paper` conventions. */
  exact: number;
  paper: number;
}

/** Column alignment of {@link energyTableRows}. */
export const ENERGY_TABLE_ALIGN: ColumnAlign = [
  false,
  false,
  false,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
];

/**
 * The cells of an energy table (for {@link textTable} or {@link markdownTable}): header (layer,
 * kind, input, dense MACs, MACs, ACs exact and paper, rate, E exact, E paper), one row per layer,
 * and a `total` row.
 */
export function energyTableRows(
  layers: readonly EnergyTableRow[],
  total: Pick<EnergyTableRow, 'denseMacs' | 'macs' | 'acs' | 'paperAcs' | 'exact' | 'paper'>,
): string[][] {
  const header = [
    'layer',
    'kind',
    'input',
    'dense MACs',
    'MACs',
    'ACs (exact)',
    'ACs (paper)',
    'rate',
    'E exact',
    'E paper',
  ];
  const rows = [header];
  for (const l of layers) {
    rows.push([
      l.path,
      l.kind,
      l.spiking === true ? 'spikes' : l.spiking === false ? 'real' : 'mixed',
      formatCount(l.denseMacs),
      formatCount(l.macs),
      formatCount(l.acs),
      formatCount(l.paperAcs),
      l.inputRate === null ? '-' : l.inputRate.toFixed(4),
      formatEnergy(l.exact),
      formatEnergy(l.paper),
    ]);
  }
  rows.push([
    'total',
    '',
    '',
    formatCount(total.denseMacs),
    formatCount(total.macs),
    formatCount(total.acs),
    formatCount(total.paperAcs),
    '',
    formatEnergy(total.exact),
    formatEnergy(total.paper),
  ]);
  return rows;
}

/** The rows of {@link formatEnergyTable}: header, one per layer, totals. */
function energyRows(report: EnergyReport): string[][] {
  return energyTableRows(report.layers, {
    denseMacs: report.ann.macs,
    macs: report.exact.macs,
    acs: report.exact.acs,
    paperAcs: report.paper.acs,
    exact: report.exact.total,
    paper: report.paper.total,
  });
}

/** The lines under the table: ANN equivalent, ratios, process, timesteps, conventions. */
function energySummary(report: EnergyReport): string[] {
  const ratio = (r: number | null) => (r === null ? '-' : r.toFixed(4));
  const p = report.process;
  return [
    `ANN equivalent: ${formatEnergy(report.ann.total)} (${formatCount(report.ann.macs)} MACs)`,
    `SNN/ANN: exact ${ratio(report.exact.ratioToAnn)}, paper ${ratio(report.paper.ratioToAnn)}`,
    `process: ${p.name}, E_MAC ${p.eMac} pJ, E_AC ${p.eAc} pJ (${p.source})`,
    `timesteps: ${report.timesteps}`,
    ...(report.memory
      ? [
          `memory access (separate, not in the totals): ${formatEnergy(report.memory.total)} (${formatCount(report.memory.bytes)} bytes at ${report.memory.model.pjPerByte} pJ/byte, ${report.memory.model.name})`,
        ]
      : []),
    'exact: ACs from the actual spikes (Σ spike count × real fan-out); paper: dense MACs × mean input spike count',
  ];
}

/**
 * A plain-text table of an {@link EnergyReport}: per layer its path, kind, input (spikes, real or
 * mixed), dense MACs, MACs charged, ACs in both conventions, input firing rate and energy in both
 * conventions; then totals, the ANN equivalent, the SNN/ANN ratios and the process constants.
 * For JSON, `JSON.stringify(report)`: the reports are plain objects.
 */
export function formatEnergyTable(report: EnergyReport): string {
  return [textTable(energyRows(report), ENERGY_TABLE_ALIGN), '', ...energySummary(report)].join('\n');
}

/**
 * The same as {@link formatEnergyTable}, as a Markdown table followed by the summary lines as a
 * list (for reports and notebooks).
 */
export function formatEnergyMarkdown(report: EnergyReport): string {
  return [
    markdownTable(energyRows(report), ENERGY_TABLE_ALIGN),
    '',
    ...energySummary(report).map((l) => `- ${l}`),
  ].join('\n');
}
