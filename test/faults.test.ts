/**
 * Issue 15's faults, each reproduced (§1 NaN, §4 files, §6 messages, and reproduce's running vs
 * failed): a NaN in a checkpoint is refused on --resume with the tensor named; a NaN in BN's
 * running statistics is found although the loss is finite; a diverged run's summary names only
 * files that exist; stale temporary files are cleaned; unusable output folders are refused at
 * once; a corrupt checkpoint is named; a job another process is running is not counted failed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, train, type CheckpointValue, type TrainSummary } from '../src/experiments/train/index.js';
import { nonFiniteState } from '../src/experiments/train/loop.js';
import { jobList, resolveProtocol, runJobs } from '../src/experiments/reproduce/index.js';
import { LOCK_FILE } from '../src/node/files.js';
import { smallNet } from '../src/nn/models/index.js';
import type { Module } from '../src/nn/module.js';
import * as g from '../src/index.js';
import { command as reproduceCommand } from '../src/cli/reproduce.js';
import { launchTrain, outcomeSummary } from '../src/experiments/reproduce/runner.js';
import { bundleLab } from '../src/node/lab/bundle.js';

const root = mkdtempSync(join(tmpdir(), 'gradlab-faults-'));
const TINY = { dataset: 'synthetic', backend: 'reference', limitTrain: 4, limitTest: 4, batchSize: 4, augment: false } as const;

async function rejects(p: Promise<unknown>, re: RegExp): Promise<string> {
  try {
    await p;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    assert.match(message, re);
    return message;
  }
  throw new Error(`expected a rejection matching ${re}`);
}

/** Rewrites a checkpoint with `edit` applied to its decoded value. */
function editCheckpoint(path: string, edit: (model: Record<string, { values: Float32Array }>) => void): void {
  const value = decodeCheckpoint(readFileSync(path), path);
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) throw new Error('not a record');
  const model = Reflect.get(value, 'model') as Record<string, { values: Float32Array }>;
  edit(model);
  writeFileSync(path, encodeCheckpoint(value as CheckpointValue));
}

test('§1: --resume of a checkpoint with one NaN weight (or NaN BN statistic) is refused, naming the tensor', async () => {
  const outDir = join(root, 'nan-resume');
  await train({ ...TINY, epochs: 1, outDir });
  const ckpt = join(outDir, 'checkpoint.gckpt');
  editCheckpoint(ckpt, (m) => {
    const name = Object.keys(m).find((k) => k.endsWith('weight') && !k.includes('bn'))!;
    m[name].values[3] = NaN;
  });
  await rejects(train({ ...TINY, epochs: 2, outDir, resume: true }), /cannot resume .*checkpoint\.gckpt: it holds non-finite values in \S+weight \(1 of \d+ values\)/);
  editCheckpoint(ckpt, (m) => {
    for (const v of Object.values(m)) v.values.forEach((x, i) => Number.isNaN(x) && (v.values[i] = 0));
    const name = Object.keys(m).find((k) => k.endsWith('runningVar') || k.endsWith('running_var'))!;
    m[name].values[0] = Infinity;
  });
  await rejects(train({ ...TINY, epochs: 2, outDir, resume: true }), /non-finite values in \S+(runningVar|running_var) \(1 of/);
});

test('§1: the state check finds a NaN BN running statistic that a finite loss hides', () => {
  const model = smallNet({ activation: 'relu', batchNorm: true, classes: 10, backend: 'reference' });
  assert.is(nonFiniteState(model), null);
  const [name, buffer] = model.namedBuffers()[0];
  const values = buffer.toArray();
  values[1] = NaN;
  model.loadStateDict({ ...model.stateDict(), [name]: g.tensor(values, { shape: [...buffer.shape], backend: 'reference' }) });
  assert.match(nonFiniteState(model) ?? '', new RegExp(`${name.replace(/\./g, '\\.')} \\(1 of \\d+ values\\)`));
  model.dispose();
});

test('§1: a NaN in a BN running statistic stops the run at the end of the epoch (finite loss), naming the buffer; the checkpoint stays the last good epoch', async () => {
  const outDir = join(root, 'nan-buffer');
  let model: Module | null = null;
  let poisoned = '';
  const summary = await train({ ...TINY, epochs: 3, outDir }, {
    onStart: (m) => (model = m),
    onEpoch: (record) => {
      if (record.epoch !== 1 || model === null) return;
      // After epoch 1 is saved: one running-variance value becomes NaN. Training mode normalises with
      // the batch's own statistics, so epoch 2's losses stay finite; only the state check can see it.
      const [name, buffer] = model.namedBuffers().find(([n]) => /running_?[vV]ar/.test(n))!;
      const values = buffer.toArray();
      values[0] = NaN;
      buffer.assign(g.tensor(values, { shape: [...buffer.shape], backend: 'reference' }));
      poisoned = name;
    },
  });
  assert.is(summary.status, 'diverged');
  assert.is(summary.divergence?.epoch, 2);
  assert.match(summary.divergence?.reason ?? '', new RegExp(`non-finite values in ${poisoned.replace(/\./g, '\\.')} \\(1 of \\d+ values\\)`));
  assert.is(summary.divergence?.where, 'state', 'found by the state check: every training loss of epoch 2 was finite');
  assert.is(summary.epochsCompleted, 1);
  assert.is(summary.checkpointEpoch, 1, 'the checkpoint is epoch 1, saved before the NaN');
});

test('§4: a run that diverges before any checkpoint names no checkpoint and says none exists', async () => {
  const outDir = join(root, 'diverged');
  const lines: string[] = [];
  const summary = await train({ ...TINY, limitTrain: 8, epochs: 2, lr: 1e30, outDir }, { log: (l) => lines.push(l) });
  assert.is(summary.status, 'diverged');
  assert.is(summary.files.checkpoint, null);
  assert.not.ok(existsSync(join(outDir, 'checkpoint.gckpt')));
  const saved = JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')) as TrainSummary;
  assert.is(saved.files.checkpoint, null);
  assert.not.match(saved.divergence?.reason ?? '', /resume the last checkpoint/);
  const text = lines.join('\n');
  assert.not.match(text, /checkpoint\.gckpt/);
  assert.match(text, /no checkpoint was written/);
});

test('§4: stale temporary files of a killed write are removed at start', async () => {
  const outDir = join(root, 'stale-tmp');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, '.checkpoint.gckpt.99999999.tmp'), 'half a checkpoint');
  const lines: string[] = [];
  await train({ ...TINY, epochs: 1, outDir }, { log: (l) => lines.push(l) });
  assert.not.ok(existsSync(join(outDir, '.checkpoint.gckpt.99999999.tmp')));
  assert.match(lines.join('\n'), /removed 1 temporary file\(s\) left by an interrupted write: \.checkpoint\.gckpt\.99999999\.tmp/);
});

