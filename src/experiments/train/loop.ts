/**
 * The numbers of one epoch: the training pass (forward, cross-entropy, backward, SGD step per
 * batch), the evaluation pass (eval mode, under noGrad), and, when a loss is not finite, the
 * diagnosis of why (non-finite parameters, or the first op producing a non-finite value).
 */
import { tidy, type Tensor } from '../../tensor/tensor.js';
import type { TypedArray } from '../../tensor/dtype.js';
import type { BackendName } from '../../tensor/backends/backend.js';
import { noGrad, setCheckFinite } from '../../autograd/grad-mode.js';
import { crossEntropy } from '../../nn/functional.js';
import type { Module } from '../../nn/module.js';
import { FReLU } from '../../nn/layers/activations.js';
import type { Batch, DataLoader } from '../../data/loader.js';
import type { SGD } from '../../optim/sgd.js';

/** Where a training pass reports its progress (a ProgressBar, or nothing). */
export interface EpochProgress {
  update(done: number, fields: Record<string, string | number>): void;
}

export interface TrainedEpoch {
  loss: number;
  error: number;
  images: number;
  seconds: number;
  /** Mean |∂E/∂b| over the epoch's steps, by FReLU layer (see EpochRecord.freluAbsDb). */
  freluAbsDb: Record<string, number>;
  divergence: { batch: number; value: number; batchData: Batch; absDbLast: Record<string, number> } | null;
  /** Set when `stop` was aborted: the steps this epoch finished before the pass was abandoned. */
  stoppedAfterSteps: number | null;
}

/** Lets timers, signals and I/O callbacks run between steps (a signal handler can only run then). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The model's FReLU layers, by path. */
export function freluLayers(model: Module): [string, FReLU][] {
  return model.namedModules().filter((e): e is [string, FReLU] => e[1] instanceof FReLU);
}

/** Mean |v| over a gradient's elements (0 when there is none). */
function meanAbs(grad: Tensor | null): number {
  if (grad === null) return 0;
  const v = grad.toArray();
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.abs(v[i]);
  return s / v.length;
}

/**
 * One training pass. Between steps it yields to the event loop and looks at `stop`: once aborted,
 * the pass is abandoned after the step in progress (its batch tensors freed) and reported with
 * `stoppedAfterSteps`; the caller then writes nothing of this epoch.
 */
export async function trainEpoch(model: Module, optimizer: SGD, loader: DataLoader, epoch: number, bar: EpochProgress | null, stop?: AbortSignal): Promise<TrainedEpoch> {
  model.train();
  const start = performance.now();
  let lossSum = 0;
  let wrong = 0;
  let images = 0;
  const frelus = freluLayers(model);
  const absDbSum: Record<string, number> = Object.fromEntries(frelus.map(([path]) => [path, 0]));
  let absDbLast: Record<string, number> = {};
  let steps = 0;
  // The loader numbers epochs from 0; the recipe (and this file) from 1.
  for (const batch of loader.batches(epoch - 1)) {
    await yieldToEventLoop();
    if (stop?.aborted) {
      batch.x.dispose();
      batch.y.dispose();
      return { loss: NaN, error: NaN, images, seconds: (performance.now() - start) / 1000, freluAbsDb: {}, divergence: null, stoppedAfterSteps: steps };
    }
    const n = batch.labels.length;
    const step = tidy(() => {
      const logits = model.forward(batch.x);
      const loss = crossEntropy(logits, batch.y);
      const value = loss.item();
      if (!Number.isFinite(value)) return { value, wrong: 0 };
      const miss = countWrong(logits.toArray(), batch.labels);
      loss.backward();
      absDbLast = Object.fromEntries(frelus.map(([path, m]) => [path, meanAbs(m.b.grad)]));
      for (const [, m] of frelus) m.rememberB(); // post-paper bKeepNonPositive; no-ops by default
      optimizer.step();
      for (const [, m] of frelus) m.keepBNonPositive();
      optimizer.zeroGrad();
      return { value, wrong: miss };
    });
    if (!Number.isFinite(step.value)) {
      const divergence = { batch: batch.index, value: step.value, batchData: batch, absDbLast };
      return { loss: NaN, error: NaN, images, seconds: (performance.now() - start) / 1000, freluAbsDb: {}, divergence, stoppedAfterSteps: null };
    }
    steps++;
    for (const path of Object.keys(absDbSum)) absDbSum[path] += absDbLast[path];
    batch.x.dispose();
    batch.y.dispose();
    lossSum += step.value * n;
    wrong += step.wrong;
    images += n;
    const seconds = (performance.now() - start) / 1000;
    bar?.update(batch.index + 1, { loss: lossSum / images, 'img/s': images / seconds });
  }
  const freluAbsDb = Object.fromEntries(Object.entries(absDbSum).map(([path, sum]) => [path, sum / steps]));
  return { loss: lossSum / images, error: wrong / images, images, seconds: (performance.now() - start) / 1000, freluAbsDb, divergence: null, stoppedAfterSteps: null };
}

