/**
 * The protocol of `gradlab reproduce`: which table, which rows, columns, seeds and data, and how
 * each job trains — the paper's by default, and every deviation from it stated.
 *
 * Jobs. Table 1 = SmallNet × {ReLU, ELU, FReLU} × {without, with BN} × base lr {0.01, 0.1} × seeds,
 * on CIFAR-100. Table 2 = ResNet-{20, 32, 44, 56, 110} × the paper's rows (activation + block
 * variant of Fig. 4) × seeds, on CIFAR-10 and CIFAR-100, base lr 0.1. Everything else is the
 * recipe (paper/RECIPE.md; train/config.ts's defaults): SGD with Nesterov momentum 0.9, weight decay 1e-4,
 * batch 128, flip + pad-and-crop augmentation, lr ×0.1 at epochs 81 and 122, 164 epochs.
 *
 * Scaling down (`epochs`, `seeds`, `rows`, `lrs`, `depths`, `limitTrain`, `limitTest`, another
 * data set or explicit files) is allowed and always stated: every report lists each deviation from
 * the paper's protocol and then says "reduced protocol — not comparable to the paper". With fewer
 * than 164 epochs the two lr drops move to the same fractions of the run (`scaledMilestones`)
 * unless `milestones` is given.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BackendName } from '../../tensor/backends/backend.js';
import type { GpuMode } from '../../tensor/backends/gpu.js';
import { CIFAR_FORMATS } from '../../data/cifar.js';
import { plural, shown } from '../../util/format.js';
import { MODELS, SYNTHETIC_SIZES, type DatasetName, type TrainConfig } from '../train/index.js';
import { TABLE1_LRS, TABLE1_ROW_KEYS, TABLE2_DEPTHS, TABLE2_ROW_KEYS } from '../paper-tables.js';
import { jobList } from './jobs.js';

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
  /** Post-paper (the authors' later code): FReLU b's gradient × this factor (default 1, the paper). */
  freluBGradScale?: number;
  /** Post-paper (the authors' later code): a FReLU b that turns positive returns to its previous value (default false). */
  freluBKeepNonPositive?: boolean;
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
  freluBGradScale: number;
  freluBKeepNonPositive: boolean;
}

/**
 * The settings every job of a protocol trains with, as train() and resolveProtocol() both name
 * them: one list, so a new protocol field cannot reach one and miss the other.
 */
export function runSettings(p: Protocol): Pick<Protocol, 'epochs' | 'milestones' | 'dataDir' | 'trainFiles' | 'testFiles' | 'limitTrain' | 'limitTest' | 'backend' | 'gpuMode' | 'freluBGradScale' | 'freluBKeepNonPositive'> {
  const { epochs, milestones, dataDir, trainFiles, testFiles, limitTrain, limitTest, backend, gpuMode, freluBGradScale, freluBKeepNonPositive } = p;
  return { epochs, milestones, dataDir, trainFiles, testFiles, limitTrain, limitTest, backend, gpuMode, freluBGradScale, freluBKeepNonPositive };
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
  if (!TABLES.includes(o.table)) throw new Error(`reproduce: the table must be ${TABLES.join(' or ')}; got ${shown(o.table)}`);
  const table = o.table;
  const epochs = o.epochs ?? PAPER_PROTOCOL.epochs;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`reproduce: epochs must be an integer ≥ 1; got ${epochs}`);
  const milestones = o.milestones ?? scaledMilestones(epochs);
  const seeds = typeof o.seeds === 'number' || o.seeds === undefined ? range(o.seeds ?? PAPER_PROTOCOL.seeds, 'seeds') : [...o.seeds];
  if (seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0) || new Set(seeds).size !== seeds.length) {
    throw new Error(`reproduce: seeds must be distinct integers ≥ 0; got ${shown(o.seeds)}`);
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
    if (columns.length === 0 || !columns.every((lr) => Number.isFinite(lr) && lr > 0)) throw new Error(`reproduce: lrs must be positive numbers; got ${shown(o.lrs)}`);
  } else {
    if (o.lrs !== undefined) throw new Error('reproduce: lrs are for table1; table2 trains every ResNet at the recipe\'s 0.1');
    columns = o.depths ?? [...TABLE2_DEPTHS];
    if (columns.length === 0 || !columns.every((d) => Number.isInteger(d) && d >= 8 && (d - 2) % 6 === 0)) {
      throw new Error(`reproduce: depths must be 6n+2 for n ≥ 1 (the paper's: ${TABLE2_DEPTHS.join(', ')}); got ${shown(o.depths)}`);
    }
    const unsupported = columns.filter((d) => !MODELS.some((m) => m === `resnet${d}`));
    if (unsupported.length > 0) throw new Error(`reproduce: gradlab train has the ResNets of depth ${TABLE2_DEPTHS.join(', ')}; got ${unsupported.join(', ')}`);
  }
  const datasets = o.datasets ?? (table === 'table1' ? ['cifar100'] : ['cifar10', 'cifar100']);
  if (datasets.length === 0 || new Set(datasets).size !== datasets.length) throw new Error(`reproduce: datasets must be distinct and not empty; got ${shown(o.datasets)}`);
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
    freluBGradScale: o.freluBGradScale ?? 1,
    freluBKeepNonPositive: o.freluBKeepNonPositive ?? false,
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
  for (const rule of postPaperRules(p)) out.push(`post-paper (authors' later code): ${rule} (paper: eq. 3, b unconstrained)`);
  return out;
}

/**
 * The post-paper FReLU rules of the authors' later code that the protocol switches on, in words;
 * empty for the paper's FReLU. Reports name them in the title and among the deviations.
 */
export function postPaperRules(p: Pick<Protocol, 'freluBGradScale' | 'freluBKeepNonPositive'>): string[] {
  const out: string[] = [];
  if (p.freluBGradScale !== 1) out.push(`FReLU b's gradient ×${p.freluBGradScale}`);
  if (p.freluBKeepNonPositive) out.push('FReLU b kept ≤ 0 (a b that turns positive returns to its previous value)');
  return out;
}

/** "lr ×0.1 at the start of epochs 81 and 122", or "a constant lr". */
export function schedule(milestones: readonly number[]): string {
  if (milestones.length === 0) return 'a constant lr';
  return `lr ×0.1 at the start of epoch${milestones.length === 1 ? '' : 's'} ${milestones.join(' and ')}`;
}

/** A data set's name as the report prints it: CIFAR-10, CIFAR-100, synthetic (…). */
export function datasetTitle(d: string): string {
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