test("§4: --out '' , an unwritable --out (/proc/x) and --resume with --overwrite are refused at once", async () => {
  await rejects(train({ ...TINY, epochs: 1, outDir: '' }), /outDir must name a folder/);
  const t0 = performance.now();
  await rejects(train({ ...TINY, epochs: 1, outDir: '/proc/gradlab-x/y' }), /cannot create the output folder \/proc\/gradlab-x\/y/);
  assert.ok(performance.now() - t0 < 5000, 'refused at once, not after spinning');
  await rejects(train({ ...TINY, epochs: 1, outDir: join(root, 'x'), resume: true, overwrite: true }), /--resume and --overwrite contradict/);
});

test('§4: reproduce --emit, its job logs and the lab bundle refuse an unwritable folder (/proc/x) at once too', async () => {
  const t0 = performance.now();
  const emit = ['table1', '--dataset', 'synthetic', '--rows', 'relu', '--seeds', '1', '--epochs', '1', '--backend', 'reference', '--emit', '--time-per-job', '5', '--out', '/proc/gradlab-x/emit'];
  await rejects(reproduceCommand.run(emit), /reproduce: cannot create the output folder \/proc\/gradlab-x\/emit\/logs/);
  await rejects(Promise.resolve().then(() => launchTrain(['--help'], '/proc/gradlab-x/logs/job.log')), /reproduce: cannot create the log folder \/proc\/gradlab-x\/logs/);
  await rejects(bundleLab('/proc/gradlab-x/lab'), /lab: cannot create the folder \/proc\/gradlab-x\/lab/);
  assert.ok(performance.now() - t0 < 5000, 'refused at once, not after spinning');
});

test('§6: a corrupt checkpoint header names the file', async () => {
  const outDir = join(root, 'corrupt');
  mkdirSync(outDir, { recursive: true });
  const bytes = Buffer.alloc(40);
  bytes.write('GLCKPT01', 0, 'ascii');
  bytes.writeUInt32LE(20, 8);
  bytes.write('{"format": "gradlab', 12, 'utf8'); // cut short
  writeFileSync(join(outDir, 'checkpoint.gckpt'), bytes);
  await rejects(train({ ...TINY, epochs: 1, outDir, resume: true }), /corrupt[\\/]checkpoint\.gckpt: the checkpoint's header is not valid JSON/);
});

test('§6: tensor() names a string as "not a number"; a huge allocation names the op and shape', () => {
  assert.throws(() => g.tensor([[1, 2], [3, 'x' as unknown as number]]), /tensor: values\[1\]\[1\] is not a number; got "x"/);
  assert.throws(() => g.zeros([100000, 100000], { backend: 'reference' }), /zeros: shape \[100000, 100000\]: cannot allocate 10,000,000,000 float32 values/);
  const a = g.ones([100000, 1], { backend: 'reference' });
  assert.throws(() => g.matmul(a, g.ones([1, 100000], { backend: 'reference' })), /matmul: output \[100000, 100000\]: cannot allocate/);
});

test("reproduce: a job whose folder another live process holds counts as running, not failed", async () => {
  const p = resolveProtocol({ table: 'table1', out: join(root, 'repro'), rows: ['relu'], lrs: [0.01], seeds: 1, datasets: ['synthetic'], epochs: 1, limitTrain: 4, limitTest: 4, backend: 'reference' });
  const [job] = jobList(p);
  mkdirSync(job.config.outDir, { recursive: true });
  writeFileSync(join(job.config.outDir, LOCK_FILE), `${process.ppid}\n`); // alive: the test runner's parent
  const lines: string[] = [];
  const [outcome] = await runJobs([job], { log: (l) => lines.push(l) });
  assert.is(outcome.runningElsewhere, process.ppid);
  assert.is(outcome.finished, false);
  assert.match(lines.join('\n'), new RegExp(`running in process ${process.ppid}`));
  assert.not.match(lines.join('\n'), /FAILED/);
  assert.equal(outcomeSummary([outcome]), { line: 'ran 0, resumed 0, skipped 0 finished jobs; 1 running in other processes (the tables wait for them); 0 failed', failed: 0 });
});

test('§6: reproduce names the range of a numeric option, one line for a negative number', async () => {
  const message = async (argv: string[]): Promise<string> => reproduceCommand.run(argv).then(() => 'no error', (e: unknown) => (e instanceof Error ? e.message : String(e)));
  assert.is(await message(['table1', '--epochs', '0', '--dry-run']), "reproduce: --epochs must be an integer ≥ 1; got '0'");
  assert.is(await message(['table1', '--epochs', '-3', '--dry-run']), "reproduce: --epochs must be an integer ≥ 1; got '-3'");
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
