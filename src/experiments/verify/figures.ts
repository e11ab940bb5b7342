/**
 * The SVG figures of `gradlab verify` (through util/svg.ts): Var[x_l] by layer per configuration,
 * measured (±2 SE) against the paper's equations and the derived recursion, and Var[∂Cost/∂x̃_l]
 * by layer per network family.
 */
import { lineChart, type Series } from '../../util/svg.js';
import type { VerifyResult } from './run.js';
import { describeB, familyOf } from './plan.js';

/** SVG figures by file name: one forward figure per configuration, one backward figure per network family. */
export function renderFigures(result: VerifyResult): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of result.configs) {
    const ls = c.layers.map((r) => r.l);
    const series: Series[] = [
      {
        name: 'measured (±2 SE)', x: ls, y: c.layers.map((r) => r.measuredVar), color: '#000000',
        band: { lower: c.layers.map((r) => r.measuredVar - 2 * r.measuredVarSE), upper: c.layers.map((r) => r.measuredVar + 2 * r.measuredVarSE) },
      },
      { name: 'derived recursion', x: ls, y: c.layers.map((r) => r.derived.predicted), color: '#2ca02c' },
      { name: 'eq. (6) = eqs. (7)–(8)', x: ls, y: c.layers.map((r) => r.eq6.predicted), color: '#d62728', dash: true },
      { name: 'eq. (9)', x: ls, y: c.layers.map((r) => r.eq9.predicted), color: '#1f77b4', dash: '2 3' },
    ];
    out.set(`verify-forward-${c.config.name}.svg`, lineChart(series, {
      title: `Var[x_l], ${c.config.net} ${c.config.widths.join('-')}, ${describeB(c.config)}`,
      xLabel: 'layer l', yLabel: 'Var[x_l]', yScale: 'log', xTicks: ls,
    }));
  }
  const families = [...new Set(result.configs.map((c) => familyOf(c.config)))];
  for (const fam of families) {
    const members = result.configs.filter((c) => familyOf(c.config) === fam);
    const series: Series[] = members.map((c) => ({
      name: describeB(c.config),
      x: c.layers.map((r) => r.l),
      y: c.layers.map((r) => r.measuredGradVar),
      band: { lower: c.layers.map((r) => r.measuredGradVar - 2 * r.measuredGradVarSE), upper: c.layers.map((r) => r.measuredGradVar + 2 * r.measuredGradVarSE) },
    }));
    const first = members[0];
    series.push({ name: 'eqs. (4)–(5) from the readout', x: first.layers.map((r) => r.l), y: first.layers.map((r) => r.derivedGrad.predicted), color: '#000000', dash: true, markers: false });
    out.set(`verify-backward-${fam}.svg`, lineChart(series, {
      title: `Var[∂Cost/∂x̃_l], ${first.config.net} ${first.config.widths.join('-')} (bands: ±2 SE)`,
      xLabel: 'layer l', yLabel: 'Var[∂Cost/∂x̃_l]', yScale: 'linear', xTicks: first.layers.map((r) => r.l),
    }));
  }
  return out;
}
