/**
 * `gradlab reproduce` end to end on the synthetic set, with real `gradlab train` child processes on
 * the reference backend (4 training and 4 test images per run, so each job takes seconds):
 *   - a 2-epoch, 2-seed, 2-row Table 1 run writes the table, the JSON and the figures, and its
 *     numbers are the jobs' own;
 *   - a job killed after its first epoch (its files put back to that moment: the epoch-1 checkpoint
 *     and metrics, no summary) resumes from the checkpoint and ends with exactly the numbers of the
 *     uninterrupted run, while the finished jobs are not touched;
 *   - lr 1000 makes SmallNet's loss explode, and the table says "exploding" (through the CLI);
 *   - the dry run's estimate is the measured step times × the steps left.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCheckpoint, type EpochRecord, type TrainSummary } from '../src/experiments/train/index.js';
import { buildReport, estimate, jobList, markdownTable, resolveProtocol, runJobs, writeReport } from '../src/experiments/reproduce/index.js';
import { command } from '../src/cli/reproduce.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'gradlab-reproduce-run-'));
  dirs.push(d);
  return d;
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TINY = { datasets: ['synthetic' as const], epochs: 2, limitTrain: 4, limitTest: 4, backend: 'reference' as const };
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
/** What must not depend on the interruption: everything but the timings. */
const numbers = (m: EpochRecord[]) => m.map(({ imagesPerSecond: _i, seconds: _s, ...rest }) => rest);

test('a 2-epoch, 2-seed, 2-row run writes the table, JSON and figures; a killed job resumes, finished jobs are untouched', async () => {
  const out = tempDir();
  const p = resolveProtocol({ table: 'table1', out, rows: ['relu', 'bn-frelu'], lrs: [0.01], seeds: 2, ...TINY });
  const jobs = jobList(p);
  assert.is(jobs.length, 4);
  const killed = jobs[0];
  const kdir = killed.config.outDir;

  // Keep the killed job's files as they were between its epochs 1 and 2.
  const caught: { snapshot: { checkpoint: Buffer; metrics: string } | null } = { snapshot: null };
  const poll = setInterval(() => {
    if (caught.snapshot || !existsSync(join(kdir, 'metrics.json'))) return;
    const metrics = readFileSync(join(kdir, 'metrics.json'), 'utf8');
    if ((JSON.parse(metrics) as EpochRecord[]).length !== 1) return;
    const checkpoint = readFileSync(join(kdir, 'checkpoint.gckpt'));
    const saved = decodeCheckpoint(checkpoint) as { epoch: number };
    if (saved.epoch === 1) caught.snapshot = { checkpoint, metrics };
  }, 20);
  let outcomes;
  try {
    outcomes = await runJobs(jobs, { parallel: 2 });
  } finally {
    clearInterval(poll);
  }
  assert.equal(outcomes.map((o) => [o.action, o.exitCode, o.finished]), jobs.map(() => ['ran', 0, true]));

  const report = buildReport(p, jobs);
  const paths = writeReport(report);
  for (const name of ['report.md', 'results.json', 'results.csv', 'runs.csv', 'figure-synthetic-lr0.01-nobn.svg', 'figure-synthetic-lr0.01-bn.svg']) {
    assert.ok(paths.includes(join(out, name)) && existsSync(join(out, name)), `wrote ${name}`);
  }
  const json = readJson<{ reduced: boolean; cells: { row: string; counts: Record<string, number>; best: { test: { mean: number } | null } }[] }>(join(out, 'results.json'));
  assert.is(json.reduced, true);
  assert.equal(json.cells.map((c) => c.row), ['relu', 'bn-frelu']);
  for (const cell of json.cells) {
    assert.is(cell.counts.missing, 0, `${cell.row}: both seeds finished`);
    const summaries = jobs.filter((j) => j.row === cell.row).map((j) => readJson<TrainSummary>(join(j.config.outDir, 'summary.json')));
    const ok = report.runs.filter((r) => r.row === cell.row && r.status === 'ok');
    if (ok.length > 0) {
      const want = ok.map((r) => summaries.find((s) => s.config.seed === r.seed)!.bestTestError!).reduce((a, b) => a + b, 0) / ok.length;
      assert.ok(Math.abs(cell.best.test!.mean - want) < 1e-12, `${cell.row}: the cell's mean is the mean of the runs' best test errors`);
    }
  }
  const md = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(md, 'Reduced protocol — not comparable to the paper');
  assert.match(md, '| Method | lr 0.01 training | paper | lr 0.01 test | paper |');
  assert.match(markdownTable(report, 'best', 'synthetic'), '| BN+FReLU |');
  assert.match(readFileSync(join(out, 'figure-synthetic-lr0.01-bn.svg'), 'utf8'), 'BN+FReLU test');

  // The kill: the job's files as they were after epoch 1.
  const snapshot = caught.snapshot;
  if (snapshot === null) return assert.unreachable('the killed job was not caught between its epochs');
  const uninterrupted = readJson<EpochRecord[]>(join(kdir, 'metrics.json'));
  writeFileSync(join(kdir, 'checkpoint.gckpt'), snapshot.checkpoint);
  writeFileSync(join(kdir, 'metrics.json'), snapshot.metrics);
  rmSync(join(kdir, 'summary.json'));
  const files = (j: (typeof jobs)[number]) => ['summary.json', 'metrics.json', 'checkpoint.gckpt', 'train.log'].map((f) => join(j.config.outDir, f));
  const before = jobs.slice(1).flatMap(files).map((f) => [f, statSync(f).mtimeMs, readFileSync(f).length] as const);

  const again = await runJobs(jobs, { parallel: 2 });
  assert.equal(again.map((o) => o.action), ['resumed', 'skipped', 'skipped', 'skipped']);
  assert.ok(again[0].finished);
  const log = readFileSync(join(kdir, 'train.log'), 'utf8');
  assert.match(log, /--resume\n/);
  assert.match(log, 'after epoch 1');
  assert.equal(numbers(readJson<EpochRecord[]>(join(kdir, 'metrics.json'))), numbers(uninterrupted), 'the resumed run ends with the uninterrupted numbers');
  const after = jobs.slice(1).flatMap(files).map((f) => [f, statSync(f).mtimeMs, readFileSync(f).length] as const);
  assert.equal(after, before, 'finished jobs were not touched');

  // Nothing left to do: the estimate times nothing and is zero.
  const est = await estimate(jobs, 2);
  assert.equal([est.timings.length, est.totalSeconds], [0, 0]);
});

