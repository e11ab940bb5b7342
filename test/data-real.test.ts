/**
 * The real CIFAR samples in ../shared/data (see its README): record counts, labels, class counts
 * and per-channel means. Every test here is skipped when that folder does not exist (a fresh clone).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataLoader, cifarTransform, channelMeans, classCounts, loadCifar } from '../src/node/data.js';

const SAMPLES = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'data');
const present = existsSync(SAMPLES);
const t = present ? test : test.skip;
if (!present) console.log(`data-real: ${SAMPLES} does not exist; skipping the real-sample tests`);

const CIFAR10_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

t('cifar10/train_4000.bin: 4000 records, the README class counts and channel means, label names', () => {
  const ds = loadCifar({ dataset: 'cifar10', split: 'train', files: join(SAMPLES, 'cifar10', 'train_4000.bin') });
  assert.is(ds.length, 4000);
  assert.equal(classCounts(ds), [396, 366, 420, 384, 422, 393, 414, 385, 407, 413]);
  const means = channelMeans(ds);
  [125.36, 122.85, 113.39].forEach((m, c) => assert.ok(Math.abs(means[c] - m) < 0.005, `channel ${c}: ${means[c]} vs README ${m}`));
  assert.equal(ds.labelNames, CIFAR10_NAMES);
});

t('cifar10/test_1000.bin: 1000 records, all ten classes present', () => {
  const ds = loadCifar({ dataset: 'cifar10', split: 'test', files: [join(SAMPLES, 'cifar10', 'test_1000.bin')] });
  assert.is(ds.length, 1000);
  const counts = classCounts(ds);
  assert.is(counts.reduce((a, b) => a + b, 0), 1000);
  assert.ok(counts.every((n) => n > 50), `class counts ${counts}`);
});

t('cifar100 samples: 20 + 5 records, fine labels 0..99 and coarse 0..19, both name lists', () => {
  const test20 = loadCifar({ dataset: 'cifar100', split: 'test', files: join(SAMPLES, 'cifar100', 'test_20.bin') });
  const train5 = loadCifar({ dataset: 'cifar100', split: 'train', files: join(SAMPLES, 'cifar100', 'train_5.bin') });
  assert.is(test20.length, 20);
  assert.is(train5.length, 5);
  assert.is(test20.classes, 100);
  assert.ok(test20.labels.every((l) => l < 100));
  assert.ok(test20.coarseLabels?.every((l) => l < 20));
  assert.is(test20.labelNames?.length, 100);
  assert.is(test20.labelNames?.[0], 'apple');
  assert.is(test20.coarseLabelNames?.length, 20);
  const coarse = loadCifar({ dataset: 'cifar100', split: 'test', files: join(SAMPLES, 'cifar100', 'test_20.bin'), label: 'coarse' });
  assert.is(coarse.classes, 20);
  assert.equal(coarse.labels, test20.coarseLabels);
});

t('the evaluation transform centres the real sample: batch channel means = (sample mean − recipe mean) / std', () => {
  const ds = loadCifar({ dataset: 'cifar10', split: 'train', files: join(SAMPLES, 'cifar10', 'train_4000.bin') });
  const raw = channelMeans(ds);
  const loader = new DataLoader(ds, { batchSize: 1000, transform: cifarTransform('cifar10', { augment: false }) });
  const sums = [0, 0, 0];
  for (const { x, y } of loader) {
    const v = x.toArray();
    for (let i = 0; i < v.length; i++) sums[Math.floor(i / 1024) % 3] += v[i];
    x.dispose();
    y.dispose();
  }
  const recipe = { mean: [125.3, 123.0, 113.9], std: [63.0, 62.1, 66.7] };
  sums.forEach((s, c) => {
    const got = s / (4000 * 1024);
    const want = (raw[c] - recipe.mean[c]) / recipe.std[c];
    assert.ok(Math.abs(got - want) < 1e-5, `channel ${c}: ${got} vs ${want}`);
  });
});

test.run();
