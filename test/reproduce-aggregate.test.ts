/**
 * `gradlab reproduce` without training: the job lists, the lr schedule of a shortened run, where a
 * job stands (done / resume / new / conflict), the divergence rule, and the aggregation — best vs
 * final epoch, mean and sample std over seeds — against hand values on fabricated metrics files in
 * the format `gradlab train` writes (metrics.json: EpochRecord[], summary.json: TrainSummary).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EpochRecord, TrainSummary } from '../src/experiments/train/index.js';
import {
  aggregate,
  buildReport,
  classifyRun,
  deviations,
  formatCell,
  jobList,
  jobState,
  markdownTable,
  readRunResult,
  resolveProtocol,
  scaledMilestones,
  trainArgs,
  writeReport,
  type Job,
} from '../src/experiments/reproduce/index.js';
import { mean, sampleStd } from '../src/util/stats.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'gradlab-reproduce-test-'));
  dirs.push(d);
  return d;
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function near(got: number | null | undefined, want: number, tol: number, label: string): void {
  if (got === null || got === undefined || !(Math.abs(got - want) <= tol)) assert.unreachable(`${label}: got ${got}, expected ${want} (tolerance ${tol})`);
}

/** Metrics as `gradlab train` writes them; losses default to a healthy 2.0. */
function records(train: number[], testErr: number[], loss: (i: number) => [number, number] = () => [2, 2]): EpochRecord[] {
  return testErr.map((t, i) => ({
    epoch: i + 1,
    lr: 0.01,
    trainLoss: loss(i)[0],
    trainError: train[i],
    testLoss: loss(i)[1],
    testError: t,
    imagesPerSecond: 100,
    seconds: 1.5,
    freluB: {},
  }));
}

/** Writes a job directory: metrics.json, summary.json (unless summary is false), a checkpoint if asked. */
function fabricate(job: Job, metrics: EpochRecord[], o: { summary?: boolean; diverged?: boolean; checkpoint?: boolean } = {}): void {
  const dir = job.config.outDir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'metrics.json'), JSON.stringify(metrics));
  if (o.checkpoint) writeFileSync(join(dir, 'checkpoint.gckpt'), 'GLCKPT01');
  if (o.summary === false) return;
  const best = metrics.reduce<EpochRecord | null>((b, r) => (b === null || r.testError < b.testError ? r : b), null);
  const summary: TrainSummary = {
    status: o.diverged ? 'diverged' : 'completed',
    diverged: o.diverged ?? false,
    divergence: o.diverged ? { epoch: metrics.length + 1, batch: 0, where: 'trainLoss', value: 'NaN', reason: 'fabricated', firstNonFiniteOp: null } : null,
    bestTestError: best?.testError ?? null,
    bestEpoch: best?.epoch ?? null,
    finalTestError: metrics.at(-1)?.testError ?? null,
    epochsCompleted: metrics.length,
    parameters: 1,
    config: job.config,
    backend: 'reference',
    gpu: null,
    files: { summary: '', metricsJson: '', metricsCsv: '', checkpoint: '' },
    seconds: 1,
  };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
}

test('scaledMilestones: the recipe from 164 epochs on, the same fractions of a shorter run', () => {
  assert.equal(scaledMilestones(164), [81, 122]);
  assert.equal(scaledMilestones(200), [81, 122]);
  // 10 epochs: round(10·80/164) + 1 = 6, round(10·121/164) + 1 = 8
  assert.equal(scaledMilestones(10), [6, 8]);
  // 82 epochs (half): round(40) + 1 = 41, round(60.5) + 1 = 62
  assert.equal(scaledMilestones(82), [41, 62]);
  assert.equal(scaledMilestones(2), [2]); // both land on epoch 2: one drop
  assert.equal(scaledMilestones(1), []);
});

