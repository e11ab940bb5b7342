/**
 * The jobs of a protocol — one `gradlab train` run per data set × row × column × seed, each in
 * its own folder of the results directory — and where each one stands (done, to resume, new).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILE, RESUMABLE_CHANGES, resolveTrainConfig, variantTag, type DatasetName, type EpochRecord, type TrainConfig, type TrainSummary } from '../train/index.js';
import { TABLE1_ROWS, TABLE1_ROW_KEYS, TABLE2_ROWS, TABLE2_ROW_KEYS, table2RowsOf } from '../paper-tables.js';
import { runSettings, type Protocol, type TableName } from './protocol.js';
import { shown } from '../../util/format.js';

export interface Job {
  /** The job's subdirectory of the results directory, named from its config. */
  id: string;
  table: TableName;
  dataset: DatasetName;
  /** Row key (paper-tables.ts) and column: Table 1 the base lr, Table 2 the depth. */
  row: string;
  column: number;
  seed: number;
  /** The full training config (train/config.ts's resolveTrainConfig), outDir = <out>/<id>. */
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
          const base = { ...runSettings(p), dataset, seed };
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
  return `${c.model}-${c.activation}-${variantTag(c)}-lr${c.lr}-${c.dataset}-seed${c.seed}`;
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
  if (c.freluBGradScale !== 1) args.push('--frelu-b-grad-scale', String(c.freluBGradScale));
  if (c.freluBKeepNonPositive) args.push('--frelu-b-nonpositive');
  if (c.gpuMode !== 'auto') args.push('--gpu-mode', c.gpuMode);
  args.push('--out', c.outDir);
  if (resume) args.push('--resume');
  return args;
}

export type JobState =
  | { kind: 'done'; epochsCompleted: number; diverged: boolean }
  | { kind: 'resume'; epochsCompleted: number }
  | { kind: 'new' };

/**
 * Where a job stands: 'done' (summary.json, and enough epochs or diverged), 'resume' (a checkpoint
 * without a summary, or a finished run to extend to more epochs), 'new'. A job directory whose
 * recorded config differs from the job's (apart from train's RESUMABLE_CHANGES: epochs, backend,
 * gpu mode, output directory) is an error.
 */
export function jobState(job: Job): JobState {
  const dir = job.config.outDir;
  const recorded = readJson<{ config?: TrainConfig }>(join(dir, 'job.json'))?.config ?? readJson<TrainSummary>(join(dir, 'summary.json'))?.config;
  if (recorded) {
    const changed = (Object.keys(job.config) as (keyof TrainConfig)[]).filter((k) => !RESUMABLE_CHANGES.includes(k) && JSON.stringify(recorded[k]) !== JSON.stringify(job.config[k]));
    if (changed.length > 0) {
      throw new Error(
        `reproduce: ${dir} holds a run with a different setup (${changed.map((k) => `${k} ${shown(recorded[k])}, now ${shown(job.config[k])}`).join('; ')}); ` +
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

/** A JSON file of a job folder (job.json, summary.json, metrics.json), or null when it does not exist. */
export function readJson<T>(path: string): T | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new Error(`reproduce: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
