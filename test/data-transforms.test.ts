/**
 * Transforms: hand-computed values for normalise / flip / crop, and the statistics of the recipe's
 * train augmentation run through the DataLoader (flip rate, crop offsets, pad value).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CIFAR_NORMALIZATION,
  DataLoader,
  cifarTransform,
  normalize,
  randomCrop,
  randomHorizontalFlip,
  type ImageDataset,
} from '../src/data/index.js';
import { randomStream, type RandomStream } from '../src/tensor/random.js';

/** A stream that returns scripted values (to force a flip or a crop offset). */
function scripted(uniforms: number[], ints: number[]): RandomStream {
  return {
    uniform: () => uniforms.shift() ?? 0,
    normal: () => 0,
    int: () => ints.shift() ?? 0,
    bernoulli(out, probability) {
      for (let i = 0; i < out.length; i++) out[i] = (uniforms.shift() ?? 0) < probability ? 1 : 0;
    },
    state: () => randomStream(0).state(),
  };
}

test('normalize: (v − mean_c) / std_c with the recipe values', () => {
  const { mean, std } = CIFAR_NORMALIZATION.cifar10;
  const img = Float32Array.from([125.3, 255, 0, 123.0, 0, 255, 113.9, 113.9, 255]);
  const out = normalize(mean, std)(img, { shape: [3, 1, 3], rng: scripted([], []) });
  const expected = [0, (255 - 125.3) / 63.0, -125.3 / 63.0, 0, -123 / 62.1, 132 / 62.1, 0, 0, 141.1 / 66.7];
  out.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `element ${i}: ${v} vs ${expected[i]}`));
  assert.equal(CIFAR_NORMALIZATION.cifar100, { mean: [129.3, 124.1, 112.4], std: [68.2, 65.4, 70.4] });
});

test('flip mirrors every row of every channel when the uniform falls below p', () => {
  const shape = [2, 2, 3] as const;
  const img = () => Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(Array.from(randomHorizontalFlip(0.5)(img(), { shape, rng: scripted([0.49], []) })), [3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]);
  assert.equal(Array.from(randomHorizontalFlip(0.5)(img(), { shape, rng: scripted([0.5], []) })), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
});

test('crop: out[y, x] = in[y + dy − 4, x + dx − 4], zeros outside', () => {
  const img = Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => 1 + i);
  // offsets drawn dy = 0, dx = 8: the content moves 4 rows down and 4 columns left
  const out = randomCrop(4)(img, { shape: [3, 32, 32], rng: scripted([], [0, 8]) });
  const at = (c: number, y: number, x: number) => out[(c * 32 + y) * 32 + x];
  assert.is(at(0, 0, 0), 0); // rows 0..3 come from the pad
  assert.is(at(0, 3, 27), 0);
  assert.is(at(0, 4, 0), 1 + 0 * 32 + 4); // in[0, 0, 4]
  assert.is(at(2, 31, 27), 1 + 2 * 1024 + 27 * 32 + 31); // in[2, 27, 31]
  assert.is(at(1, 10, 28), 0); // columns 28..31 come from the pad
  assert.is(out.filter((v) => v === 0).length, 3 * (32 * 32 - 28 * 28));
  const centre = randomCrop(4)(img, { shape: [3, 32, 32], rng: scripted([], [4, 4]) });
  assert.equal(centre, img);
});

test('the pad value equals the normalised mean: an image of mean pixels normalises to exactly the pad value 0', () => {
  for (const name of ['cifar10', 'cifar100'] as const) {
    const { mean } = CIFAR_NORMALIZATION[name];
    const img = Float32Array.from({ length: 3072 }, (_, i) => mean[Math.floor(i / 1024)]);
    const out = cifarTransform(name, { augment: true })(img, { shape: [3, 32, 32], rng: scripted([0.1], [0, 0]) });
    assert.ok(out.every((v) => Math.abs(v) < 1e-6), `${name}: max |v| ${Math.max(...out.map(Math.abs))}`);
  }
});

/**
 * The full train pipeline through the DataLoader, on N copies of one probe image whose pixels say
 * where they came from: R = 8·row, G = 8·column, B = 255. From every output image we recover the
 * flip and the crop offsets, and check every pixel against them (pad pixels must be exactly 0 in
 * all channels).
 */