test('job lists: Table 1 is 6 rows × 2 lrs × 5 seeds of SmallNet on CIFAR-100; Table 2 is 200 ResNet runs', () => {
  const t1 = resolveProtocol({ table: 'table1', out: '/tmp/x' });
  const jobs1 = jobList(t1);
  assert.is(jobs1.length, 60);
  assert.is(new Set(jobs1.map((j) => j.id)).size, 60);
  assert.equal(deviations(t1), [], 'the defaults are the paper protocol');
  const j = jobs1.find((x) => x.id === 'smallnet-frelu-bn-lr0.1-cifar100-seed3')!;
  assert.ok(j, 'a job named from its config');
  assert.is(j.config.activation, 'frelu');
  assert.is(j.config.batchNorm, true);
  assert.is(j.config.lr, 0.1);
  assert.is(j.config.epochs, 164);
  assert.equal(j.config.milestones, [81, 122]);
  assert.is(j.config.outDir, '/tmp/x/smallnet-frelu-bn-lr0.1-cifar100-seed3');
  assert.is(jobs1.filter((x) => !x.config.batchNorm && x.config.lr === 0.01).length, 15);

  const jobs2 = jobList(resolveProtocol({ table: 'table2', out: '/tmp/y' }));
  assert.is(jobs2.length, 5 * 5 * 5 + 3 * 5 * 5);
  assert.equal([...new Set(jobs2.filter((x) => x.dataset === 'cifar100').map((x) => x.row))], ['relu-a', 'elu-c', 'frelu-b']);
  const r = jobs2.find((x) => x.id === 'resnet110-frelu-block-b-lr0.1-cifar10-seed5')!;
  assert.ok(r);
  assert.is(r.config.block, 'b');

  const args = trainArgs(j, true);
  const flag = (name: string) => args[args.indexOf(name) + 1];
  assert.is(args[0], 'train');
  assert.is(flag('--model'), 'smallnet');
  assert.ok(args.includes('--bn'));
  assert.is(flag('--lr'), '0.1');
  assert.is(flag('--milestones'), '81,122');
  assert.is(flag('--seed'), '3');
  assert.is(args.at(-1), '--resume');
});

test('reduced protocols are labelled, and bad options name themselves', () => {
  const p = resolveProtocol({ table: 'table1', out: '/tmp/x', epochs: 10, seeds: 2, datasets: ['synthetic'], limitTrain: 100 });
  const d = deviations(p).join(' | ');
  assert.match(d, '10 epochs');
  assert.match(d, 'epochs 6 and 8');
  assert.match(d, '2 seeds');
  assert.match(d, 'synthetic');
  assert.match(d, 'first 100 training images');
  assert.throws(() => resolveProtocol({ table: 'table1', rows: ['relu', 'gelu'] }), /table1 rows are .*got gelu/);
  assert.throws(() => resolveProtocol({ table: 'table1', depths: [20] }), /depths are for table2/);
  assert.throws(() => resolveProtocol({ table: 'table2', depths: [21] }), /6n\+2/);
  assert.throws(() => resolveProtocol({ table: 'table2', lrs: [0.1] }), /lrs are for table1/);
});

test('mean and sample standard deviation (n − 1) against hand values', () => {
  // [0.5, 0.47, 0.52]: mean 1.49/3; squared deviations 1/90000·(1 + 64 + 49) = 114/90000; / (n − 1) = 2
  near(mean([0.5, 0.47, 0.52]), 1.49 / 3, 1e-15, 'mean');
  near(sampleStd([0.5, 0.47, 0.52]), Math.sqrt(114 / 90000 / 2), 1e-15, 'sample std');
  near(sampleStd([1, 3]), Math.SQRT2, 1e-15, 'sample std of [1, 3] (population std would be 1)');
  assert.is(sampleStd([0.4]), null, 'one value has no sample std');
  assert.throws(() => mean([]), /no values/);
});

