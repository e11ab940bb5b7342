/**
 * The numbers of a reproduction: each run's status and its errors at the best and the final
 * epoch, and per cell (data set × row × column) their mean and sample std over the seeds.
 *
 * What a cell reports (see `classifyRun` and `aggregate`):
 *   - per run: the test error at the best epoch (the minimum over epochs, the paper's metric) and
 *     at the final epoch; for Table 1 also the training error *at that same epoch* — the running
 *     error over that epoch's augmented mini-batches in training mode (dropout on), which is what
 *     fb.resnet.torch logs as training top-1 and why the paper's training errors exceed its test errors;
 *   - per cell: mean and sample standard deviation (n − 1) over the seeds, leaving out exploded runs
 *     (their errors after the blow-up mean nothing) but keeping runs that did not converge (their
 *     errors are real measurements; the cell says how many);
 *   - a run "exploding": its loss stopped being finite (train stops and records it), or a training or
 *     test loss exceeded 10·ln K (K classes; ln K is the loss of a uniform guess, where training starts);
 *     "not converge": not exploding, but the final epoch's training error is still ≥ 1 − 1.5/K (no
 *     better than guessing: a network whose units all died predicts one class, error 1 − 1/K).
 *     A cell whose runs all failed shows the failure as the paper does; otherwise it shows how many
 *     runs failed beside the mean.
 */
import { join } from 'node:path';
import { percent } from '../../util/format.js';
import { stat, type Stat } from '../../util/stats.js';
import type { DatasetName, EpochRecord, TrainConfig, TrainSummary } from '../train/index.js';
import { table1Paper, table2Paper, type PaperValue, type Table1RowKey, type Table2RowKey } from '../paper-tables.js';
import { deviations, type Protocol } from './protocol.js';
import { readJson, rowLabel, type Job } from './jobs.js';
import { describeProgress, jobProgress } from './run-job.js';

/** A loss above EXPLODE_FACTOR · ln(classes) counts as exploding. */
export const EXPLODE_FACTOR = 10;
/** A final training error ≥ 1 − NOT_CONVERGED_CLASSES / classes counts as "not converge". */
export const NOT_CONVERGED_CLASSES = 1.5;

export type RunStatus = 'ok' | 'exploding' | 'not converge';

export function classesOf(dataset: DatasetName): number {
  return dataset === 'cifar100' ? 100 : 10;
}

/**
 * The divergence rule (see the file's comment): 'exploding' when the run stopped on a non-finite
 * loss or any epoch's training or test loss exceeded EXPLODE_FACTOR · ln K; else 'not converge'
 * when the last epoch's training error is ≥ 1 − 1.5/K; else 'ok'.
 */
export function classifyRun(metrics: readonly EpochRecord[], diverged: boolean, classes: number): { status: RunStatus; reason: string | null } {
  const bound = EXPLODE_FACTOR * Math.log(classes);
  if (diverged) return { status: 'exploding', reason: 'the loss stopped being finite' };
  for (const r of metrics) {
    for (const [name, value] of [['training', r.trainLoss], ['test', r.testLoss]] as const) {
      if (!Number.isFinite(value)) return { status: 'exploding', reason: `epoch ${r.epoch}: ${name} loss ${value}` };
      if (value > bound) return { status: 'exploding', reason: `epoch ${r.epoch}: ${name} loss ${value.toPrecision(4)} > ${EXPLODE_FACTOR}·ln ${classes} = ${bound.toFixed(1)}` };
    }
  }
  const last = metrics.at(-1);
  const chance = 1 - NOT_CONVERGED_CLASSES / classes;
  if (last && last.trainError >= chance) {
    return { status: 'not converge', reason: `final training error ${percent(last.trainError)} ≥ 1 − ${NOT_CONVERGED_CLASSES}/${classes} = ${percent(chance)}` };
  }
  return { status: 'ok', reason: null };
}

export interface EpochPoint {
  epoch: number;
  trainError: number;
  testError: number;
}

export interface RunResult {
  id: string;
  dataset: DatasetName;
  row: string;
  column: number;
  seed: number;
  /** 'missing': the job has no summary.json (not run yet, running, or failed). */
  status: RunStatus | 'missing';
  reason: string | null;
  epochsCompleted: number;
  /** The epoch of the minimum test error (the first, at a tie) with its test and training error. */
  best: EpochPoint | null;
  /** The last completed epoch. */
  final: EpochPoint | null;
  curve: EpochPoint[];
  backend: string | null;
  /** Seconds of the training passes (the sum of metrics' `seconds`). */
  trainSeconds: number;
}

/**
 * One job's result from its metrics and summary. Epochs after the job's `epochs` are ignored (a
 * directory that once ran longer reports what the shorter protocol would have).
 */
