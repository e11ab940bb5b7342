/**
 * The report of a reproduction as text: report.md (the tables in the paper's layout with the
 * paper's values beside ours, the protocol, every run), results.csv, runs.csv and results.json,
 * written with the figures (figures.ts) by `writeReport`.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../../node/files.js';
import { csv, formatSeconds } from '../../util/format.js';
import type { Stat } from '../../util/stats.js';
import type { DatasetName } from '../train/index.js';
import { HE_2016_CIFAR10, TABLE2_DEPTHS, formatPaperValue, type PaperValue } from '../paper-tables.js';
import { datasetTitle, imagesOf, postPaperRules, schedule, type TableName } from './protocol.js';
import { jobList, rowLabel, rowsOf } from './jobs.js';
import { EXPLODE_FACTOR, NOT_CONVERGED_CLASSES, type Cell, type Report } from './aggregate.js';
import { figures } from './figures.js';

/**
 * A cell in percent, as the paper prints it: "40.12 (0.31)" (one run: "40.12 (n=1)"). When every
 * run failed the cell names the failure: "exploding", or "not converge — 98.95 (0.10)" (those runs'
 * errors are real, so they are shown after the label). Otherwise failed and missing runs are
 * counted in brackets: "40.12 (0.31) [1/5 exploding]".
 */
export function formatCell(cell: Cell, s: Stat | null): string {
  const { ok, exploding, notConverge, missing } = cell.counts;
  const value = s === null ? '' : `${(100 * s.mean).toFixed(2)} (${s.std === null ? 'n=1' : (100 * s.std).toFixed(2)})`;
  const allNotConverge = ok === 0 && notConverge > 0;
  const notes: string[] = [];
  if (s !== null && exploding > 0) notes.push(`${exploding}/${cell.seeds} exploding`);
  if (notConverge > 0 && !allNotConverge) notes.push(`${notConverge}/${cell.seeds} not converge`);
  if (missing > 0 && ok + exploding + notConverge > 0) notes.push(`${missing}/${cell.seeds} not run`);
  const tail = notes.length ? ` [${notes.join(', ')}]` : '';
  if (s === null) return (exploding > 0 ? 'exploding' : 'not run') + tail;
  return (allNotConverge ? `not converge — ${value}` : value) + tail;
}

const TITLES: Record<TableName, string> = {
  table1: 'Table 1 — SmallNet: ReLU, ELU and FReLU, with and without BN, at two base learning rates',
  table2: 'Table 2 — ResNet-20/32/44/56/110: ReLU, ELU and FReLU in the block variants of Fig. 4',
};

function columnTitle(table: TableName, column: number): string {
  return table === 'table1' ? `lr ${column}` : `ResNet-${column}`;
}