test('divergence rule: non-finite or loss > 10·ln K is exploding; final training error ≥ 1 − 1.5/K is not converge', () => {
  const ok = records([0.7, 0.6], [0.65, 0.55]);
  assert.is(classifyRun(ok, false, 10).status, 'ok');
  assert.is(classifyRun(ok, true, 10).status, 'exploding', 'train stopped on a non-finite loss');
  // 10·ln 10 = 23.03: a training loss of 24 has blown up, 23 has not
  assert.is(classifyRun(records([0.7, 0.6], [0.6, 0.6], (i) => [i === 1 ? 24 : 2, 2]), false, 10).status, 'exploding');
  assert.is(classifyRun(records([0.7, 0.6], [0.6, 0.6], () => [23, 2]), false, 10).status, 'ok');
  assert.is(classifyRun(records([0.7, 0.6], [0.6, 0.6], () => [2, 1e17]), false, 10).status, 'exploding', 'a test loss counts too');
  assert.match(classifyRun(records([0.7], [0.6], () => [2, NaN]), false, 10).reason!, 'test loss NaN');
  // K = 10: not converge from 85% final training error; K = 100: from 98.5%
  assert.is(classifyRun(records([0.5, 0.86], [0.6, 0.9]), false, 10).status, 'not converge');
  assert.is(classifyRun(records([0.5, 0.84], [0.6, 0.9]), false, 10).status, 'ok');
  assert.is(classifyRun(records([0.99, 0.99], [0.99, 0.99], () => [4.6, 4.6]), false, 100).status, 'not converge');
  assert.is(classifyRun(records([0.99, 0.98], [0.99, 0.97], () => [4.6, 4.6]), false, 100).status, 'ok');
});

