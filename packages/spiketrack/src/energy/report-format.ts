import {
  type ColumnAlign,
  ENERGY_TABLE_ALIGN,
  energyTableRows,
  energyBarChartSvg,
  formatCount,
  formatEnergy,
  markdownTable,
  textTable,
} from '@spiketrack/energy';
import type { TrackerBranchEnergy, TrackerEnergies, TrackerEnergyReport } from './tracker-energy';

const SUMMARY_ALIGN: ColumnAlign = [false, true, true, true, true];

/** Rows of one branch: header, one per layer (per run), total. */
function layerRows(b: TrackerBranchEnergy): string[][] {
  return energyTableRows(
    b.layers.map((l) => ({
      path: l.path,
      kind: l.kind,
      spiking: l.spiking,
      denseMacs: l.dense_macs,
      macs: l.macs,
      acs: l.acs,
      paperAcs: l.paper_acs,
      inputRate: l.input_rate,
      exact: l.energy.exact,
      paper: l.energy.paper,
    })),
    {
      denseMacs: b.dense_macs,
      macs: b.macs,
      acs: b.acs,
      paperAcs: b.paper_acs,
      exact: b.energy.exact,
      paper: b.energy.paper,
    },
  );
}

/** The per-frame summary: search, template / interval, total. */
function summaryRows(r: TrackerEnergyReport): string[][] {
  const row = (name: string, macs: number, e: TrackerEnergies) => [
    name,
    formatCount(macs),
    formatEnergy(e.exact),
    formatEnergy(e.paper),
    formatEnergy(e.ann),
  ];
  return [
    ['per frame', 'dense MACs', 'E exact', 'E paper', 'E ANN'],
    row('search', r.search.dense_macs, r.per_frame.search),
    row(`template / ${r.interval}`, r.template.dense_macs / r.interval, r.per_frame.template),
    row('total', r.per_frame.dense_macs, r.per_frame.total),
  ];
}

function heading(r: TrackerEnergyReport): string {
  const p = r.process;
  return `SpikeTrack energy per frame: ${r.config ?? 'custom config'} (R = ${r.resolution}, T = ${r.templates}), template rebuilt every ${r.interval} frames; process ${p.name} (E_MAC ${p.eMac} pJ, E_AC ${p.eAc} pJ)`;
}

function branchTitles(r: TrackerEnergyReport): { search: string; template: string } {
  return {
    search: `search branch, per frame (backbone on the search crop, six MRMs with the query repeated ${r.templates}×, head; ${r.search.runs} frame(s) measured)`,
    template: `template branch, one rebuild of the cache (backbone on ${r.templates} template(s), MRM memories kᵀ·v; ${r.template.runs} rebuild(s) measured)`,
  };
}

function footer(r: TrackerEnergyReport): string[] {
  const ratio = (v: number | null) => (v === null ? '-' : v.toFixed(4));
  const f = r.first_layer;
  return [
    `SNN/ANN per frame: exact ${ratio(r.per_frame.ratio_to_ann.exact)}, paper ${ratio(r.per_frame.ratio_to_ann.paper)}`,
    `first layer: ${f.path ?? '-'}: ${formatCount(f.dense_macs)} MACs per frame, ${formatCount(f.template_dense_macs)} per template rebuild`,
    `process: ${r.process.name} (${r.process.source})`,
    ...(r.per_frame.memory && r.memory_model
      ? [
          `memory access per frame (separate, not in the totals): ${formatEnergy(r.per_frame.memory.total)} (search ${formatEnergy(r.per_frame.memory.search)}, template / ${r.interval} ${formatEnergy(r.per_frame.memory.template)}; ${r.memory_model.name}, ${r.memory_model.pjPerByte} pJ/byte)`,
        ]
      : []),
    r.conventions.exact,
    r.conventions.paper,
    ...r.notes,
  ];
}

/**
 * A plain-text report of {@link TrackerEnergyReport}: the search branch per frame and the template
 * branch per rebuild, layer by layer (path, kind, input, dense MACs, MACs, ACs in both conventions,
 * input firing rate, energy in both conventions), then the per-frame totals and the notes.
 */
export function formatTrackerEnergy(r: TrackerEnergyReport): string {
  const t = branchTitles(r);
  return [
    heading(r),
    '',
    t.search,
    textTable(layerRows(r.search), ENERGY_TABLE_ALIGN),
    '',
    t.template,
    textTable(layerRows(r.template), ENERGY_TABLE_ALIGN),
    '',
    textTable(summaryRows(r), SUMMARY_ALIGN),
    '',
    ...footer(r),
    '',
  ].join('\n');
}

/** The same report as Markdown: headings, the per-frame summary first, then both branches' layer tables. */
export function formatTrackerEnergyMarkdown(r: TrackerEnergyReport): string {
  const t = branchTitles(r);
  return [
    `# ${heading(r)}`,
    '',
    markdownTable(summaryRows(r), SUMMARY_ALIGN),
    '',
    ...footer(r).map((l) => `- ${l}`),
    '',
    `## ${t.search}`,
    '',
    markdownTable(layerRows(r.search), ENERGY_TABLE_ALIGN),
    '',
    `## ${t.template}`,
    '',
    markdownTable(layerRows(r.template), ENERGY_TABLE_ALIGN),
    '',
  ].join('\n');
}

/**
 * An SVG bar chart of the energy per stage and frame (exact convention by default): the search
 * branch and the template branch divided by the interval, stacked.
 */
export function trackerEnergySvg(
  r: TrackerEnergyReport,
  convention: 'exact' | 'paper' | 'ann' = 'exact',
): string {
  return energyBarChartSvg(
    r.stages.map((s) => ({
      label: s.stage,
      values: [s.search[convention], s.template_per_frame[convention]],
    })),
    {
      series: ['search', `template / ${r.interval}`],
      title: `${r.config ?? 'SpikeTrack'}: energy per frame and stage (${convention}, ${r.process.name}), total ${formatEnergy(r.per_frame.total[convention])}`,
    },
  );
}
