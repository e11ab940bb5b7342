/**
 * The arithmetic of the lab's training view, apart from the library and the page, so that a Node
 * test checks it against hand-derived values (test/lab-train.test.ts):
 *
 *   predictions(logits, classes)        the class of each row's largest score (ties: the first)
 *   confusionMatrix(predicted, truth)   counts[truth][predicted]; its diagonal / total = 1 − error
 *   filterPixels(weights, shape)        a conv layer's filters as RGBA images, each scaled to 0…255 on its own
 *   metricsCsv(rows, …)                 the run's metrics, one row per step, for a spreadsheet
 */

/** CIFAR-10's class names, in label order (batches.meta.txt). */
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;

/** The predicted class of each row of `logits` ([N, classes], row-major): the first largest score. */
export function predictions(logits: ArrayLike<number>, classes: number): Int32Array {
  if (!Number.isInteger(classes) || classes < 1 || logits.length % classes !== 0) {
    throw new Error(`predictions: ${logits.length} scores are not whole rows of ${classes} classes`);
  }
  const out = new Int32Array(logits.length / classes);
  for (let n = 0; n < out.length; n++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[n * classes + c] > logits[n * classes + best]) best = c;
    out[n] = best;
  }
  return out;
}

/** The fraction of `predicted` that differ from `truth`. */
export function errorRate(predicted: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (predicted.length !== truth.length || truth.length === 0) throw new Error(`errorRate: ${predicted.length} predictions for ${truth.length} labels`);
  let wrong = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] !== truth[i]) wrong++;
  return wrong / truth.length;
}

/**
 * The confusion matrix: counts[t][p] is the number of images of true class t predicted as p.
 * Rows sum to each class's count, the whole to the number of images; the diagonal holds the
 * images labelled right, so trace / total = 1 − error.
 */
export function confusionMatrix(predicted: ArrayLike<number>, truth: ArrayLike<number>, classes: number): number[][] {
  if (predicted.length !== truth.length) throw new Error(`confusionMatrix: ${predicted.length} predictions for ${truth.length} labels`);
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const [t, p] = [truth[i], predicted[i]];
    if (!(t >= 0 && t < classes && p >= 0 && p < classes)) throw new Error(`confusionMatrix: image ${i} has class ${t} predicted as ${p}; classes are 0…${classes - 1}`);
    counts[t][p]++;
  }
  return counts;
}

/**
 * A conv layer's weights [O, C, KH, KW] (C = 3: RGB) as O RGBA images of KH × KW pixels, each
 * filter scaled on its own so that its smallest weight is 0 and its largest 255 (a constant filter
 * is mid-grey). With C = 1 each image is grey; other C take the first three channels.
 */
export function filterPixels(weights: ArrayLike<number>, shape: readonly number[]): Uint8ClampedArray<ArrayBuffer>[] {
  const [O, C, KH, KW] = shape;
  if (shape.length !== 4 || weights.length !== O * C * KH * KW) throw new Error(`filterPixels: weights must be [O, C, KH, KW]; got ${weights.length} values for [${shape.join(', ')}]`);
  const size = C * KH * KW;
  const images: Uint8ClampedArray<ArrayBuffer>[] = [];
  for (let o = 0; o < O; o++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < size; i++) {
      lo = Math.min(lo, weights[o * size + i]);
      hi = Math.max(hi, weights[o * size + i]);
    }
    const scale = (v: number): number => (hi > lo ? ((v - lo) / (hi - lo)) * 255 : 127.5);
    const rgba = new Uint8ClampedArray(KH * KW * 4);
    for (let p = 0; p < KH * KW; p++) {
      for (let c = 0; c < 3; c++) rgba[p * 4 + c] = scale(weights[o * size + Math.min(c, C - 1) * KH * KW + p]);
      rgba[p * 4 + 3] = 255;
    }
    images.push(rgba);
  }
  return images;
}

/** One training step's numbers, as the page keeps them (a test pass after the step adds testLoss/testError). */
export interface MetricsRow {
  step: number;
  loss: number;
  /** The batch's error: the fraction of its images labelled wrong (before the step's update). */
  error: number;
  /** FReLU's b of each FReLU layer after the step. */
  b: readonly number[];
  /** The step's own rate: its batch over its time. */
  imagesPerSecond: number;
  testLoss?: number;
  testError?: number;
}

/**
 * The metrics as CSV: a header row, then one row per step. `freluLayers` names the b columns
 * (b_<layer>); a step without a test pass leaves its test columns empty. Numbers are written in
 * full (JavaScript's shortest round-trip form), so a spreadsheet reads back the values logged.
 *
 *   step,loss,error,b_features.2,…,images_per_second,test_loss,test_error
 */
export function metricsCsv(rows: readonly MetricsRow[], freluLayers: readonly string[]): string {
  const header = ['step', 'loss', 'error', ...freluLayers.map((name) => `b_${name}`), 'images_per_second', 'test_loss', 'test_error'];
  const lines = [header.join(',')];
  for (const r of rows) {
    if (r.b.length !== freluLayers.length) throw new Error(`metricsCsv: step ${r.step} has ${r.b.length} b values for ${freluLayers.length} FReLU layers`);
    const cell = (v: number | undefined): string => (v === undefined ? '' : String(v));
    lines.push([r.step, r.loss, r.error, ...r.b, r.imagesPerSecond].map(cell).concat(cell(r.testLoss), cell(r.testError)).join(','));
  }
  return lines.join('\n') + '\n';
}
