/**
 * `gradlab reproduce table1|table2`: the paper's comparison as a list of independent training
 * jobs, run (or resumed) in child processes, then aggregated into tables laid out like the paper's
 * with the paper's numbers beside ours, and error-curve figures.
 *
 * Jobs. Table 1 = SmallNet × {ReLU, ELU, FReLU} × {without, with BN} × base lr {0.01, 0.1} × seeds,
 * on CIFAR-100. Table 2 = ResNet-{20, 32, 44, 56, 110} × the paper's rows (activation + block
 * variant of Fig. 4) × seeds, on CIFAR-10 and CIFAR-100, base lr 0.1. Everything else is the
 * recipe (paper/RECIPE.md; train.ts's defaults): SGD with Nesterov momentum 0.9, weight decay 1e-4,
 * batch 128, flip + pad-and-crop augmentation, lr ×0.1 at epochs 81 and 122, 164 epochs.
 *
 * Scaling down (`epochs`, `seeds`, `rows`, `lrs`, `depths`, `limitTrain`, `limitTest`, another
 * data set or explicit files) is allowed and always stated: every report lists each deviation from
 * the paper's protocol and then says "reduced protocol — not comparable to the paper". With fewer
 * than 164 epochs the two lr drops move to the same fractions of the run (`scaledMilestones`)
 * unless `milestones` is given.
 *
 * Results directory (`out`):
 *
 *   protocol.json                 the resolved protocol of the last invocation
 *   <job id>/                     one per job, e.g. smallnet-frelu-bn-lr0.1-cifar100-seed3
 *     job.json                    the job and its full training config (written before it starts)
 *     train.log                   the child process's output, appended on every (re)start
 *     metrics.json, metrics.csv, checkpoint.gckpt, summary.json    written by `gradlab train`
 *   report.md                     the tables (best epoch, then final epoch), protocol, runs
 *   results.json, results.csv     per cell: mean (std) over seeds; runs.csv: per job
 *   figure-*.svg                  training and test error per epoch (cf. the paper's Fig. 3)
 *
 * Rerunning is safe: a job with summary.json is finished and skipped; a job with a checkpoint but
 * no summary was interrupted and continues from its last completed epoch (`gradlab train --resume`);
 * a job directory whose job.json describes a different setup stops the run with an error rather
 * than mixing two protocols in one table.
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
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BackendName } from '../../tensor/backends/backend.js';
import type { GpuMode } from '../../tensor/backends/gpu.js';
import { CIFAR_FORMATS } from '../../data/cifar.js';
import { lineChart, type Series } from '../../util/svg.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/fs.js';
import { csv, formatSeconds, percent, plural } from '../../util/format.js';
import { mean, stat, type Stat } from '../../util/stats.js';
import { CHECKPOINT_FILE, MODELS, SYNTHETIC_SIZES, resolveTrainConfig, train, type DatasetName, type EpochRecord, type TrainConfig, type TrainSummary } from '../train/index.js';
import {
  TABLE1_LRS,
  TABLE1_ROWS,
  TABLE1_ROW_KEYS,
  TABLE2_DEPTHS,
  TABLE2_ROWS,
  TABLE2_ROW_KEYS,
  HE_2016_CIFAR10,
  formatPaperValue,
  table1Paper,
  table2Paper,
  table2RowsOf,
  type PaperValue,
  type Table1RowKey,
  type Table2RowKey,
} from '../paper-tables.js';

export const TABLES = ['table1', 'table2'] as const;
export type TableName = (typeof TABLES)[number];

/** The paper's protocol where a reduced run may deviate from it. */
export const PAPER_PROTOCOL = { epochs: 164, milestones: [81, 122], seeds: 5 } as const;

// ── the protocol ──

export interface ReproduceOptions {
  table: TableName;
  /** Results directory; default results/<table>. */
  out?: string;
  /** Default 164 (fb.resnet.torch's default, the recipe's). */
  epochs?: number;
  /** Epochs at whose start lr ×0.1; default `scaledMilestones(epochs)`. */
  milestones?: number[];
  /** How many seeds (1, 2, … n), or the seeds themselves. Default 5. */
  seeds?: number | number[];
  /** Row keys (TABLE1_ROW_KEYS / TABLE2_ROW_KEYS); default every row the paper reports. */
  rows?: string[];
  /** Table 1: base learning rates (default 0.01, 0.1). */
  lrs?: number[];
  /** Table 2: depths (default 20, 32, 44, 56, 110). */
  depths?: number[];
  /** Data sets; default cifar100 (Table 1), cifar10 and cifar100 (Table 2). */
  datasets?: DatasetName[];
  dataDir?: string | null;
  trainFiles?: string[] | null;
  testFiles?: string[] | null;
  limitTrain?: number | null;
  limitTest?: number | null;
  backend?: BackendName;
  gpuMode?: GpuMode | 'auto';
}

