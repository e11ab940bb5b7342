/**
 * The post-paper FReLU rules through `gradlab train` and `gradlab reproduce`: off by default,
 * recorded in summary.json and protocol.json, passed to every job, named in the report's title and
 * deviations; metrics.csv carries each FReLU layer's mean |∂E/∂b| beside its b.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train, resolveTrainConfig, type EpochRecord, type TrainSummary } from '../src/experiments/train/index.js';
import { buildReport, deviations, jobList, markdownReport, resolveProtocol, trainArgs } from '../src/experiments/reproduce/index.js';
import { command as trainCommand } from '../src/cli/train.js';
import { command as reproduceCommand } from '../src/cli/reproduce.js';

const root = mkdtempSync(join(tmpdir(), 'gradlab-frelu-post-'));

test('train config: the paper by default (scale 1, b unconstrained); the options are checked', () => {
  const c = resolveTrainConfig({});
  assert.is(c.freluBGradScale, 1);
  assert.is(c.freluBKeepNonPositive, false);
  assert.throws(() => resolveTrainConfig({ freluBGradScale: -0.1 }), /train: freluBGradScale must be a number ≥ 0; got -0.1/);
});

test('train (reference): summary.json records the rules; metrics.csv has freluAbsDb per layer = the mean |∂E/∂b| over the steps', async () => {
  const outDir = join(root, 'run');
  const summary = await train({
    dataset: 'synthetic', backend: 'reference', limitTrain: 8, limitTest: 4, batchSize: 4, epochs: 1, lr: 0.02, outDir,
    freluBGradScale: 0.1, freluBKeepNonPositive: true,
  });
  const saved = JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')) as TrainSummary;
  assert.is(saved.config.freluBGradScale, 0.1);
  assert.is(saved.config.freluBKeepNonPositive, true);
  assert.is(summary.status, 'completed');
  const records = JSON.parse(readFileSync(join(outDir, 'metrics.json'), 'utf8')) as EpochRecord[];
  const layers = ['features.2', 'features.7', 'features.12', 'classifier.2'];
  assert.equal(Object.keys(records[0].freluAbsDb!), layers);
  for (const v of Object.values(records[0].freluAbsDb!)) assert.ok(Number.isFinite(v) && v > 0, `mean |db| ${v} is positive`);
  for (const b of Object.values(records[0].freluB)) assert.ok(typeof b === 'number' && b <= 0, `b ${b} kept ≤ 0`);
  const [header, row] = readFileSync(join(outDir, 'metrics.csv'), 'utf8').trim().split('\n');
  const cols = header.split(',');
  assert.equal(cols.slice(8), layers.flatMap((l) => [`freluB:${l}`, `freluAbsDb:${l}`]));
  const cells = row.split(',');
  for (const l of layers) assert.is(Number(cells[cols.indexOf(`freluAbsDb:${l}`)]), records[0].freluAbsDb![l]);
});

test('gradlab train --help names both flags as post-paper; the flags reach the config', async () => {
  assert.match(trainCommand.help, /--frelu-b-grad-scale X\s+post-paper \(authors' later code\)/);
  assert.match(trainCommand.help, /--frelu-b-nonpositive\s+post-paper \(authors' later code\)/);
  assert.match(reproduceCommand.help, /--frelu-b-grad-scale X\s+post-paper \(authors' later code\)/);
  assert.match(reproduceCommand.help, /--frelu-b-nonpositive\s+post-paper \(authors' later code\)/);
  const outDir = join(root, 'cli');
  const code = await trainCommand.run([
    '--dataset', 'synthetic', '--backend', 'reference', '--limit-train', '4', '--limit-test', '4', '--batch-size', '4', '--epochs', '1',
    '--frelu-b-grad-scale', '0.25', '--frelu-b-nonpositive', '--out', outDir,
  ]);
  assert.is(code, 0);
  const saved = JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')) as TrainSummary;
  assert.equal([saved.config.freluBGradScale, saved.config.freluBKeepNonPositive], [0.25, true]);
});

test('reproduce: the rules go to every job, the report title and the deviations say post-paper', () => {
  const paper = resolveProtocol({ table: 'table1', out: join(root, 'paper'), rows: ['bn-frelu'], lrs: [0.1], seeds: 1, epochs: 1 });
  assert.ok(!trainArgs(jobList(paper)[0], false).some((a) => a.startsWith('--frelu-b')), 'the paper: no post-paper flag');
  assert.ok(!markdownReport(buildReport(paper, jobList(paper))).split('\n')[0].includes('post-paper'));

  const p = resolveProtocol({ table: 'table1', out: join(root, 'fix'), rows: ['bn-frelu'], lrs: [0.1], seeds: 1, epochs: 1, freluBGradScale: 0.1, freluBKeepNonPositive: true });
  const job = jobList(p)[0];
  assert.equal([job.config.freluBGradScale, job.config.freluBKeepNonPositive], [0.1, true]);
  const args = trainArgs(job, false);
  assert.equal(args.slice(args.indexOf('--frelu-b-grad-scale'), args.indexOf('--frelu-b-grad-scale') + 2), ['--frelu-b-grad-scale', '0.1']);
  assert.ok(args.includes('--frelu-b-nonpositive'));
  const title = markdownReport(buildReport(p, jobList(p))).split('\n')[0];
  assert.match(title, /^# gradlab reproduce table1: .* — with post-paper FReLU rules \(authors' later code\): FReLU b's gradient ×0\.1; FReLU b kept ≤ 0/);
  assert.ok(deviations(p).includes("post-paper (authors' later code): FReLU b's gradient ×0.1 (paper: eq. 3, b unconstrained)"));
});

test.run();