test('aggregation: best vs final epoch, mean (sample std) over seeds, failures as the paper prints them', () => {
  const out = tempDir();
  const p = resolveProtocol({ table: 'table1', out, rows: ['relu', 'bn-frelu'], seeds: 3, epochs: 3 });
  const jobs = jobList(p);
  const find = (row: string, lr: number, seed: number) => jobs.find((j) => j.row === row && j.column === lr && j.seed === seed)!;
  // ReLU, lr 0.01 — best epochs 2, 3, 2; final = epoch 3
  fabricate(find('relu', 0.01, 1), records([0.7, 0.6, 0.52], [0.6, 0.5, 0.55]));
  fabricate(find('relu', 0.01, 2), records([0.75, 0.58, 0.5], [0.62, 0.48, 0.47]));
  fabricate(find('relu', 0.01, 3), records([0.71, 0.62, 0.55], [0.58, 0.52, 0.56]));
  // ReLU, lr 0.1 — every seed stuck at chance (99% training error on 100 classes)
  for (const s of [1, 2, 3]) fabricate(find('relu', 0.1, s), records([0.99, 0.99, 0.99], [0.99, 0.99, 0.99], () => [4.61, 4.61]));
  // BN+FReLU, lr 0.01 — seed 3 explodes (loss 1e6 > 10·ln 100 = 46)
  fabricate(find('bn-frelu', 0.01, 1), records([0.6, 0.5, 0.45], [0.5, 0.45, 0.44]));
  fabricate(find('bn-frelu', 0.01, 2), records([0.6, 0.5, 0.45], [0.52, 0.43, 0.46]));
  fabricate(find('bn-frelu', 0.01, 3), records([0.9, 0.95], [0.9, 0.95], (i) => [i === 0 ? 4 : 1e6, 4]));
  // BN+FReLU, lr 0.1 — seed 1 diverged (non-finite loss in epoch 2), seeds 2 and 3 never ran
  fabricate(find('bn-frelu', 0.1, 1), records([0.8], [0.7]), { diverged: true });

  const report = buildReport(p, jobs);
  const cell = (row: string, lr: number) => report.cells.find((c) => c.row === row && c.column === lr)!;

  const relu = cell('relu', 0.01);
  assert.equal(relu.counts, { ok: 3, exploding: 0, notConverge: 0, missing: 0 });
  // best test errors 0.5, 0.47, 0.52 (epochs 2, 3, 2); training errors of those epochs 0.6, 0.5, 0.62
  near(relu.best.test!.mean, 1.49 / 3, 1e-12, 'best test mean');
  near(relu.best.test!.std, Math.sqrt(114 / 90000 / 2), 1e-12, 'best test std');
  near(relu.best.train!.mean, 1.72 / 3, 1e-12, 'training error at the best epoch, mean');
  // final test errors 0.55, 0.47, 0.56: mean 1.58/3, squared deviations (49 + 289 + 100)/90000 → /2
  near(relu.final.test!.mean, 1.58 / 3, 1e-12, 'final test mean');
  near(relu.final.test!.std, Math.sqrt(438 / 90000 / 2), 1e-12, 'final test std');
  near(relu.final.train!.mean, 1.57 / 3, 1e-12, 'final training mean');
  assert.is(formatCell(relu, relu.best.test), '49.67 (2.52)');
  assert.is(formatCell(relu, relu.final.test), '52.67 (4.93)');
  assert.equal(relu.paper.test, { mean: 40.55, std: 0.25 }, "the paper's Table 1 value for ReLU at lr 0.01");

  const stuck = cell('relu', 0.1);
  // every run stuck at chance: the paper's label, then those runs' (real) errors
  assert.is(formatCell(stuck, stuck.best.test), 'not converge — 99.00 (0.00)');
  assert.is(stuck.paper.test, 'not converge');

  const bn = cell('bn-frelu', 0.01);
  assert.equal(bn.counts, { ok: 2, exploding: 1, notConverge: 0, missing: 0 });
  near(bn.best.test!.mean, 0.435, 1e-12, 'exploded run left out: best of 0.44 and 0.43');
  assert.is(formatCell(bn, bn.best.test), '43.50 (0.71) [1/3 exploding]');

  const partial = cell('bn-frelu', 0.1);
  assert.equal(partial.counts, { ok: 0, exploding: 1, notConverge: 0, missing: 2 });
  assert.is(formatCell(partial, partial.best.test), 'exploding [2/3 not run]');

  const table = markdownTable(report, 'best', 'cifar100');
  assert.match(table, '| ReLU | 57.33 (6.43) | 44.20 (0.31) | 49.67 (2.52) | 40.55 (0.25) | not converge — 99.00 (0.00) | not converge | not converge — 99.00 (0.00) | not converge |');
  // BN+FReLU at 0.01: best epochs 3 and 2, whose training errors are 0.45 and 0.5
  assert.match(table, '| BN+FReLU | 47.50 (3.54) [1/3 exploding] | 40.38 (0.26) | 43.50 (0.71) [1/3 exploding] | 37.13 (0.30) | exploding [2/3 not run]');
  assert.is(aggregate(p, jobs, report.runs).length, 4);

  const paths = writeReport(report);
  for (const name of ['report.md', 'results.json', 'results.csv', 'runs.csv', 'figure-cifar100-lr0.01-nobn.svg', 'figure-cifar100-lr0.01-bn.svg', 'figure-cifar100-lr0.1-bn.svg']) {
    assert.ok(paths.includes(join(out, name)), `wrote ${name}`);
  }
  const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.is(json.reduced, true);
  assert.is(json.cells.length, 4);
  const md = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(md, 'Reduced protocol — not comparable to the paper');
  assert.match(md, '3 epochs');
  const csvLine = readFileSync(join(out, 'results.csv'), 'utf8').split('\n').find((l) => l.startsWith('table1,cifar100,relu,0.01,best,'));
  assert.is(csvLine, 'table1,cifar100,relu,0.01,best,3,3,0,0,0,57.3333,6.4291,49.6667,2.5166,44.2,0.31,40.55,0.25');
  const svg = readFileSync(join(out, 'figure-cifar100-lr0.01-nobn.svg'), 'utf8');
  assert.match(svg, 'ReLU test');
  assert.match(svg, 'ReLU train');
  assert.match(svg, 'mean of 3 seeds, band min–max');
  assert.match(svg, '<polygon', 'a min–max band over the seeds');
});