export interface Protocol {
  table: TableName;
  out: string;
  epochs: number;
  milestones: number[];
  seeds: number[];
  rows: string[] | null;
  /** Table 1: learning rates; Table 2: depths. */
  columns: number[];
  datasets: DatasetName[];
  dataDir: string | null;
  trainFiles: string[] | null;
  testFiles: string[] | null;
  limitTrain: number | null;
  limitTest: number | null;
  backend: BackendName;
  gpuMode: GpuMode | 'auto';
}

/**
 * The lr drops for a run of `epochs` epochs: the recipe's 81 and 122 from 164 epochs on (also
 * what the authors' 200-epoch scripts used); for a shorter run, the same fractions of it (80/164
 * and 121/164 of the epochs done before each drop), dropping any that fall on epoch 1 or repeat.
 */
export function scaledMilestones(epochs: number): number[] {
  if (epochs >= PAPER_PROTOCOL.epochs) return [...PAPER_PROTOCOL.milestones];
  const out: number[] = [];
  for (const m of PAPER_PROTOCOL.milestones) {
    const at = Math.round((epochs * (m - 1)) / PAPER_PROTOCOL.epochs) + 1;
    if (at >= 2 && at <= epochs && !out.includes(at)) out.push(at);
  }
  return out;
}

/** Fills in the paper's protocol and checks every option; errors name the option. */
export function resolveProtocol(o: ReproduceOptions): Protocol {
  if (!TABLES.includes(o.table)) throw new Error(`reproduce: the table must be ${TABLES.join(' or ')}; got ${JSON.stringify(o.table)}`);
  const table = o.table;
  const epochs = o.epochs ?? PAPER_PROTOCOL.epochs;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`reproduce: epochs must be an integer ≥ 1; got ${epochs}`);
  const milestones = o.milestones ?? scaledMilestones(epochs);
  const seeds = typeof o.seeds === 'number' || o.seeds === undefined ? range(o.seeds ?? PAPER_PROTOCOL.seeds, 'seeds') : [...o.seeds];
  if (seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0) || new Set(seeds).size !== seeds.length) {
    throw new Error(`reproduce: seeds must be distinct integers ≥ 0; got ${JSON.stringify(o.seeds)}`);
  }
  const rowKeys: readonly string[] = table === 'table1' ? TABLE1_ROW_KEYS : TABLE2_ROW_KEYS;
  if (o.rows !== undefined) {
    const bad = o.rows.filter((r) => !rowKeys.includes(r));
    if (o.rows.length === 0 || bad.length > 0) throw new Error(`reproduce: ${table} rows are ${rowKeys.join(', ')}; got ${o.rows.length === 0 ? 'none' : bad.join(', ')}`);
  }
  let columns: number[];
  if (table === 'table1') {
    if (o.depths !== undefined) throw new Error('reproduce: depths are for table2 (the ResNets); table1 is SmallNet');
    columns = o.lrs ?? [...TABLE1_LRS];
    if (columns.length === 0 || !columns.every((lr) => Number.isFinite(lr) && lr > 0)) throw new Error(`reproduce: lrs must be positive numbers; got ${JSON.stringify(o.lrs)}`);
  } else {
    if (o.lrs !== undefined) throw new Error('reproduce: lrs are for table1; table2 trains every ResNet at the recipe\'s 0.1');
    columns = o.depths ?? [...TABLE2_DEPTHS];
    if (columns.length === 0 || !columns.every((d) => Number.isInteger(d) && d >= 8 && (d - 2) % 6 === 0)) {
      throw new Error(`reproduce: depths must be 6n+2 for n ≥ 1 (the paper's: ${TABLE2_DEPTHS.join(', ')}); got ${JSON.stringify(o.depths)}`);
    }
    const unsupported = columns.filter((d) => !MODELS.some((m) => m === `resnet${d}`));
    if (unsupported.length > 0) throw new Error(`reproduce: gradlab train has the ResNets of depth ${TABLE2_DEPTHS.join(', ')}; got ${unsupported.join(', ')}`);
  }
  const datasets = o.datasets ?? (table === 'table1' ? ['cifar100'] : ['cifar10', 'cifar100']);
  if (datasets.length === 0 || new Set(datasets).size !== datasets.length) throw new Error(`reproduce: datasets must be distinct and not empty; got ${JSON.stringify(o.datasets)}`);
  if ((o.trainFiles || o.testFiles) && datasets.length !== 1) {
    throw new Error(`reproduce: explicit training/test files need exactly one data set (they are in one format); got ${datasets.join(', ')}`);
  }
  const absolute = (files: string[] | null | undefined) => (files ? files.map((f) => resolve(f)) : null);
  const protocol: Protocol = {
    table,
    out: resolve(o.out ?? join('results', table)),
    epochs,
    milestones: [...milestones],
    seeds,
    rows: o.rows ? [...o.rows] : null,
    columns: [...columns],
    datasets: [...datasets],
    dataDir: o.dataDir ? resolve(o.dataDir) : null,
    trainFiles: absolute(o.trainFiles),
    testFiles: absolute(o.testFiles),
    limitTrain: o.limitTrain ?? null,
    limitTest: o.limitTest ?? null,
    backend: o.backend ?? 'gpu',
    gpuMode: o.gpuMode ?? 'auto',
  };
  // Every job's config goes through train's own checks now, so a bad option fails before anything runs.
  jobList(protocol);
  return protocol;
}

