/**
 * CI smoke test of `gradlab train` on the synthetic set (no downloads): a few batches on each
 * backend, checking that the output files exist and hold sane values — errors in [0, 1], finite
 * losses, the learning rate as scheduled, FReLU b per layer — and that a diverging run is stopped
 * and reported.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { wantsCpuMalloc } from '../src/node/malloc.js';
import { train, resolveTrainConfig, type EpochRecord, type TrainSummary } from '../src/experiments/train/index.js';
import { command } from '../src/cli/train.js';
import { smallNet } from '../src/nn/models/index.js';

const root = mkdtempSync(join(tmpdir(), 'gradlab-train-'));
const gpuMode = process.env.GRADLAB_GPU_MODE ?? 'webasm';

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function checkRecords(records: EpochRecord[], lrs: number[]): void {
  assert.is(records.length, lrs.length);
  records.forEach((r, i) => {
    assert.is(r.epoch, i + 1);
    assert.is(r.lr, lrs[i], `lr of epoch ${i + 1}`);
    for (const k of ['trainError', 'testError'] as const) assert.ok(r[k] >= 0 && r[k] <= 1, `${k} ${r[k]} is a fraction`);
    for (const k of ['trainLoss', 'testLoss', 'imagesPerSecond'] as const) assert.ok(Number.isFinite(r[k]) && r[k] > 0, `${k} ${r[k]} is finite and positive`);
    // SmallNet has four FReLU layers (three after the convs, one after the hidden Linear), b starting at −1
    assert.equal(Object.keys(r.freluB), ['features.2', 'features.7', 'features.12', 'classifier.2']);
    for (const b of Object.values(r.freluB)) assert.ok(typeof b === 'number' && Number.isFinite(b) && b !== -1);
  });
}

test('defaults are the paper protocol; SmallNet without BN defaults to lr 0.01', () => {
  const c = resolveTrainConfig({});
  assert.equal(
    [c.model, c.activation, c.batchNorm, c.dataset, c.epochs, c.lr, c.milestones, c.gamma, c.batchSize, c.momentum, c.nesterov, c.weightDecay, c.noDecayBnAndB, c.augment],
    ['smallnet', 'frelu', true, 'cifar100', 164, 0.1, [81, 122], 0.1, 128, 0.9, true, 1e-4, false, true],
  );
  assert.is(resolveTrainConfig({ batchNorm: false }).lr, 0.01);
  assert.throws(() => resolveTrainConfig({ lr: NaN }), /lr must be a number ≥ 0; got NaN$/); // NaN, not JSON's null
  assert.throws(() => resolveTrainConfig({ outDir: '' }), /outDir must name a folder/);
  // A misspelled or PyTorch-spelled option is an error, not a silently ignored setting.
  assert.throws(() => resolveTrainConfig({ epoch: 3 } as object), /^train: unknown option 'epoch'; accepted options: model, activation, .*, resume, overwrite$/);
  assert.throws(() => resolveTrainConfig({ weight_decay: 0 } as object), /train: unknown option 'weight_decay' \(gradlab calls it weightDecay\)/);
  assert.is(resolveTrainConfig({ model: 'resnet110' }).lr, 0.1);
  assert.throws(() => resolveTrainConfig({ model: 'resnet56', batchNorm: false }), /always has batch normalisation/);
});

test('train (library, reference): 2 epochs on the synthetic set write sane metrics, a checkpoint and a summary', async () => {
  const outDir = join(root, 'ref');
  const summary = await train({ dataset: 'synthetic', backend: 'reference', limitTrain: 8, limitTest: 4, batchSize: 4, epochs: 2, milestones: [2], lr: 0.02, outDir });
  for (const f of ['metrics.json', 'metrics.csv', 'summary.json', 'checkpoint.gckpt']) assert.ok(existsSync(join(outDir, f)), `${f} written`);
  const records = readJson<EpochRecord[]>(join(outDir, 'metrics.json'));
  checkRecords(records, [0.02, 0.02 * 0.1]);
  const csv = readFileSync(join(outDir, 'metrics.csv'), 'utf8').trim().split('\n');
  assert.is(csv.length, 3);
  assert.ok(csv[0].startsWith('epoch,lr,trainLoss,trainError,testLoss,testError,imagesPerSecond,seconds,freluB:features.2'));
  assert.is(csv[2].split(',')[5], String(records[1].testError));

  const saved = readJson<TrainSummary>(join(outDir, 'summary.json'));
  assert.is(saved.status, 'completed');
  assert.is(saved.diverged, false);
  assert.is(saved.epochsCompleted, 2);
  assert.is(saved.bestTestError, Math.min(...records.map((r) => r.testError)));
  assert.is(records[saved.bestEpoch! - 1].testError, saved.bestTestError);
  assert.is(saved.finalTestError, records[1].testError);
  assert.is(saved.backend, 'reference');
  assert.is(saved.gpu, null);
  assert.is(saved.config.limitTrain, 8);
  assert.is(saved.parameters, 1_148_718); // SmallNet with BN and FReLU, 10 classes: convs 93 024 + BN 448 + b 4 + Linears 1 054 218 + BN1d 1 024
  assert.equal(summary.bestTestError, saved.bestTestError);
});

test(`gradlab train (CLI, gpu backend, ${gpuMode}): a short run exits 0 and reports the mode that ran`, () => {
  const outDir = join(root, 'gpu');
  const args = ['tsx', 'src/cli/main.ts', 'train', '--dataset', 'synthetic', '--backend', 'gpu', '--gpu-mode', gpuMode,
    '--limit-train', '4', '--limit-test', '4', '--batch-size', '4', '--epochs', '1', '--lr', '0.02', '--out', outDir];
  const run = spawnSync('npx', args, { encoding: 'utf8', timeout: 120_000 });
  assert.is(run.status, 0, `exit status; stderr: ${run.stderr}`);
  if (wantsCpuMalloc(process.env, args, process.platform)) {
    // The run restarted itself with the malloc settings for CPU training (src/node/malloc.ts), and said so.
    assert.match(run.stderr, /running on the CPU with MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824/);
  }
  assert.match(run.stdout, /best test error/);
  assert.match(run.stdout, /outputs in/);
  const summary = readJson<TrainSummary>(join(outDir, 'summary.json'));
  assert.is(summary.backend, 'gpu');
  assert.is(summary.gpu?.mode, gpuMode);
  assert.ok(summary.gpu!.kernelClass !== null);
  if (gpuMode === 'headlessgl') {
    // Device memory is flat: what lives at the end is the model (parameters and buffers) and one
    // momentum buffer per parameter — every step's activations and gradients were freed.
    const model = smallNet({ activation: 'frelu', batchNorm: true, classes: 10, backend: 'reference' });
    assert.is(summary.gpu!.liveTextures, 2 * model.parameters().length + model.buffers().length);
  }
  checkRecords(readJson<EpochRecord[]>(join(outDir, 'metrics.json')), [0.02]);
});

test('a diverging run (lr 1e30) stops, and summary.json says why', async () => {
  const outDir = join(root, 'diverge');
  const summary = await train({ dataset: 'synthetic', backend: 'reference', limitTrain: 8, limitTest: 4, batchSize: 4, epochs: 2, lr: 1e30, outDir });
  const saved = readJson<TrainSummary>(join(outDir, 'summary.json'));
  assert.is(saved.status, 'diverged');
  assert.is(saved.diverged, true);
  const d = saved.divergence!;
  assert.is(d.epoch, 1);
  assert.is(d.batch, 1); // the first step's update makes the weights huge; the second batch's loss is not finite
  assert.is(d.where, 'trainLoss');
  assert.match(d.value, /^(NaN|-?Infinity)$/);
  assert.match(d.reason, /non-finite/);
  assert.ok(d.firstNonFiniteOp !== null && d.reason.includes(`${d.firstNonFiniteOp}: produced a non-finite value`), 'the rerun with setCheckFinite names the op');
  assert.is(saved.epochsCompleted, 0);
  assert.is(saved.bestTestError, null);
  assert.equal(summary.divergence, d);
  assert.equal(readJson<EpochRecord[]>(join(outDir, 'metrics.json')), []);
});

test('gradlab train rejects bad options with a message naming them', async () => {
  const quiet = async (argv: string[]) => {
    try {
      await command.run(argv);
      return 'no error';
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  };
  assert.match(await quiet(['--model', 'resnet21']), /model must be one of 'smallnet', 'resnet20'.*got "resnet21"/);
  assert.match(await quiet(['--milestones', '81,x']), /--milestones must be 1-based epochs/);
  assert.match(await quiet(['--batch-size', '0']), /--batch-size must be an integer ≥ 1; got '0'/);
  // Issue 15 §6: a clear one-line message for each of these.
  assert.match(await quiet(['--epochs', '0']), /^train: --epochs must be an integer ≥ 1; got '0'$/);
  assert.match(await quiet(['--epochs', '-3']), /^train: --epochs must be an integer ≥ 1; got '-3'$/);
  assert.match(await quiet(['--lr', 'NaN']), /^train: --lr must be a finite number ≥ 0; got 'NaN'$/);
  assert.match(await quiet(['--momentum', '0']), /--momentum 0 .* add --no-nesterov/);
  assert.match(await quiet(['--resume', '--overwrite']), /--resume and --overwrite contradict/);
  assert.match(await quiet(['--out', '']), /--out '' names no folder/);
  assert.not.match(await quiet(['--epochz', '-3']), /\n/);
  assert.match(await quiet(['--bn', '--no-bn']), /contradict/);
  assert.match(await quiet(['--epochz', '3']), /Unknown option '--epochz'/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
