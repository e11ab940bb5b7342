/**
 * The numbers `gradlab reproduce` compares against: Tables 1 and 2 of Qiu & Cai, "Flexible
 * Rectified Linear Units for Improving Convolutional Neural Networks" (2017), copied from the
 * paper's text (paper/frelu-paper.txt). Every value is a top-1 error in percent, "mean (std)" over
 * five runs with different seeds; the paper's runs used fb.resnet.torch's protocol (RECIPE.md).
 *
 * Table 1 — SmallNet (Table 3) on CIFAR-100. Rows: an activation, with or without BN. Columns: the
 * base learning rate (0.01 and 0.1), and for each the training and the test error. Where a run
 * failed the paper writes "not converge" (ReLU at 0.1 without BN) or "exploding" (ELU and FReLU at
 * 0.1 without BN) instead of a number.
 *
 * Table 2 — CIFAR ResNets of depth 20, 32, 44, 56, 110 on CIFAR-10 and CIFAR-100; test error only.
 * Rows: an activation and a block variant of the paper's Fig. 4 — (a) the original block,
 * (b) no activation after the addition, (c) no BN after the first conv (Shah et al.'s ELU design).
 * "*" in the paper marks the authors' own reproductions of the baselines.
 */
import type { Activation, BlockVariant } from '../nn/models/index.js';

/** A table cell as the paper prints it: a mean (std) in percent, or the name of a failure. */
export type PaperValue = { mean: number; std: number } | 'not converge' | 'exploding';

const v = (mean: number, std: number): PaperValue => ({ mean, std });

// ── Table 1 ──

/** Row keys of Table 1, in the paper's order (also the values of `--rows`). */
export const TABLE1_ROW_KEYS = ['relu', 'elu', 'frelu', 'bn-relu', 'bn-elu', 'bn-frelu'] as const;
export type Table1RowKey = (typeof TABLE1_ROW_KEYS)[number];

export interface Table1Row {
  key: Table1RowKey;
  /** As the paper labels the row. */
  label: string;
  activation: Activation;
  batchNorm: boolean;
}

export const TABLE1_ROWS: readonly Table1Row[] = [
  { key: 'relu', label: 'ReLU', activation: 'relu', batchNorm: false },
  { key: 'elu', label: 'ELU', activation: 'elu', batchNorm: false },
  { key: 'frelu', label: 'FReLU', activation: 'frelu', batchNorm: false },
  { key: 'bn-relu', label: 'BN+ReLU', activation: 'relu', batchNorm: true },
  { key: 'bn-elu', label: 'BN+ELU', activation: 'elu', batchNorm: true },
  { key: 'bn-frelu', label: 'BN+FReLU', activation: 'frelu', batchNorm: true },
];

/** The base learning rates of Table 1's two column groups. */
export const TABLE1_LRS = [0.01, 0.1] as const;

/** Table 1's values: row → learning rate → training and test error (%). */
export const TABLE1: Readonly<Record<Table1RowKey, Readonly<Record<'0.01' | '0.1', { train: PaperValue; test: PaperValue }>>>> = {
  relu: { '0.01': { train: v(44.2, 0.31), test: v(40.55, 0.25) }, '0.1': { train: 'not converge', test: 'not converge' } },
  elu: { '0.01': { train: v(40.79, 0.14), test: v(37.55, 0.47) }, '0.1': { train: 'exploding', test: 'exploding' } },
  frelu: { '0.01': { train: v(38.69, 0.17), test: v(36.87, 0.35) }, '0.1': { train: 'exploding', test: 'exploding' } },
  'bn-relu': { '0.01': { train: v(44.07, 0.18), test: v(39.2, 0.32) }, '0.1': { train: v(42.6, 0.16), test: v(38.5, 0.43) } },
  'bn-elu': { '0.01': { train: v(45.1, 0.18), test: v(38.77, 0.18) }, '0.1': { train: v(43.27, 0.11), test: v(37.8, 0.16) } },
  'bn-frelu': { '0.01': { train: v(40.38, 0.26), test: v(37.13, 0.3) }, '0.1': { train: v(38.83, 0.18), test: v(35.82, 0.12) } },
};

/** The paper's Table 1 cell for a row and learning rate, or null when the paper has no such column. */
export function table1Paper(row: Table1RowKey, lr: number): { train: PaperValue; test: PaperValue } | null {
  const key = String(lr);
  return key === '0.01' || key === '0.1' ? TABLE1[row][key] : null;
}

