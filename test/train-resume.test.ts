/**
 * Checkpoints and --resume: a run interrupted after epoch 2 and resumed ends with exactly the
 * numbers of an uninterrupted 3-epoch run (reference backend, SmallNet with BN, FReLU and dropout,
 * Nesterov momentum, augmentation, and a learning-rate milestone at epoch 3 after the resume point).
 * Plus the checkpoint file format's round trip.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { LOCK_FILE, lockFolder } from '../src/node/files.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, loadCheckpoint, train, type EpochRecord, type TrainOptions } from '../src/experiments/train/index.js';

const root = mkdtempSync(join(tmpdir(), 'gradlab-resume-'));

// 4 training images in batches of 2 (so BN and momentum see several steps), 4 test images.
const base: TrainOptions = {
  model: 'smallnet',
  activation: 'frelu',
  batchNorm: true,
  dataset: 'synthetic',
  limitTrain: 4,
  limitTest: 4,
  batchSize: 2,
  lr: 0.05,
  milestones: [3],
  seed: 7,
  backend: 'reference',
};

/** Asserts that `p` rejects with a message matching `pattern`. */
async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  const outcome = await p.then(
    () => 'resolved',
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  assert.match(outcome, pattern);
}

/** metrics.json without the wall-clock fields, which no two runs share. */
function numbers(dir: string): Omit<EpochRecord, 'imagesPerSecond' | 'seconds'>[] {
  const records = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as EpochRecord[];
  return records.map(({ imagesPerSecond, seconds, ...rest }) => rest);
}

test('resume: 2 epochs + resume to 3 gives the same metrics.json and weights as 3 epochs straight (reference, bit-exact)', async () => {
  const straight = join(root, 'straight');
  const split = join(root, 'split');
  const full = await train({ ...base, epochs: 3, outDir: straight });
  const first = await train({ ...base, epochs: 2, outDir: split });
  assert.is(first.epochsCompleted, 2);
  const resumed = await train({ ...base, epochs: 3, outDir: split, resume: true });

  assert.is(resumed.epochsCompleted, 3);
  const a = numbers(straight);
  const b = numbers(split);
  assert.is(a.length, 3);
  assert.equal(b, a); // every loss, error, lr and FReLU b, to the last bit
  assert.equal(a.map((r) => r.lr), [0.05, 0.05, 0.05 * 0.1]);
  assert.is(resumed.bestTestError, full.bestTestError);
  assert.is(resumed.finalTestError, full.finalTestError);

  const wa = loadCheckpoint(join(straight, 'checkpoint.gckpt')) as { model: Record<string, { values: Float32Array }>; optimizer: { momentumBuffers: Float32Array[] } };
  const wb = loadCheckpoint(join(split, 'checkpoint.gckpt')) as typeof wa;
  for (const name of Object.keys(wa.model)) assert.equal(Array.from(wb.model[name].values), Array.from(wa.model[name].values), `weights ${name}`);
  assert.equal(wb.optimizer.momentumBuffers.map((v) => Array.from(v)), wa.optimizer.momentumBuffers.map((v) => Array.from(v)));
});

test('resume refuses a changed setup and a missing checkpoint; a fresh run refuses to overwrite one', async () => {
  const dir = join(root, 'split');
  await rejects(train({ ...base, epochs: 3, lr: 0.1, outDir: dir, resume: true }), /cannot resume .* lr was 0.05, now 0.1/);
  await rejects(train({ ...base, epochs: 1, outDir: join(root, 'none'), resume: true }), /nothing to resume/);
  await rejects(train({ ...base, epochs: 1, outDir: dir }), /already holds a run/);
});

test("one run per folder: a live run's lock refuses a second run; a dead process's lock is taken over; none is left behind", async () => {
  const dir = join(root, 'locked');
  mkdirSync(dir, { recursive: true });
  // The parent of this test process is alive (npm, uvu or a shell): its lock means 'in use'.
  writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
  await rejects(train({ ...base, epochs: 1, outDir: dir }), new RegExp(`in use by another gradlab run \\(process ${process.ppid}`));
  // A process id far above Linux's pid_max (4194304) belongs to no process: a stale lock.
  writeFileSync(join(dir, LOCK_FILE), '99999999\n');
  const summary = await train({ ...base, epochs: 1, outDir: dir });
  assert.is(summary.status, 'completed');
  assert.not.ok(existsSync(join(dir, LOCK_FILE)), 'the lock is released when the run ends');
  // And the lock is per folder: lockFolder itself refuses a second claim from a live holder.
  const release = lockFolder(join(root, 'other'), 'test');
  assert.throws(() => lockFolder(join(root, 'other'), 'test'), /already in use by this process/);
  release();
  lockFolder(join(root, 'other'), 'test')();
});

test('checkpoint format: typed arrays come back bit for bit, non-finite numbers survive, a wrong file is named', () => {
  const value = {
    epoch: 2,
    w: Float32Array.from([0.1, -2.5, 1e-30, 3.4e38]),
    d: Float64Array.from([Math.PI]),
    labels: Uint8Array.from([1, 2, 3]), // 3 bytes: the next array must still start aligned
    i: Int32Array.from([-7]),
    loss: [NaN, Infinity, -Infinity, 1.5],
    nested: { name: 'x', none: null, flag: true },
  };
  // From a Buffer at an odd offset inside a larger allocation, as readFileSync may return it.
  const encoded = encodeCheckpoint(value);
  const padded = Buffer.alloc(encoded.length + 3);
  padded.set(encoded, 3);
  const back = decodeCheckpoint(padded.subarray(3), 'x') as typeof value;
  assert.ok(back.w instanceof Float32Array);
  assert.equal(Array.from(back.w), Array.from(value.w));
  assert.ok(back.d instanceof Float64Array && back.d[0] === Math.PI);
  assert.equal(Array.from(back.labels), [1, 2, 3]);
  assert.equal(Array.from(back.i), [-7]);
  assert.ok(Number.isNaN(back.loss[0]));
  assert.equal(back.loss.slice(1), [Infinity, -Infinity, 1.5]);
  assert.equal(back.nested, value.nested);
  assert.is(back.epoch, 2);
  assert.throws(() => decodeCheckpoint(new TextEncoder().encode('{"epoch": 1}'), 'run/x.gckpt'), /run\/x\.gckpt: not a gradlab checkpoint/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