export function runResult(job: Pick<Job, 'id' | 'dataset' | 'row' | 'column' | 'seed'> & { config: Pick<TrainConfig, 'epochs'> }, summary: TrainSummary | null, allMetrics: readonly EpochRecord[]): RunResult {
  const base = { id: job.id, dataset: job.dataset, row: job.row, column: job.column, seed: job.seed };
  if (summary === null) {
    return { ...base, status: 'missing', reason: 'no summary.json: not run yet, still running, or failed', epochsCompleted: allMetrics.length, best: null, final: null, curve: [], backend: null, trainSeconds: 0 };
  }
  const metrics = allMetrics.filter((r) => r.epoch <= job.config.epochs);
  const diverged = summary.diverged && (summary.divergence === null || summary.divergence.epoch <= job.config.epochs);
  const { status, reason } = classifyRun(metrics, diverged, classesOf(job.dataset));
  const point = (r: EpochRecord): EpochPoint => ({ epoch: r.epoch, trainError: r.trainError, testError: r.testError });
  const best = metrics.reduce<EpochRecord | null>((b, r) => (b === null || r.testError < b.testError ? r : b), null);
  const last = metrics.at(-1) ?? null;
  const backend = summary.backend === 'gpu' && summary.gpu?.mode ? `gpu (gpu.js ${summary.gpu.mode})` : summary.backend;
  return {
    ...base,
    status,
    reason,
    epochsCompleted: metrics.length,
    best: best ? point(best) : null,
    final: last ? point(last) : null,
    curve: metrics.map(point),
    backend,
    trainSeconds: metrics.reduce((s, r) => s + r.seconds, 0),
  };
}

/** Reads a job's directory into a RunResult. */
export function readRunResult(job: Job): RunResult {
  const dir = job.config.outDir;
  const summary = readJson<TrainSummary>(join(dir, 'summary.json'));
  const metrics = readJson<EpochRecord[]>(join(dir, 'metrics.json')) ?? [];
  const result = runResult(job, summary, metrics);
  // An unfinished job says where it stands: not started, running (where), interrupted, failed.
  return summary === null ? { ...result, reason: describeProgress(jobProgress(dir)) } : result;
}

export interface Cell {
  dataset: DatasetName;
  row: string;
  label: string;
  column: number;
  /** Seeds asked for, and how the runs ended. */
  seeds: number;
  counts: { ok: number; exploding: number; notConverge: number; missing: number };
  best: { train: Stat | null; test: Stat | null };
  final: { train: Stat | null; test: Stat | null };
  paper: { train: PaperValue | null; test: PaperValue | null };
  runs: string[];
}

/** The cells of the protocol's table(s): one per data set × row × column, over the seeds. */
export function aggregate(p: Pick<Protocol, 'table' | 'seeds'>, jobs: readonly Job[], results: readonly RunResult[]): Cell[] {
  const cells: Cell[] = [];
  const byKey = new Map<string, RunResult[]>();
  const keyOf = (r: { dataset: string; row: string; column: number }) => `${r.dataset}|${r.row}|${r.column}`;
  for (const r of results) byKey.set(keyOf(r), [...(byKey.get(keyOf(r)) ?? []), r]);
  const seen = new Set<string>();
  for (const job of jobs) {
    const key = keyOf(job);
    if (seen.has(key)) continue;
    seen.add(key);
    const runs = byKey.get(key) ?? [];
    // A run that did not converge still measured real errors and counts; an exploded run's errors
    // after the blow-up mean nothing and are left out.
    const counted = runs.filter((r) => r.status === 'ok' || r.status === 'not converge');
    const values = (which: 'best' | 'final', metric: 'trainError' | 'testError') => stat(counted.map((r) => r[which]![metric]));
    let paper: Cell['paper'];
    if (p.table === 'table1') {
      const v = job.dataset === 'cifar100' ? table1Paper(job.row as Table1RowKey, job.column) : null;
      paper = { train: v?.train ?? null, test: v?.test ?? null };
    } else {
      paper = { train: null, test: table2Paper(job.dataset, job.row as Table2RowKey, job.column) };
    }
    cells.push({
      dataset: job.dataset,
      row: job.row,
      label: rowLabel(p.table, job.row),
      column: job.column,
      seeds: p.seeds.length,
      counts: {
        ok: runs.filter((r) => r.status === 'ok').length,
        exploding: runs.filter((r) => r.status === 'exploding').length,
        notConverge: runs.filter((r) => r.status === 'not converge').length,
        missing: runs.filter((r) => r.status === 'missing').length + Math.max(0, p.seeds.length - runs.length),
      },
      best: { train: values('best', 'trainError'), test: values('best', 'testError') },
      final: { train: values('final', 'trainError'), test: values('final', 'testError') },
      paper,
      runs: runs.map((r) => r.id),
    });
  }
  return cells;
}

export interface Report {
  protocol: Protocol;
  deviations: string[];
  reduced: boolean;
  backends: string[];
  cells: Cell[];
  runs: RunResult[];
}

/** Reads every job's results and aggregates them. */
export function buildReport(p: Protocol, jobs: readonly Job[]): Report {
  const runs = jobs.map((j) => readRunResult(j));
  const devs = deviations(p);
  const backends = [...new Set(runs.map((r) => r.backend).filter((b): b is string => b !== null))];
  return { protocol: p, deviations: devs, reduced: devs.length > 0, backends, cells: aggregate(p, jobs, runs), runs };
}
