/**
 * The lab training view's arithmetic (src/browser/lab/train-metrics.ts), against values worked out
 * by hand: predictions, error rate, the confusion matrix, the filter images and the metrics CSV;
 * and what it measures inside SmallNet (src/browser/lab/train-layers.ts): the layer-by-layer
 * forward equals SmallNet.forward, and each layer's statistics.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';
import { forwardKeeping, layerStats } from '../src/browser/lab/train-layers.js';
import { CIFAR10_CLASSES, confusionMatrix, errorRate, filterPixels, metricsCsv, predictions } from '../src/browser/lab/train-metrics.js';

test('predictions: the first largest score of each row', () => {
  // rows: [0.1, 2, −1] → 1; [3, 3, 0] → 0 (a tie goes to the first); [−5, −4, −4.5] → 1
  assert.equal(Array.from(predictions([0.1, 2, -1, 3, 3, 0, -5, -4, -4.5], 3)), [1, 0, 1]);
  assert.throws(() => predictions([1, 2, 3, 4], 3), /4 scores are not whole rows of 3 classes/);
});

test('errorRate: the fraction labelled wrong', () => {
  assert.is(errorRate([0, 1, 2, 2], [0, 1, 1, 0]), 0.5);
  assert.throws(() => errorRate([0], [0, 1]), /1 predictions for 2 labels/);
});

test('confusionMatrix: counts[true][predicted]; the total is the images, trace / total = 1 − error', () => {
  const truth = [0, 0, 1, 1, 1, 2];
  const predicted = [0, 1, 1, 1, 2, 2];
  const m = confusionMatrix(predicted, truth, 3);
  assert.equal(m, [
    [1, 1, 0],
    [0, 2, 1],
    [0, 0, 1],
  ]);
  const total = m.flat().reduce((a, b) => a + b, 0);
  const trace = m[0][0] + m[1][1] + m[2][2];
  assert.is(total, 6);
  assert.is(trace, 4);
  assert.ok(Math.abs(trace / total - (1 - errorRate(predicted, truth))) < 1e-15, '4/6 = 1 − 2/6'); // (in float64 the two differ in the last bit)
  assert.throws(() => confusionMatrix([3], [0], 3), /image 0 has class 0 predicted as 3; classes are 0…2/);
});

test('filterPixels: each filter scaled on its own, lowest weight 0, highest 255; a constant filter is grey', () => {
  // Two filters [O=2, C=3, 1, 2]: filter 0's weights −1…4 (so v → (v + 1) / 5 · 255), filter 1 all 7.
  const weights = [
    -1, 4, // R of pixels 0, 1
    0, 1, // G
    1.5, -1, // B
    7, 7, 7, 7, 7, 7,
  ];
  const [a, b] = filterPixels(weights, [2, 3, 1, 2]);
  // pixel 0: R −1 → 0, G 0 → 51, B 1.5 → 127.5 → 128 (Uint8ClampedArray rounds half to even); pixel 1: 4 → 255, 1 → 102, −1 → 0
  assert.equal(Array.from(a), [0, 51, 128, 255, 255, 102, 0, 255]);
  assert.equal(Array.from(b), [128, 128, 128, 255, 128, 128, 128, 255]); // 127.5, rounded to even
  assert.throws(() => filterPixels([1, 2, 3], [1, 3, 1, 2]), /weights must be \[O, C, KH, KW\]; got 3 values for \[1, 3, 1, 2\]/);
});

test('metricsCsv: a header, one row per step in full precision, test columns only where a test pass was', () => {
  const csv = metricsCsv(
    [
      { step: 1, loss: 2.302585092994046, error: 0.875, b: [-1, -0.5], imagesPerSecond: 25 },
      { step: 2, loss: 1.5, error: 0.5, b: [-0.99, -0.25], imagesPerSecond: 26.5, testLoss: 1.25, testError: 0.4 },
    ],
    ['features.2', 'classifier.2'],
  );
  assert.is(
    csv,
    'step,loss,error,b_features.2,b_classifier.2,images_per_second,test_loss,test_error\n' +
      '1,2.302585092994046,0.875,-1,-0.5,25,,\n' +
      '2,1.5,0.5,-0.99,-0.25,26.5,1.25,0.4\n',
  );
  assert.is(metricsCsv([], []), 'step,loss,error,images_per_second,test_loss,test_error\n');
  assert.throws(() => metricsCsv([{ step: 3, loss: 1, error: 0, b: [], imagesPerSecond: 1 }], ['features.2']), /step 3 has 0 b values for 1 FReLU layers/);
});

test("CIFAR10_CLASSES: the ten names of batches.meta.txt, in label order", () => {
  assert.equal([...CIFAR10_CLASSES], ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
});

test('forwardKeeping: the same logits as SmallNet.forward, keeping the 4 activation outputs; backward leaves a gradient on each', () => {
  g.setBackend('reference');
  const net = g.models.smallNet({ activation: 'frelu', batchNorm: true, classes: 10, seed: 3 });
  net.eval(); // dropout off, BN on its running statistics: two forwards are the same computation
  const x = g.randn([2, 3, 32, 32], { seed: 4 });
  const kept: g.Tensor[] = [];
  const logits = forwardKeeping(net, x, kept);
  assert.equal(Array.from(logits.toArray()), Array.from(net.forward(x).toArray()));
  assert.equal(kept.map((a) => a.shape), [[2, 32, 32, 32], [2, 64, 16, 16], [2, 128, 8, 8], [2, 512]]);
  g.nn.functional.crossEntropy(logits, [1, 7]).backward();
  for (const a of kept) assert.equal(a.grad?.shape, a.shape);
  net.dispose();
});

test('layerStats: mean and variance of a layer output, and the norm of its gradient', () => {
  g.setBackend('reference');
  // h = 2x = [2, 4, 6, 8]: mean 5, variance (4 + 16 + 36 + 64) / 4 − 25 = 5.
  // loss = Σ h² / 2, so ∂loss/∂h = h and its norm is √(4 + 16 + 36 + 64) = √120.
  const x = g.tensor([1, 2, 3, 4], { requiresGrad: true });
  const h = g.mul(x, 2).retainGrad();
  g.div(g.sum(g.mul(h, h)), 2).backward();
  const st = layerStats(h);
  assert.is(st.mean, 5);
  assert.is(st.variance, 5);
  assert.ok(Math.abs(st.gradNorm - Math.sqrt(120)) < 1e-12, String(st.gradNorm));
});

test.run();
