/**
 * The figures of a reproduction: error curves per data set and column like the paper's Fig. 3
 * (SVG, through util/svg.ts), one colour per row, test error solid and training error dashed.
 */
import { lineChart, type Series } from '../../util/svg.js';
import { plural } from '../../util/format.js';
import { mean } from '../../util/stats.js';
import type { DatasetName } from '../train/index.js';
import { TABLE1_ROWS, TABLE2_ROWS } from '../paper-tables.js';
import { datasetTitle } from './protocol.js';
import { rowLabel, rowsOf } from './jobs.js';
import type { Report } from './aggregate.js';

const ACTIVATION_COLORS: Record<string, string> = { relu: '#1f77b4', elu: '#2ca02c', frelu: '#d62728', prelu: '#9467bd', leakyRelu: '#ff7f0e' };
/** Table 2's rows, by position (Table 1's rows are coloured by activation). */
const PALETTE_FOR_ROWS = ['#1f77b4', '#2ca02c', '#d62728', '#9467bd', '#ff7f0e'];

export interface Figure {
  file: string;
  title: string;
  svg: string;
}

/**
 * Error curves like the paper's Fig. 3: one figure per data set and column (Table 1 also per BN
 * on/off), one colour per row; test error solid, training error dashed; the line is the mean over
 * the runs the table counts (all but exploded ones) at each epoch and the band their min–max. A
 * cell whose runs all exploded is drawn from them up to the blow-up; failures are named in the legend.
 */
export function figures(r: Report): Figure[] {
  const p = r.protocol;
  const out: Figure[] = [];
  const groups: { file: string; title: string; rows: string[]; dataset: DatasetName; column: number }[] = [];
  for (const dataset of p.datasets) {
    const rows = rowsOf(p, dataset);
    for (const column of p.columns) {
      if (p.table === 'table1') {
        for (const bn of [false, true]) {
          const these = rows.filter((k) => TABLE1_ROWS.find((x) => x.key === k)?.batchNorm === bn);
          if (these.length === 0) continue;
          groups.push({
            file: `figure-${dataset}-lr${column}-${bn ? 'bn' : 'nobn'}.svg`,
            title: `SmallNet, ${datasetTitle(dataset).split(' ')[0]}, lr ${column}, ${bn ? 'BN' : 'no BN'}`,
            rows: these,
            dataset,
            column,
          });
        }
      } else {
        groups.push({ file: `figure-${dataset}-resnet${column}.svg`, title: `ResNet-${column}, ${datasetTitle(dataset).split(' ')[0]}`, rows, dataset, column });
      }
    }
  }
  for (const g of groups) {
    const series: Series[] = [];
    g.rows.forEach((row, i) => {
      const runs = r.runs.filter((x) => x.dataset === g.dataset && x.row === row && x.column === g.column && x.curve.length > 0);
      const counted = runs.filter((x) => x.status === 'ok' || x.status === 'not converge');
      const used = counted.length > 0 ? counted : runs;
      if (used.length === 0) return;
      // The legend names a failure only when every run drawn had it (the table gives the counts).
      const failure = used[0].status !== 'ok' && used.every((x) => x.status === used[0].status) ? ` (${used[0].status})` : '';
      const activation = p.table === 'table1' ? TABLE1_ROWS.find((x) => x.key === row)!.activation : TABLE2_ROWS.find((x) => x.key === row)!.activation;
      const color = p.table === 'table1' ? ACTIVATION_COLORS[activation] : undefined;
      const label = `${rowLabel(p.table, row).replace(/ \[.*$/, '')}${failure}`;
      for (const metric of ['testError', 'trainError'] as const) {
        const epochs = [...new Set(used.flatMap((x) => x.curve.map((e) => e.epoch)))].sort((a, b) => a - b);
        const at = (e: number) => used.map((x) => x.curve.find((pt) => pt.epoch === e)?.[metric]).filter((v): v is number => v !== undefined).map((v) => 100 * v);
        series.push({
          name: `${label} ${metric === 'testError' ? 'test' : 'train'}`,
          x: epochs,
          y: epochs.map((e) => mean(at(e))),
          band: used.length > 1 ? { lower: epochs.map((e) => Math.min(...at(e))), upper: epochs.map((e) => Math.max(...at(e))) } : undefined,
          color: color ?? PALETTE_FOR_ROWS[i % PALETTE_FOR_ROWS.length],
          dash: metric === 'trainError',
        });
      }
    });
    const seeds = new Set(r.runs.filter((x) => x.dataset === g.dataset && x.column === g.column && g.rows.includes(x.row) && x.curve.length > 0).map((x) => x.seed)).size;
    const title = `${g.title} — mean of ${plural(seeds, 'seed')}, band min–max`;
    const lastEpoch = Math.max(1, ...series.map((x) => x.x.at(-1) ?? 1));
    const svg = lineChart(series, {
      title,
      xLabel: 'epoch',
      yLabel: r.reduced ? 'error (%), reduced protocol' : 'error (%)',
      width: 800,
      height: 440,
      // Whole epochs on a short run (the automatic ticks would show 1.2, 1.4 …).
      ...(lastEpoch <= 12 ? { xTicks: Array.from({ length: lastEpoch }, (_, i) => i + 1), xRange: [1, Math.max(2, lastEpoch)] as const } : {}),
    });
    out.push({ file: g.file, title, svg });
  }
  return out;
}