test('augmentation statistics over 4500 images: flip rate ≈ 0.5, offsets uniform over 0..8, pad exactly 0', () => {
  const N = 4500;
  const probe = new Uint8Array(3072);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      probe[y * 32 + x] = 8 * y;
      probe[1024 + y * 32 + x] = 8 * x;
      probe[2048 + y * 32 + x] = 255;
    }
  }
  const images = new Uint8Array(N * 3072);
  for (let i = 0; i < N; i++) images.set(probe, i * 3072);
  const ds: ImageDataset = { length: N, imageShape: [3, 32, 32], images, labels: new Uint8Array(N), classes: 10 };
  const loader = new DataLoader(ds, { batchSize: 500, shuffle: true, seed: 11, transform: cifarTransform('cifar10', { augment: true }) });
  const { mean, std } = CIFAR_NORMALIZATION.cifar10;
  const denorm = (v: number, c: number) => v * std[c] + mean[c];

  let flips = 0;
  const dyCount = new Array(9).fill(0);
  const dxCount = new Array(9).fill(0);
  const joint = new Array(81).fill(0);
  let padPixels = 0;
  for (const batch of loader) {
    const x = batch.x.toArray();
    for (let b = 0; b < batch.labels.length; b++) {
      const px = (c: number, y: number, xx: number) => x[b * 3072 + (c * 32 + y) * 32 + xx];
      // output (16, 16) is always inside the image (|offset − 4| ≤ 4)
      const row = Math.round(denorm(px(0, 16, 16), 0) / 8);
      const colA = Math.round(denorm(px(1, 16, 16), 1) / 8);
      const colB = Math.round(denorm(px(1, 16, 17), 1) / 8);
      const flipped = colB < colA;
      const dy = row - 16 + 4; // offset in 0..8
      const dx = flipped ? 31 - colA - 16 + 4 : colA - 16 + 4;
      assert.ok(dy >= 0 && dy <= 8 && dx >= 0 && dx <= 8, `image ${b}: offsets ${dy}, ${dx}`);
      flips += flipped ? 1 : 0;
      dyCount[dy]++;
      dxCount[dx]++;
      joint[dy * 9 + dx]++;
      // every pixel: the predicted source pixel, or exactly 0 in every channel when it is pad
      for (let y = 0; y < 32; y++) {
        for (let xx = 0; xx < 32; xx++) {
          const sy = y + dy - 4;
          const fx = xx + dx - 4; // column in the flipped image
          if (sy < 0 || sy > 31 || fx < 0 || fx > 31) {
            assert.ok(px(0, y, xx) === 0 && px(1, y, xx) === 0 && px(2, y, xx) === 0, `image ${b} pad pixel (${y}, ${xx}) is not 0`);
            padPixels++;
          } else {
            const sx = flipped ? 31 - fx : fx;
            if (Math.round(denorm(px(0, y, xx), 0)) !== 8 * sy || Math.round(denorm(px(1, y, xx), 1)) !== 8 * sx) {
              assert.unreachable(`image ${b} pixel (${y}, ${xx}) should come from (${sy}, ${sx})`);
            }
          }
        }
      }
    }
    batch.x.dispose();
    batch.y.dispose();
  }
  // Flip rate: binomial(4500, 0.5) has sd 0.0075; allow 4 sd.
  const rate = flips / N;
  assert.ok(Math.abs(rate - 0.5) < 0.03, `flip rate ${rate}`);
  // Offsets: chi-square goodness of fit against uniform. Critical values at p = 0.001:
  // 26.12 for 8 degrees of freedom (dy, dx), 124.84 for 80 (the 81 joint cells).
  const chi2 = (counts: number[]) => {
    const e = N / counts.length;
    return counts.reduce((s, o) => s + (o - e) ** 2 / e, 0);
  };
  assert.ok(chi2(dyCount) < 26.12, `dy counts ${dyCount} (chi2 ${chi2(dyCount)})`);
  assert.ok(chi2(dxCount) < 26.12, `dx counts ${dxCount} (chi2 ${chi2(dxCount)})`);
  assert.ok(chi2(joint) < 124.84, `joint chi2 ${chi2(joint)}`);
  // Mean pad fraction: E|dy − 4| = 20/9 rows and as many columns → 1 − (32 − 20/9)² / 32² ≈ 0.135 of all pixels.
  const padFraction = padPixels / (N * 1024);
  assert.ok(Math.abs(padFraction - (1 - (32 - 20 / 9) ** 2 / 1024)) < 0.005, `pad fraction ${padFraction}`);
});

test('evaluation transform only normalises: no flips, no crops', () => {
  const img = Float32Array.from({ length: 3072 }, (_, i) => i % 256);
  const out = cifarTransform('cifar100', { augment: false })(Float32Array.from(img), { shape: [3, 32, 32], rng: randomStream(1) });
  const { mean, std } = CIFAR_NORMALIZATION.cifar100;
  out.forEach((v, i) => {
    const c = Math.floor(i / 1024);
    if (Math.abs(v - (img[i] - mean[c]) / std[c]) > 1e-5) assert.unreachable(`element ${i}`);
  });
});

test.run();