// ── Table 2 ──

/** Row keys of Table 2 (also the values of `--rows`). */
export const TABLE2_ROW_KEYS = ['relu-a', 'elu-a', 'frelu-a', 'elu-c', 'frelu-b'] as const;
export type Table2RowKey = (typeof TABLE2_ROW_KEYS)[number];

export interface Table2Row {
  key: Table2RowKey;
  label: string;
  activation: Activation;
  block: BlockVariant;
}

export const TABLE2_ROWS: readonly Table2Row[] = [
  { key: 'relu-a', label: 'Original (ReLU, a) [5]*', activation: 'relu', block: 'a' },
  { key: 'elu-a', label: 'ELU (a) [1]*', activation: 'elu', block: 'a' },
  { key: 'frelu-a', label: 'FReLU (a)', activation: 'frelu', block: 'a' },
  { key: 'elu-c', label: 'ELU (c) [12]*', activation: 'elu', block: 'c' },
  { key: 'frelu-b', label: 'FReLU (b)', activation: 'frelu', block: 'b' },
];

export const TABLE2_DEPTHS = [20, 32, 44, 56, 110] as const;
export type Table2Depth = (typeof TABLE2_DEPTHS)[number];

export type Table2Dataset = 'cifar10' | 'cifar100';

/**
 * Table 2's test errors (%): data set → row → one value per depth of TABLE2_DEPTHS. CIFAR-100 has
 * only three rows in the paper (Original, ELU (c), FReLU (b)).
 */
export const TABLE2: Readonly<Record<Table2Dataset, Partial<Record<Table2RowKey, readonly PaperValue[]>>>> = {
  cifar10: {
    'relu-a': [v(8.12, 0.18), v(7.28, 0.19), v(6.97, 0.24), v(6.87, 0.54), v(6.82, 0.63)],
    'elu-a': [v(8.04, 0.08), v(7.62, 0.21), v(7.51, 0.22), v(7.71, 0.26), v(8.21, 0.21)],
    'frelu-a': [v(8.1, 0.18), v(7.3, 0.17), v(6.91, 0.25), v(6.54, 0.22), v(6.2, 0.23)],
    'elu-c': [v(8.28, 0.09), v(7.07, 0.17), v(6.78, 0.1), v(6.54, 0.2), v(5.86, 0.14)],
    'frelu-b': [v(8.0, 0.14), v(6.99, 0.11), v(6.58, 0.19), v(6.31, 0.2), v(5.71, 0.19)],
  },
  cifar100: {
    'relu-a': [v(31.93, 0.13), v(30.16, 0.32), v(29.3, 0.45), v(29.19, 0.61), v(28.48, 0.85)],
    'elu-c': [v(31.9, 0.36), v(30.39, 0.37), v(29.34, 0.39), v(28.81, 0.42), v(27.02, 0.32)],
    'frelu-b': [v(31.84, 0.3), v(29.95, 0.27), v(29.02, 0.25), v(28.07, 0.47), v(26.7, 0.38)],
  },
};

/** The rows the paper reports for each data set of Table 2, in its order. */
export function table2RowsOf(dataset: Table2Dataset): Table2RowKey[] {
  return TABLE2_ROW_KEYS.filter((k) => TABLE2[dataset][k] !== undefined);
}

/** The paper's Table 2 value, or null when the paper has no such cell (a row, depth or data set it did not run). */
export function table2Paper(dataset: string, row: Table2RowKey, depth: number): PaperValue | null {
  if (dataset !== 'cifar10' && dataset !== 'cifar100') return null;
  const i = TABLE2_DEPTHS.indexOf(depth as Table2Depth);
  const values = TABLE2[dataset][row];
  return i < 0 || values === undefined ? null : values[i];
}

/** He et al. 2016 (the original ResNet paper), CIFAR-10 test error (%) of the original ResNets, by depth. */
export const HE_2016_CIFAR10: Readonly<Record<Table2Depth, number>> = { 20: 8.75, 32: 7.51, 44: 7.17, 56: 6.97, 110: 6.43 };

/** "44.20 (0.31)", or the failure's name, as the paper prints a cell. */
export function formatPaperValue(p: PaperValue | null): string {
  if (p === null) return '—';
  return typeof p === 'string' ? p : `${p.mean.toFixed(2)} (${p.std.toFixed(2)})`;
}