function range(n: number, name: string): number[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`reproduce: ${name} must be an integer ≥ 1; got ${n}`);
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** How the protocol differs from the paper's; empty when it is the paper's. */
export function deviations(p: Protocol): string[] {
  const out: string[] = [];
  if (p.epochs < PAPER_PROTOCOL.epochs) out.push(`${plural(p.epochs, 'epoch')} (paper: 164 in fb.resnet.torch's default, 200 in the authors' scripts)`);
  if (JSON.stringify(p.milestones) !== JSON.stringify(PAPER_PROTOCOL.milestones)) out.push(`${schedule(p.milestones)} (paper: lr ×0.1 at the start of epochs 81 and 122)`);
  if (p.seeds.length < PAPER_PROTOCOL.seeds) out.push(`${plural(p.seeds.length, 'seed')} per cell (paper: 5)`);
  const paperSets = p.table === 'table1' ? ['cifar100'] : ['cifar10', 'cifar100'];
  for (const d of p.datasets) if (!paperSets.includes(d)) out.push(`data set ${datasetTitle(d)} (paper: ${paperSets.map(datasetTitle).join(' and ')})`);
  if (p.trainFiles) out.push(`training images from ${p.trainFiles.length} explicit file(s) (${sizeOfFiles(p.trainFiles, p.datasets[0], 'train')} images; paper: the official 50 000)`);
  if (p.testFiles) out.push(`test images from ${p.testFiles.length} explicit file(s) (${sizeOfFiles(p.testFiles, p.datasets[0], 'test')} images; paper: the official 10 000)`);
  if (p.limitTrain !== null) out.push(`only the first ${p.limitTrain} training images (paper: all 50 000)`);
  if (p.limitTest !== null) out.push(`only the first ${p.limitTest} test images (paper: all 10 000)`);
  return out;
}

function schedule(milestones: readonly number[]): string {
  if (milestones.length === 0) return 'a constant lr';
  return `lr ×0.1 at the start of epoch${milestones.length === 1 ? '' : 's'} ${milestones.join(' and ')}`;
}

function datasetTitle(d: string): string {
  return d === 'cifar10' ? 'CIFAR-10' : d === 'cifar100' ? 'CIFAR-100' : d === 'synthetic' ? 'synthetic (generated, 10 classes)' : d;
}

/** Images in explicit record files (file size / record size), or '?' when a file cannot be read. */
function sizeOfFiles(files: readonly string[], dataset: DatasetName, split: 'train' | 'test'): number | string {
  if (dataset === 'synthetic') return split === 'train' ? SYNTHETIC_SIZES.train : SYNTHETIC_SIZES.test;
  try {
    return files.reduce((n, f) => n + Math.floor(statSync(f).size / CIFAR_FORMATS[dataset].recordBytes), 0);
  } catch {
    return '?';
  }
}

