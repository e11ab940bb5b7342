/** DataLoader: batching, partial batches, seeded per-epoch shuffles, exact resumption. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DataLoader, cifarTransform, type Batch, type ImageDataset } from '../src/data/index.js';

/** n images of shape [3, 2, 2] whose every byte is the image's index; label = index mod 3. */
function indexed(n: number): ImageDataset {
  const images = new Uint8Array(n * 12);
  for (let i = 0; i < n; i++) images.fill(i, i * 12, (i + 1) * 12);
  return { length: n, imageShape: [3, 2, 2], images, labels: Uint8Array.from({ length: n }, (_, i) => i % 3), classes: 3 };
}

function orderOf(batches: Iterable<Batch>): number[] {
  const out: number[] = [];
  for (const b of batches) {
    out.push(...b.indices);
    b.x.dispose();
    b.y.dispose();
  }
  return out;
}

test('batches in dataset order: shapes, values, labels, and the last partial batch kept', () => {
  const loader = new DataLoader(indexed(10), { batchSize: 4 });
  assert.is(loader.length, 3);
  const batches = [...loader];
  assert.equal(batches.map((b) => b.x.shape), [[4, 3, 2, 2], [4, 3, 2, 2], [2, 3, 2, 2]]);
  assert.equal(batches.map((b) => b.index), [0, 1, 2]);
  const last = batches[2];
  assert.equal(Array.from(last.x.toArray()), [...new Array(12).fill(8), ...new Array(12).fill(9)]);
  assert.equal(Array.from(last.labels), [2, 0]);
  assert.equal(Array.from(last.y.toArray()), [2, 0]);
  assert.equal(last.y.shape, [2]);
  assert.is(last.x.dtype, 'float32');
  assert.is(last.x.backend, 'reference');
  assert.equal(Array.from(last.indices), [8, 9]);
});

test('dropLast drops only a partial last batch; CIFAR-10 at 128 gives 391 batches, 390 with dropLast', () => {
  assert.equal(orderOf(new DataLoader(indexed(10), { batchSize: 4, dropLast: true })), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.is(new DataLoader(indexed(8), { batchSize: 4, dropLast: true }).length, 2);
  const cifarSized: ImageDataset = { length: 50_000, imageShape: [1, 1, 1], images: new Uint8Array(50_000), labels: new Uint8Array(50_000), classes: 10 };
  assert.is(new DataLoader(cifarSized, { batchSize: 128 }).length, 391);
  assert.is(new DataLoader(cifarSized, { batchSize: 128, dropLast: true }).length, 390);
  const sizes = [...new DataLoader(cifarSized, { batchSize: 128 }).batches(0)].map((b) => b.labels.length);
  assert.is(sizes[390], 50_000 - 390 * 128); // 80
});

test('shuffle: reproducible from the seed, a new permutation every epoch, different across seeds', () => {
  const ds = indexed(200);
  const a = new DataLoader(ds, { batchSize: 32, shuffle: true, seed: 7 });
  const b = new DataLoader(ds, { batchSize: 32, shuffle: true, seed: 7 });
  const a0 = orderOf(a);
  const a1 = orderOf(a); // iterating advances the epoch
  assert.is(a.epoch, 2);
  assert.equal(a0, orderOf(b));
  assert.equal(a1, orderOf(b));
  assert.not.equal(a0, a1);
  const identity = Array.from({ length: 200 }, (_, i) => i);
  assert.equal([...a0].sort((p, q) => p - q), identity); // every image once per epoch
  assert.equal([...a1].sort((p, q) => p - q), identity);
  assert.not.equal(a0, identity);
  // how different: two independent permutations of 200 share ~1 fixed position on average
  const same = a0.filter((v, i) => v === a1[i]).length;
  assert.ok(same < 10, `epochs 0 and 1 agree at ${same} of 200 positions`);
  assert.not.equal(orderOf(new DataLoader(ds, { batchSize: 32, shuffle: true, seed: 8 })), a0);
  assert.equal(orderOf(new DataLoader(ds, { batchSize: 32 })), identity); // no shuffle: dataset order, every epoch
});

test('resuming: setEpoch / restore / batches(e, { from }) replay exactly what a continuous run saw', () => {
  const ds = indexed(50);
  const transform = cifarTransform('cifar10', { augment: true }); // random flips and crops to replay
  const continuous = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 'run', transform });
  const seen: number[][] = [];
  for (let e = 0; e < 3; e++) for (const b of continuous) seen.push([e, b.index, ...b.indices, ...b.x.toArray()]);

  const resumed = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 'run', transform });
  resumed.restore({ seed: 'run', epoch: 2 });
  const tail = [...resumed].map((b) => [2, b.index, ...b.indices, ...b.x.toArray()]);
  assert.equal(tail, seen.slice(2 * 7));
  assert.equal(resumed.state(), { seed: 'run', epoch: 3 });

  const midEpoch = [...resumed.batches(1, { from: 5 })].map((b) => [1, b.index, ...b.indices, ...b.x.toArray()]);
  assert.equal(midEpoch, seen.slice(7 + 5, 14));
  assert.throws(() => resumed.restore({ seed: 'other', epoch: 1 }), /saved with seed "other"; this loader has seed "run"/);
});

test('argument errors name what was wrong', () => {
  assert.throws(() => new DataLoader(indexed(4), { batchSize: 0 }), /batchSize must be a positive integer; got 0/);
  assert.throws(() => new DataLoader({ ...indexed(4), length: 5 }, { batchSize: 2 }), /dataset must hold length × C×H×W image bytes/);
  assert.throws(() => new DataLoader(indexed(4), { batchSize: 2 }).setEpoch(-1), /epoch must be a non-negative integer; got -1/);
});

test.run();