/** The evaluation pass; like trainEpoch it yields between batches and returns null once `stop` is aborted. */
export async function evaluate(model: Module, loader: DataLoader, stop?: AbortSignal): Promise<{ loss: number; error: number; firstBadBatch: number } | null> {
  model.eval();
  let lossSum = 0;
  let wrong = 0;
  let images = 0;
  let firstBadBatch = -1;
  for (const batch of loader.batches(0)) {
    await yieldToEventLoop();
    if (stop?.aborted) {
      batch.x.dispose();
      batch.y.dispose();
      return null;
    }
    const n = batch.labels.length;
    const r = noGrad(() => tidy(() => {
      const logits = model.forward(batch.x);
      return { loss: crossEntropy(logits, batch.y).item(), wrong: countWrong(logits.toArray(), batch.labels) };
    }));
    batch.x.dispose();
    batch.y.dispose();
    if (!Number.isFinite(r.loss) && firstBadBatch < 0) firstBadBatch = batch.index;
    lossSum += r.loss * n;
    wrong += r.wrong;
    images += n;
  }
  return { loss: lossSum / images, error: wrong / images, firstBadBatch };
}

/** Rows of `logits` [N, C] whose arg-max (the first, at a tie) is not the label. */
function countWrong(logits: TypedArray, labels: Int32Array): number {
  const n = labels.length;
  const c = logits.length / n;
  let wrong = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (logits[i * c + k] > logits[i * c + best]) best = k;
    if (best !== labels[i]) wrong++;
  }
  return wrong;
}

// ── divergence ──

/** Names the parameters holding a non-finite value, or null when all are finite. */
export function nonFiniteParameters(model: Module): string | null {
  const bad = model.namedParameters().filter(([, t]) => t.toArray().some((v) => !Number.isFinite(v))).map(([name]) => name);
  if (bad.length === 0) return null;
  const shown = bad.slice(0, 6).join(', ') + (bad.length > 6 ? ` and ${bad.length - 6} more` : '');
  return `parameters with non-finite values after the previous update: ${shown} (their gradients or the update overflowed)`;
}

/**
 * Names the parameters and buffers (BN's running statistics) holding a non-finite value — the
 * tensor and how many of its values — or null when all are finite. A finite loss does not prove
 * this: eval-mode statistics and weights the loss does not reach can be NaN while the loss is not.
 */
export function nonFiniteState(model: Module): string | null {
  const bad: string[] = [];
  for (const [name, t] of [...model.namedParameters(), ...model.namedBuffers()]) {
    const v = t.toArray();
    let count = 0;
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) count++;
    if (count > 0) bad.push(`${name} (${count} of ${v.length} values)`);
  }
  if (bad.length === 0) return null;
  const shown = bad.slice(0, 6).join(', ') + (bad.length > 6 ? ` and ${bad.length - 6} more` : '');
  return `non-finite values in ${shown}`;
}

/**
 * Why the loss of `batch` was not finite. Non-finite parameters are reported first (the previous
 * update broke them). Otherwise, on the reference backend, the batch's forward pass is run again
 * with every op checking its output, and the first op producing a non-finite value is named.
 */
export function diagnose(model: Module, batch: Batch, backend: BackendName, checkpointEpoch: number | null = null): { reason: string; firstNonFiniteOp: string | null } {
  const params = nonFiniteParameters(model);
  if (params !== null) return { reason: params, firstNonFiniteOp: null };
  if (backend !== 'reference') {
    return {
      reason:
        'every parameter is finite; the gpu backend does not check op outputs, so the first op producing a non-finite value ' +
        'is not located here (' +
        (checkpointEpoch === null
          ? 'no epoch completed, so there is no checkpoint: rerun with --backend reference to find it)'
          : `resume the checkpoint, which holds epoch ${checkpointEpoch}, with --resume --backend reference to find it)`),
      firstNonFiniteOp: null,
    };
  }
  setCheckFinite(true);
  try {
    noGrad(() => tidy(() => crossEntropy(model.forward(batch.x), batch.y)));
    return { reason: 'every parameter is finite, and a rerun of the batch with setCheckFinite(true) gave finite values in every op', firstNonFiniteOp: null };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const op = /^(\w+): produced a non-finite value/.exec(message);
    return { reason: `every parameter is finite; a rerun of the batch with setCheckFinite(true) says: ${message}`, firstNonFiniteOp: op ? op[1] : null };
  } finally {
    setCheckFinite(false);
  }
}
