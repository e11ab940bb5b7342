/**
 * The training checkpoint reader checks what it reads: a damaged or foreign checkpoint is an error
 * naming the file and the field (wrong magic, wrong version, a field of the wrong type, a tensor
 * whose bytes do not fit its shape), before anything is restored.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHECKPOINT_FILE, decodeCheckpoint, encodeCheckpoint, readTrainCheckpoint, train, type CheckpointValue,
} from '../src/experiments/train/index.js';

const root = mkdtempSync(join(tmpdir(), 'gradlab-checkpoint-'));
const options = {
  model: 'smallnet', activation: 'frelu', batchNorm: true, dataset: 'synthetic', limitTrain: 2, limitTest: 2, batchSize: 2,
  epochs: 1, seed: 3, backend: 'reference',
} as const;

type CheckpointObject = { readonly [key: string]: CheckpointValue | undefined };

function isObject(v: CheckpointValue | undefined): v is CheckpointObject {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** A good checkpoint's decoded value, from one tiny epoch. */
let good: CheckpointObject = {};

test.before(async () => {
  const outDir = join(root, 'good');
  await train({ ...options, outDir });
  const value = decodeCheckpoint(readFileSync(join(outDir, CHECKPOINT_FILE)), 'good');
  if (!isObject(value)) throw new Error('a checkpoint holds an object');
  good = value;
});

/** Writes `value` as a checkpoint file named `name` and returns its path. */
function write(name: string, value: CheckpointValue): string {
  const path = join(root, `${name}.gckpt`);
  writeFileSync(path, encodeCheckpoint(value));
  return path;
}

/** Asserts that reading the checkpoint at `path` fails with exactly `message`. */
function refuses(path: string, message: string): void {
  try {
    readTrainCheckpoint(path);
  } catch (err) {
    assert.is(err instanceof Error ? err.message : String(err), message);
    return;
  }
  assert.unreachable(`${path} was read`);
}

test('a good checkpoint reads back with every field typed', () => {
  const ckpt = readTrainCheckpoint(join(root, 'good', CHECKPOINT_FILE));
  assert.is(ckpt.epoch, 1);
  assert.is(ckpt.metrics.length, 1);
  assert.is(ckpt.config.model, 'smallnet');
  const w = ckpt.model['features.0.weight'];
  assert.ok(w.values instanceof Float32Array && w.values.length === w.shape.reduce((n, d) => n * d, 1));
});

test('wrong magic: the file is not a checkpoint at all', () => {
  const path = join(root, 'magic.gckpt');
  const bytes = encodeCheckpoint(good);
  bytes.set(new TextEncoder().encode('NOTCKPT0'), 0);
  writeFileSync(path, bytes);
  refuses(path, `${path}: not a gradlab checkpoint (it should start with 'GLCKPT01'; got "NOTCKPT0")`);
});

test('wrong version', () => {
  const path = write('version', { ...good, version: 2 });
  refuses(path, `${path}: training checkpoint version 2 is not one this gradlab reads (version 1)`);
});

test('a field of the wrong type is named with its path', () => {
  const scheduler = good.scheduler;
  if (!isObject(scheduler)) throw new Error('scheduler is an object');
  const path = write('type', { ...good, scheduler: { ...scheduler, gamma: '0.1' } });
  refuses(path, `${path}: checkpoint field 'scheduler.gamma' must be a number; got "0.1"`);
  const missing = write('missing', { ...good, epoch: undefined });
  refuses(missing, `${missing}: checkpoint field 'epoch' must be an integer ≥ 1; got nothing (the field is missing)`);
});

test('a tensor whose byte size does not fit its shape', () => {
  const model = good.model;
  if (!isObject(model)) throw new Error('model is an object');
  const path = write('size', { ...good, model: { ...model, 'features.0.weight': { shape: [2, 3], dtype: 'float32', values: new Float32Array(5) } } });
  refuses(path, `${path}: checkpoint field 'model.features.0.weight.values' must be 24 bytes (shape [2, 3], float32); got 20 bytes (5 values of a Float32Array)`);
  const wide = write('dtype', { ...good, model: { ...model, 'features.0.weight': { shape: [2, 3], dtype: 'float32', values: new Float64Array(6) } } });
  refuses(wide, `${wide}: checkpoint field 'model.features.0.weight.values' must be 24 bytes (shape [2, 3], float32); got 48 bytes (6 values of a Float64Array)`);
});

test('train --resume stops on a damaged checkpoint with the same message', async () => {
  const outDir = join(root, 'resume');
  await train({ ...options, outDir });
  const path = join(outDir, CHECKPOINT_FILE);
  writeFileSync(path, encodeCheckpoint({ ...good, version: 7 }));
  const outcome = await train({ ...options, epochs: 2, outDir, resume: true }).then(
    () => 'resolved',
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  assert.is(outcome, `${path}: training checkpoint version 7 is not one this gradlab reads (version 1)`);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