/** Images a job trains and tests on (after the limits). */
export function imagesOf(c: TrainConfig): { train: number; test: number } {
  const full = (split: 'train' | 'test', files: string[] | null): number => {
    if (c.dataset === 'synthetic') return SYNTHETIC_SIZES[split];
    if (files) {
      const n = sizeOfFiles(files, c.dataset, split);
      return typeof n === 'number' ? n : 0;
    }
    const f = CIFAR_FORMATS[c.dataset];
    return f.files[split].length * f.recordsPerFile[split];
  };
  const train = full('train', c.trainFiles);
  const test = full('test', c.testFiles);
  return { train: c.limitTrain === null ? train : Math.min(train, c.limitTrain), test: c.limitTest === null ? test : Math.min(test, c.limitTest) };
}

// ── jobs ──

export interface Job {
  /** The job's subdirectory of the results directory, named from its config. */
  id: string;
  table: TableName;
  dataset: DatasetName;
  /** Row key (paper-tables.ts) and column: Table 1 the base lr, Table 2 the depth. */
  row: string;
  column: number;
  seed: number;
  /** The full training config (train.ts's resolveTrainConfig), outDir = <out>/<id>. */
  config: TrainConfig;
}

export function rowLabel(table: TableName, row: string): string {
  const rows: readonly { key: string; label: string }[] = table === 'table1' ? TABLE1_ROWS : TABLE2_ROWS;
  return rows.find((r) => r.key === row)?.label ?? row;
}

/** The rows of a data set: the protocol's, or the paper's for that table and data set. */
export function rowsOf(p: Protocol, dataset: DatasetName): string[] {
  if (p.rows) return p.rows;
  if (p.table === 'table1') return [...TABLE1_ROW_KEYS];
  return dataset === 'cifar100' ? table2RowsOf('cifar100') : [...TABLE2_ROW_KEYS];
}

/** Every job of the protocol: data set × row × column × seed, in that order. */
export function jobList(p: Protocol): Job[] {
  const jobs: Job[] = [];
  for (const dataset of p.datasets) {
    for (const row of rowsOf(p, dataset)) {
      for (const column of p.columns) {
        for (const seed of p.seeds) {
          const base = {
            dataset,
            seed,
            epochs: p.epochs,
            milestones: p.milestones,
            dataDir: p.dataDir,
            trainFiles: p.trainFiles,
            testFiles: p.testFiles,
            limitTrain: p.limitTrain,
            limitTest: p.limitTest,
            backend: p.backend,
            gpuMode: p.gpuMode,
          };
          let options: Parameters<typeof resolveTrainConfig>[0];
          if (p.table === 'table1') {
            const r = TABLE1_ROWS.find((x) => x.key === row)!;
            options = { ...base, model: 'smallnet', activation: r.activation, batchNorm: r.batchNorm, lr: column };
          } else {
            const r = TABLE2_ROWS.find((x) => x.key === row)!;
            options = { ...base, model: `resnet${column}` as TrainConfig['model'], activation: r.activation, block: r.block, lr: 0.1 };
          }
          const id = jobId(resolveTrainConfig({ ...options, outDir: '.' }));
          const config = resolveTrainConfig({ ...options, outDir: join(p.out, id) });
          jobs.push({ id, table: p.table, dataset, row, column, seed, config });
        }
      }
    }
  }
  return jobs;
}

/** <model>-<activation>-<bn|nobn|block-x>-lr<lr>-<dataset>-seed<seed> */
export function jobId(c: TrainConfig): string {
  const variant = c.model === 'smallnet' ? (c.batchNorm ? 'bn' : 'nobn') : `block-${c.block}`;
  return `${c.model}-${c.activation}-${variant}-lr${c.lr}-${c.dataset}-seed${c.seed}`;
}