test('the divergence rule triggers on an lr that explodes (SmallNet, lr 1000), through the CLI', async () => {
  const out = tempDir();
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.join(' '));
  let code: number;
  try {
    code = await command.run(['table1', '--dataset', 'synthetic', '--rows', 'relu', '--lrs', '1000', '--seeds', '1', '--epochs', '1', '--limit-train', '4', '--limit-test', '4', '--backend', 'reference', '--out', out]);
  } finally {
    console.log = log;
  }
  assert.is(code, 0, lines.join('\n'));
  const runs = readJson<{ runs: { status: string; reason: string }[] }>(join(out, 'results.json')).runs;
  assert.is(runs[0].status, 'exploding');
  assert.match(runs[0].reason, /loss .* > 10·ln 10 = 23\.0|loss (NaN|Infinity)|stopped being finite/);
  assert.match(lines.join('\n'), '| ReLU | exploding | — | exploding | — |');
});

test('dry run: the estimate is the measured step and test-batch times × what is left', async () => {
  const p = resolveProtocol({ table: 'table1', out: tempDir(), rows: ['elu'], lrs: [0.01], seeds: 1, ...TINY, epochs: 3 });
  const est = await estimate(jobList(p), 1);
  assert.is(est.timings.length, 1);
  const t = est.timings[0];
  assert.is(t.batchSize, 4, 'the batch is the 4 images of the limited set');
  assert.ok(t.trainStep > 0 && t.evalBatch > 0);
  // 3 epochs × (1 training step + 1 test batch)
  assert.ok(Math.abs(est.totalSeconds - 3 * (t.trainStep + t.evalBatch)) < 1e-9);
  assert.is(est.jobs[0].epochsLeft, 3);
});

test.run();