/** One table in the paper's layout (rows × columns, the paper's value beside each cell). */
export function markdownTable(r: Report, which: 'best' | 'final', dataset: DatasetName): string {
  const p = r.protocol;
  const cells = r.cells.filter((c) => c.dataset === dataset);
  const head = ['Method'];
  for (const col of p.columns) {
    if (p.table === 'table1') head.push(`${columnTitle(p.table, col)} training`, 'paper', `${columnTitle(p.table, col)} test`, 'paper');
    else head.push(`${columnTitle(p.table, col)}`, 'paper');
  }
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const row of rowsOf(p, dataset)) {
    const cols = [rowLabel(p.table, row)];
    for (const col of p.columns) {
      const cell = cells.find((c) => c.row === row && c.column === col);
      if (!cell) continue;
      const s = cell[which];
      if (p.table === 'table1') cols.push(formatCell(cell, s.train), formatPaperValue(cell.paper.train), formatCell(cell, s.test), formatPaperValue(cell.paper.test));
      else cols.push(formatCell(cell, s.test), formatPaperValue(cell.paper.test));
    }
    lines.push(`| ${cols.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The Markdown report: protocol, tables (best epoch, then final epoch), runs. */
export function markdownReport(r: Report): string {
  const p = r.protocol;
  const lines: string[] = [];
  const post = postPaperRules(p);
  const postTitle = post.length === 0 ? '' : ` — with post-paper FReLU rules (authors' later code): ${post.join('; ')}`;
  lines.push(`# gradlab reproduce ${p.table}: ${TITLES[p.table]}${postTitle}`, '');
  if (r.reduced) {
    lines.push('**Reduced protocol — not comparable to the paper.** It differs from the paper\'s in:', '');
    for (const d of r.deviations) lines.push(`- ${d}`);
    lines.push('');
  } else {
    lines.push('The paper\'s protocol (paper/RECIPE.md).', '');
  }
  lines.push('## Protocol used', '');
  const c0 = jobList(p)[0]?.config;
  const n = c0 ? imagesOf(c0) : null;
  lines.push(
    `- data: ${p.datasets.map(datasetTitle).join(', ')}${n ? ` — ${n.train} training / ${n.test} test images per run` : ''}` +
      (p.trainFiles ? `; training files ${p.trainFiles.join(', ')}` : '') +
      (p.testFiles ? `; test files ${p.testFiles.join(', ')}` : ''),
  );
  if (c0) {
    lines.push(
      `- training: ${p.epochs} epochs, batch ${c0.batchSize}, SGD ${c0.nesterov ? 'Nesterov ' : ''}momentum ${c0.momentum}, weight decay ${c0.weightDecay} on every parameter, ` +
        `base lr ${p.table === 'table1' ? p.columns.join(' / ') : '0.1'}, ${schedule(p.milestones).replace('×0.1', `×${c0.gamma}`)}, ` +
        `augmentation ${c0.augment ? 'flip + pad 4 + random crop' : 'none'}`,
    );
  }
  lines.push(`- seeds: ${p.seeds.join(', ')} (${p.seeds.length} per cell)`);
  lines.push(`- backend: ${r.backends.length ? r.backends.join(', ') : p.backend + ' (asked; no run finished)'}`);
  const done = r.runs.filter((x) => x.status !== 'missing').length;
  const trainSeconds = r.runs.reduce((s, x) => s + x.trainSeconds, 0);
  lines.push(`- runs: ${done} of ${r.runs.length} finished; training passes took ${formatSeconds(trainSeconds)} in all (summed over runs)`);
  lines.push('');
  lines.push('## How to read the tables', '');
  lines.push(
    '- Errors in %. Each cell: mean (sample standard deviation, n − 1) over the seeds, exploded runs left out; "n=1" when one run counts. ' +
      'The paper\'s value (mean (std) over 5 runs) is in the column beside it; "—" where the paper has no such cell.',
    '- "Best epoch": per run, the epoch of minimum test error (the paper\'s metric); ' +
      (p.table === 'table1'
        ? 'the training error reported beside it is the one of that same epoch: the running error over that epoch\'s augmented mini-batches in training mode (dropout on), as fb.resnet.torch logs it. '
        : '') +
      '"Final epoch": the last epoch\'s errors.',
    `- A run is "exploding" when its loss stopped being finite or a training or test loss exceeded ${EXPLODE_FACTOR}·ln K (K classes), ` +
      `and "not converge" when its final training error is still ≥ 1 − ${NOT_CONVERGED_CLASSES}/K (no better than guessing). ` +
      'A cell whose runs all failed names the failure as the paper does ("not converge — " then those runs\' errors); otherwise the failed runs are counted in brackets. ' +
      'Runs that did not converge count in the mean (their errors are real); exploded runs do not.',
    '',
  );
  for (const which of ['best', 'final'] as const) {
    for (const dataset of p.datasets) {
      lines.push(`## ${which === 'best' ? 'Best epoch' : 'Final epoch'} — ${datasetTitle(dataset)}`, '', markdownTable(r, which, dataset), '');
      if (p.table === 'table2' && dataset === 'cifar10' && which === 'best') {
        const he = TABLE2_DEPTHS.map((d) => `${d}: ${HE_2016_CIFAR10[d].toFixed(2)}`).join(', ');
        lines.push(`For reference, He et al. 2016 report these CIFAR-10 test errors (%) for the original ResNets: ${he}.`, '');
      }
    }
  }
  lines.push('## Runs', '');
  lines.push('| run | status | epochs | best epoch | best test | its training | final test | final training | note |', '|---|---|---:|---:|---:|---:|---:|---:|---|');
  const f = (v: number | undefined) => (v === undefined ? '-' : (100 * v).toFixed(2));
  for (const x of r.runs) {
    lines.push(`| ${x.id} | ${x.status} | ${x.epochsCompleted} | ${x.best?.epoch ?? '-'} | ${f(x.best?.testError)} | ${f(x.best?.trainError)} | ${f(x.final?.testError)} | ${f(x.final?.trainError)} | ${x.reason ?? ''} |`);
  }
  lines.push('');
  return lines.join('\n');
}

const paperMean = (v: PaperValue | null) => (v === null ? null : typeof v === 'string' ? v : v.mean);
const paperStd = (v: PaperValue | null) => (v === null || typeof v === 'string' ? null : v.std);

/** results.csv: one line per cell and epoch choice; errors in %. */
export function cellsCsv(r: Report): string {
  const header = ['table', 'dataset', 'row', 'column', 'epoch_choice', 'seeds', 'ok', 'exploding', 'not_converge', 'missing', 'train_mean', 'train_std', 'test_mean', 'test_std', 'paper_train_mean', 'paper_train_std', 'paper_test_mean', 'paper_test_std'];
  const pctOf = (v: number | null | undefined) => (v === null || v === undefined ? null : +(100 * v).toFixed(4));
  const rows = r.cells.flatMap((c) =>
    (['best', 'final'] as const).map((which) => [
      r.protocol.table, c.dataset, c.row, c.column, which, c.seeds, c.counts.ok, c.counts.exploding, c.counts.notConverge, c.counts.missing,
      pctOf(c[which].train?.mean), pctOf(c[which].train?.std), pctOf(c[which].test?.mean), pctOf(c[which].test?.std),
      paperMean(c.paper.train), paperStd(c.paper.train), paperMean(c.paper.test), paperStd(c.paper.test),
    ]),
  );
  return csv(header, rows);
}

/** runs.csv: one line per job; errors in %. */
export function runsCsv(r: Report): string {
  const header = ['id', 'dataset', 'row', 'column', 'seed', 'status', 'epochs', 'best_epoch', 'best_test', 'best_train', 'final_test', 'final_train', 'backend', 'train_seconds', 'reason'];
  const p = (v: number | undefined) => (v === undefined ? null : +(100 * v).toFixed(4));
  return csv(header, r.runs.map((x) => [x.id, x.dataset, x.row, x.column, x.seed, x.status, x.epochsCompleted, x.best?.epoch ?? null, p(x.best?.testError), p(x.best?.trainError), p(x.final?.testError), p(x.final?.trainError), x.backend, +x.trainSeconds.toFixed(2), x.reason]));
}

/** Writes report.md, results.json, results.csv, runs.csv and the figures; returns their paths. */
export function writeReport(r: Report): string[] {
  const dir = r.protocol.out;
  const paths: string[] = [];
  const put = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileAtomic(path, text);
    paths.push(path);
  };
  put('report.md', markdownReport(r));
  put('results.json', JSON.stringify({ ...r, runs: r.runs.map(({ curve: _curve, ...rest }) => rest) }, null, 2) + '\n');
  put('results.csv', cellsCsv(r));
  put('runs.csv', runsCsv(r));
  for (const fig of figures(r)) put(fig.file, fig.svg);
  return paths;
}