/** The `gradlab train` arguments of a job. */
export function trainArgs(job: Job, resume: boolean): string[] {
  const c = job.config;
  const args = ['train', '--model', c.model, '--activation', c.activation];
  if (c.model === 'smallnet') args.push(c.batchNorm ? '--bn' : '--no-bn');
  else args.push('--block', c.block);
  args.push('--dataset', c.dataset);
  if (c.dataDir) args.push('--data', c.dataDir);
  if (c.trainFiles) args.push('--train-files', c.trainFiles.join(','));
  if (c.testFiles) args.push('--test-files', c.testFiles.join(','));
  if (c.limitTrain !== null) args.push('--limit-train', String(c.limitTrain));
  if (c.limitTest !== null) args.push('--limit-test', String(c.limitTest));
  args.push('--epochs', String(c.epochs), '--lr', String(c.lr), '--milestones', c.milestones.length ? c.milestones.join(',') : 'none');
  args.push('--gamma', String(c.gamma), '--batch-size', String(c.batchSize), '--momentum', String(c.momentum), '--weight-decay', String(c.weightDecay));
  args.push('--seed', String(c.seed), '--backend', c.backend);
  if (c.gpuMode !== 'auto') args.push('--gpu-mode', c.gpuMode);
  args.push('--out', c.outDir);
  if (resume) args.push('--resume');
  return args;
}

/** Config fields a job may change between invocations (as train's resume allows). */
const MAY_CHANGE: readonly (keyof TrainConfig)[] = ['outDir', 'backend', 'gpuMode', 'epochs'];

export type JobState =
  | { kind: 'done'; epochsCompleted: number; diverged: boolean }
  | { kind: 'resume'; epochsCompleted: number }
  | { kind: 'new' };

/**
 * Where a job stands: 'done' (summary.json, and enough epochs or diverged), 'resume' (a checkpoint
 * without a summary, or a finished run to extend to more epochs), 'new'. A job directory whose
 * recorded config differs from the job's (apart from epochs, backend, output directory) is an error.
 */
export function jobState(job: Job): JobState {
  const dir = job.config.outDir;
  const recorded = readJson<{ config?: TrainConfig }>(join(dir, 'job.json'))?.config ?? readJson<TrainSummary>(join(dir, 'summary.json'))?.config;
  if (recorded) {
    const changed = (Object.keys(job.config) as (keyof TrainConfig)[]).filter((k) => !MAY_CHANGE.includes(k) && JSON.stringify(recorded[k]) !== JSON.stringify(job.config[k]));
    if (changed.length > 0) {
      throw new Error(
        `reproduce: ${dir} holds a run with a different setup (${changed.map((k) => `${k} ${JSON.stringify(recorded[k])}, now ${JSON.stringify(job.config[k])}`).join('; ')}); ` +
          'choose another results directory (--out) or remove that job directory',
      );
    }
  }
  const summary = readJson<TrainSummary>(join(dir, 'summary.json'));
  const hasCheckpoint = existsSync(join(dir, CHECKPOINT_FILE));
  if (summary) {
    if (summary.diverged || summary.epochsCompleted >= job.config.epochs) return { kind: 'done', epochsCompleted: summary.epochsCompleted, diverged: summary.diverged };
    if (!hasCheckpoint) throw new Error(`reproduce: ${dir} ran ${summary.epochsCompleted} of ${job.config.epochs} epochs but has no checkpoint to continue from; remove the directory to rerun it`);
    return { kind: 'resume', epochsCompleted: summary.epochsCompleted };
  }
  if (hasCheckpoint) return { kind: 'resume', epochsCompleted: readJson<EpochRecord[]>(join(dir, 'metrics.json'))?.length ?? 0 };
  return { kind: 'new' };
}