test('Table 2 layout: depth columns, the paper beside each cell, "—" where the paper has no such cell', () => {
  const out = tempDir();
  const p = resolveProtocol({ table: 'table2', out, rows: ['frelu-b', 'elu-a'], depths: [20], seeds: 2, epochs: 2 });
  const jobs = jobList(p);
  assert.is(jobs.length, 2 * 2 * 2, '2 data sets × 2 rows × 1 depth × 2 seeds');
  const job = (dataset: string, row: string, seed: number) => jobs.find((j) => j.dataset === dataset && j.row === row && j.seed === seed)!;
  fabricate(job('cifar10', 'frelu-b', 1), records([0.3, 0.2], [0.25, 0.1]));
  fabricate(job('cifar10', 'frelu-b', 2), records([0.3, 0.2], [0.2, 0.12]));
  // CIFAR-100 FReLU (b): seed 1 stuck at chance (not converge, but its errors count), seed 2 learning
  fabricate(job('cifar100', 'frelu-b', 1), records([0.99, 0.99], [0.99, 0.99], () => [4.61, 4.61]));
  fabricate(job('cifar100', 'frelu-b', 2), records([0.9, 0.8], [0.85, 0.7]));
  const report = buildReport(p, jobs);
  // best test errors 0.99 and 0.70: mean 84.50 %, sample std 0.29/√2 = 20.51 %
  assert.match(markdownTable(report, 'best', 'cifar100'), '| FReLU (b) | 84.50 (20.51) [1/2 not converge] | 31.84 (0.30) |');
  // best test errors 0.10 and 0.12: mean 11.00 %, sample std √((0.01² + 0.01²)/1) = 1.41 %
  assert.match(markdownTable(report, 'best', 'cifar10'), '| FReLU (b) | 11.00 (1.41) | 8.00 (0.14) |');
  assert.match(markdownTable(report, 'best', 'cifar10'), '| ELU (a) [1]* | not run | 8.04 (0.08) |');
  assert.match(markdownTable(report, 'best', 'cifar100'), '| ELU (a) [1]* | not run | — |');
  assert.match(markdownTable(report, 'best', 'cifar10'), '| Method | ResNet-20 | paper |');
});

test('job state: done, resume (checkpoint without summary, or more epochs), new, and a conflicting setup', () => {
  const out = tempDir();
  const p = resolveProtocol({ table: 'table1', out, rows: ['elu'], lrs: [0.01], seeds: 4, epochs: 3, milestones: [] });
  const [a, b, c, d] = jobList(p);
  fabricate(a, records([0.7, 0.6, 0.5], [0.6, 0.5, 0.4]), { checkpoint: true });
  fabricate(b, records([0.7], [0.6]), { summary: false, checkpoint: true });
  assert.equal(jobState(a), { kind: 'done', epochsCompleted: 3, diverged: false });
  assert.equal(jobState(b), { kind: 'resume', epochsCompleted: 1 });
  assert.equal(jobState(c), { kind: 'new' });
  assert.is(readRunResult(b).status, 'missing');

  // The same directory asked for 5 epochs: the finished run continues (milestones unchanged).
  const longer = jobList(resolveProtocol({ table: 'table1', out, rows: ['elu'], lrs: [0.01], seeds: 4, epochs: 5, milestones: [] }));
  assert.equal(jobState(longer[0]), { kind: 'resume', epochsCompleted: 3 });
  // …or 2 epochs: done, and the report counts only the first 2.
  const shorter = jobList(resolveProtocol({ table: 'table1', out, rows: ['elu'], lrs: [0.01], seeds: 4, epochs: 2, milestones: [] }));
  assert.is(jobState(shorter[0]).kind, 'done');
  near(readRunResult(shorter[0]).final!.testError, 0.5, 0, 'final epoch of the 2-epoch protocol');

  // A directory that ran another setup is refused, naming what differs.
  mkdirSync(d.config.outDir, { recursive: true });
  writeFileSync(join(d.config.outDir, 'job.json'), JSON.stringify({ config: { ...d.config, weightDecay: 5e-4 } }));
  assert.throws(() => jobState(d), /different setup \(weightDecay 0\.0005, now 0\.0001\)/);
  assert.ok(!existsSync(join(c.config.outDir, 'summary.json')));
});

test.run();