function readJson<T>(path: string): T | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new Error(`reproduce: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// ── running ──

export interface JobOutcome {
  job: Job;
  action: 'skipped' | 'ran' | 'resumed';
  /** The child's exit status (0 completed, 3 diverged; see gradlab train --help), null when skipped. */
  exitCode: number | null;
  /** True when the job has its summary.json now. */
  finished: boolean;
  seconds: number;
}

export interface RunOptions {
  /** Jobs running at once, each in its own process. Default 1. */
  parallel?: number;
  log?: (line: string) => void;
}

/**
 * Runs every unfinished job in a child process (`gradlab train …`, output appended to the job's
 * train.log), at most `parallel` at a time; finished jobs are skipped. A job that fails is reported
 * and the others go on.
 */
export async function runJobs(jobs: readonly Job[], options: RunOptions = {}): Promise<JobOutcome[]> {
  const parallel = options.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`reproduce: jobs (parallel processes) must be an integer ≥ 1; got ${parallel}`);
  const log = options.log ?? (() => {});
  const states = jobs.map((j) => jobState(j)); // every conflict is found before anything starts
  const outcomes: JobOutcome[] = new Array(jobs.length);
  const todo: number[] = [];
  jobs.forEach((job, i) => {
    if (states[i].kind === 'done') outcomes[i] = { job, action: 'skipped', exitCode: null, finished: true, seconds: 0 };
    else todo.push(i);
  });
  const toRun = todo.length;
  let started = 0;
  const worker = async (): Promise<void> => {
    for (let next = todo.shift(); next !== undefined; next = todo.shift()) {
      const job = jobs[next];
      const state = states[next];
      const resume = state.kind === 'resume';
      const n = ++started;
      log(`[${n}/${toRun}] ${resume ? `resume ${job.id} after epoch ${state.epochsCompleted}` : `start ${job.id}`}`);
      const t0 = performance.now();
      writeJsonAtomic(join(job.config.outDir, 'job.json'), { id: job.id, table: job.table, dataset: job.dataset, row: job.row, column: job.column, seed: job.seed, config: job.config });
      const exitCode = await launchTrain(trainArgs(job, resume), join(job.config.outDir, 'train.log'));
      const seconds = (performance.now() - t0) / 1000;
      const summary = readJson<TrainSummary>(join(job.config.outDir, 'summary.json'));
      const finished = summary !== null && (exitCode === 0 || exitCode === 3);
      outcomes[next] = { job, action: resume ? 'resumed' : 'ran', exitCode, finished, seconds };
      const what = !finished
        ? `FAILED (exit status ${exitCode}; see ${join(job.config.outDir, 'train.log')})`
        : summary.diverged
          ? `diverged at epoch ${summary.divergence?.epoch}`
          : `best test error ${percent(summary.bestTestError)} (epoch ${summary.bestEpoch}), final ${percent(summary.finalTestError)}`;
      log(`  ${job.id}: ${what}, ${formatSeconds(seconds)}`);
    }
  };
  // Ctrl-C or a kill of this process stops the training children too (their last checkpoint
  // stays), so a rerun never finds an orphan still writing into a job directory.
  const forward = (signal: NodeJS.Signals) => {
    for (const child of liveChildren) child.kill(signal);
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    process.kill(process.pid, signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, todo.length) }, () => worker()));
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
  return outcomes;
}

const liveChildren = new Set<ChildProcess>();

/**
 * The node arguments that run the gradlab CLI: from source (this file is .ts, run through tsx) the
 * CLI's .ts entry with tsx's loader; from the build, dist's main.js. Either way `process.execPath`
 * runs it, so the children use the parent's node.
 */
export function gradlabEntry(): string[] {
  const here = fileURLToPath(import.meta.url);
  const cli = join(dirname(here), '..', '..', 'cli');
  if (here.endsWith('.ts')) {
    const tsx = createRequire(import.meta.url).resolve('tsx');
    return ['--import', pathToFileURL(tsx).href, join(cli, 'main.ts')];
  }
  return [join(cli, 'main.js')];
}

/** Runs `gradlab <args>` in a child process, appending its output to `logPath`; resolves to its exit status. */
function launchTrain(args: string[], logPath: string): Promise<number> {
  const fd = openSync(logPath, 'a');
  writeSync(fd, `\n=== ${new Date().toISOString()}  gradlab ${args.join(' ')}\n`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...gradlabEntry(), ...args], { stdio: ['ignore', fd, fd] });
    liveChildren.add(child);
    child.on('error', (err) => {
      liveChildren.delete(child);
      closeSync(fd);
      reject(new Error(`reproduce: could not start gradlab train: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      liveChildren.delete(child);
      closeSync(fd);
      resolvePromise(code ?? (signal ? 128 : 1));
    });
  });
}

// ── dry run: the job list and a time estimate from measured steps ──

export interface StepTiming {
  /** The models timed (one per distinct network), e.g. 'smallnet relu nobn'. */
  model: string;
  batchSize: number;
  /** Seconds of one training step (forward, backward, SGD update), measured after a warm-up step. */
  trainStep: number;
  /** Seconds of evaluating one test batch, measured together with the epoch's checkpoint save. */
  evalBatch: number;
}

function modelKey(c: TrainConfig): string {
  return c.model === 'smallnet' ? `smallnet ${c.activation} ${c.batchNorm ? 'bn' : 'nobn'}` : `${c.model} ${c.activation} block ${c.block}`;
}

/**
 * Times the training step and the evaluation of one batch of a job's network on its backend with
 * `gradlab train`'s own loop: one epoch of one batch on the reference backend; on the gpu backend
 * two such epochs, the first to warm up (it compiles the kernels) and the second measured. The
 * images are synthetic, of the same size (a step does not depend on the pixels; the class count,
 * 10 here, changes only the last layer), and lr is 0.
 */
export async function timeSteps(config: TrainConfig): Promise<StepTiming> {
  const batchSize = Math.max(1, Math.min(config.batchSize, imagesOf(config).train));
  const epochs = config.backend === 'gpu' ? 2 : 1;
  const dir = mkdtempSync(join(tmpdir(), 'gradlab-dry-run-'));
  const marks: number[] = [];
  let measured: EpochRecord | null = null;
  try {
    await train(
      { ...config, dataset: 'synthetic', dataDir: null, trainFiles: null, testFiles: null, limitTrain: batchSize, limitTest: batchSize, batchSize, epochs, lr: 0, milestones: [], outDir: dir, overwrite: true },
      {
        onStart: () => marks.push(performance.now()), // data and model ready: the first epoch starts now
        onEpoch: (record) => {
          marks.push(performance.now());
          measured = record;
        },
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const last = measured as EpochRecord | null;
  if (last === null || marks.length !== epochs + 1) {
    throw new Error(`reproduce: timing ${modelKey(config)}: expected the start of training and ${plural(epochs, 'completed epoch')}; got ${marks.length} marks`);
  }
  const epochSeconds = (marks[epochs] - marks[epochs - 1]) / 1000;
  return { model: modelKey(config), batchSize, trainStep: last.seconds, evalBatch: Math.max(0, epochSeconds - last.seconds) };
}

export interface Estimate {
  timings: StepTiming[];
  /** Per job still to run: epochs left and estimated seconds. */
  jobs: { id: string; state: JobState['kind']; epochsLeft: number; seconds: number }[];
  totalSeconds: number;
  /** totalSeconds / parallel: right when each process has a core (or device) of its own. */
  wallSeconds: number;
}

/** Estimates the time of the unfinished jobs from one measured step per distinct network. */
export async function estimate(jobs: readonly Job[], parallel: number, log: (line: string) => void = () => {}): Promise<Estimate> {
  const states = jobs.map((j) => jobState(j));
  const timings = new Map<string, StepTiming>();
  const rows: Estimate['jobs'] = [];
  for (let i = 0; i < jobs.length; i++) {
    const c = jobs[i].config;
    const state = states[i];
    const done = state.kind === 'new' ? 0 : state.epochsCompleted;
    const epochsLeft = state.kind === 'done' ? 0 : Math.max(0, c.epochs - done);
    let seconds = 0;
    if (epochsLeft > 0) {
      const key = modelKey(c);
      let t = timings.get(key);
      if (!t) {
        log(`timing ${key} (batch ${Math.min(c.batchSize, imagesOf(c).train)}) on ${c.backend}…`);
        t = await timeSteps(c);
        timings.set(key, t);
        log(`  ${key}: ${t.trainStep.toFixed(3)} s per training step, ${t.evalBatch.toFixed(3)} s per test batch`);
      }
      const n = imagesOf(c);
      seconds = epochsLeft * (Math.ceil(n.train / c.batchSize) * t.trainStep + Math.ceil(n.test / c.batchSize) * t.evalBatch);
    }
    rows.push({ id: jobs[i].id, state: state.kind, epochsLeft, seconds });
  }
  const totalSeconds = rows.reduce((s, r) => s + r.seconds, 0);
  const running = Math.max(1, Math.min(parallel, rows.filter((r) => r.epochsLeft > 0).length));
  return { timings: [...timings.values()], jobs: rows, totalSeconds, wallSeconds: totalSeconds / running };
}

// ── aggregation ──

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
  return runResult(job, summary, metrics);
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

// ── the report ──

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
  lines.push(`# gradlab reproduce ${p.table}: ${TITLES[p.table]}`, '');
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

const ACTIVATION_COLORS: Record<string, string> = { relu: '#1f77b4', elu: '#2ca02c', frelu: '#d62728', prelu: '#9467bd', leakyRelu: '#ff7f0e' };

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

const PALETTE_FOR_ROWS = ['#1f77b4', '#2ca02c', '#d62728', '#9467bd', '#ff7f0e'];

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

/** Paths relative to the working directory, for messages. */
export function shortPath(path: string): string {
  return relative('.', path) || '.';
}
