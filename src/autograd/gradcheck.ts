/**
 * The numerical gradient checker. For y = fn(inputs) and a random upstream gradient r, it compares
 * the analytical gradient of L = Σ r·y (one backward pass) with central differences
 *
 *   ∂L/∂xᵢ ≈ (L(xᵢ + ε) − L(xᵢ − ε)) / 2ε
 *
 * element by element: |analytical − numerical| ≤ atol + rtol·|numerical|. A random r (not all ones)
 * makes a backward that ignores dy fail. It also checks, as PyTorch's gradcheck does, that a zero
 * upstream gradient gives zero gradients and that running backward twice gives identical results.
 *
 * float64 only: float32 differences of size 1e-6 would drown in rounding error.
 * Inputs with requiresGrad: false (labels, masks) are held fixed.
 *
 * `sample: N` checks N elements per input, drawn at random (seeded), instead of all of them —
 * PyTorch's fast mode in spirit, for whole networks where every element would take too long.
 *
 * Non-differentiable points: where an element fails, the checker also takes one-sided differences.
 * If they disagree (the input lies within eps of a kink: ReLU or FReLU at 0, a tie of max or
 * maxPool2d), the element is reported in `kinks`, not as a wrong gradient — unless the analytical
 * value lies outside the one-sided derivatives, which no convention at a kink gives.
 */
import { Tensor } from '../tensor/tensor.js';
import { fromTyped } from '../tensor/create.js';
import { shown } from '../util/format.js';
import { randomStream, type RandomStream } from '../tensor/random.js';
import { checkKeys } from '../util/options.js';
import { shapeToString, stridesOf } from '../tensor/shape.js';
import { noGrad } from './grad-mode.js';

/** Options of g.gradcheck; all have defaults. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-4). */
  rtol?: number;
  /** Seed of the random upstream gradient (default 0). */
  seed?: number;
  /** Names of the inputs, for the report (default x0, x1, …). */
  names?: readonly string[];
  /** Check only this many elements of each input, chosen at random with `seed` (default: every element). */
  sample?: number;
}

/** An element within eps of a point where fn is not differentiable (its one-sided derivatives differ). */
export interface GradcheckKink {
  input: string;
  index: number[];
  flatIndex: number;
  /** (L(x) − L(x − eps)) / eps and (L(x + eps) − L(x)) / eps. */
  left: number;
  right: number;
  analytical: number;
  message: string;
}

/** One element whose analytical gradient disagrees with the numerical one. */
export interface GradcheckFailure {
  /** Which input (its name) and which element (multi-index and flat index). */
  input: string;
  index: number[];
  flatIndex: number;
  numerical: number;
  analytical: number;
  message: string;
}

/** What g.gradcheck returns: ok, the worst errors, every failing element, and a readable summary. */
export interface GradcheckResult {
  ok: boolean;
  maxAbsError: number;
  maxRelError: number;
  failures: GradcheckFailure[];
  /** Problems that are not one element's value: shapes, dy = 0, repeatability. */
  problems: string[];
  /** Elements at non-differentiable points, where the analytical value lies between the one-sided derivatives (not failures). */
  kinks: GradcheckKink[];
  /** How many elements were compared, over all inputs. */
  checked: number;
  /** Every compared element, input by input: where it is, both gradients, and how it was judged. */
  elements: {
    input: string;
    index: number[];
    numerical: number;
    analytical: number;
    verdict: 'ok' | 'failure' | 'kink';
  }[];
  /** A readable summary: 'ok' or the worst failures. */
  summary: string;
}

/** Checks `fn`'s analytical gradients against central differences in float64 (see the module comment): `g.gradcheck((x, w) => g.matmul(x, w), [x, w]).ok`. */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  checkKeys('gradcheck', options, ['eps', 'atol', 'rtol', 'seed', 'names', 'sample']);
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-4;
  const names = inputs.map((_, i) => options.names?.[i] ?? `x${i}`);
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new Error(`gradcheck: input ${names[i]} must be a Tensor`);
    if (t.dtype !== 'float64' || t.backend !== 'reference') {
      throw new Error(
        `gradcheck: input ${names[i]} is ${t.dtype} on '${t.backend}'; gradcheck runs in float64 on the 'reference' backend ` +
          '(float32 rounding swamps finite differences). Move it there with ' +
          `g.toBackend(x, 'reference', { dtype: 'float64', requiresGrad: ${t.requiresGrad} }) and build the function's other tensors there too`,
      );
    }
  });
  if (options.sample !== undefined && !(Number.isInteger(options.sample) && options.sample >= 1)) {
    throw new Error(`gradcheck: sample must be an integer ≥ 1 (elements checked per input); got ${shown(options.sample)}`);
  }
  const values = inputs.map((t) => t.toArray() as Float64Array);
  const make = (i: number, v: Float64Array): Tensor => fromTyped(v, inputs[i].shape, { dtype: 'float64', backend: 'reference', requiresGrad: inputs[i].requiresGrad });
  const problems: string[] = [];

  // The analytical gradients, for L = Σ r·y.
  const analytic = (seedValues: (size: number) => Float64Array): { y: Tensor; grads: (Float64Array | null)[] } => {
    const leaves = values.map((v, i) => make(i, Float64Array.from(v)));
    const y = fn(...leaves);
    if (!(y instanceof Tensor)) throw new Error('gradcheck: fn must return a Tensor');
    if (!y.requiresGrad) throw new Error('gradcheck: the output does not require grad (no input has requiresGrad: true?)');
    y.backward(fromTyped(seedValues(y.size), y.shape, { dtype: 'float64', backend: 'reference' }));
    const grads = leaves.map((leaf, i) => {
      if (!leaf.requiresGrad) return null;
      if (leaf.grad === null) return new Float64Array(values[i].length); // no path from this input: gradient 0
      if (leaf.grad.size !== leaf.size) problems.push(`gradient of ${names[i]} has shape ${shapeToString(leaf.grad.shape)}; expected ${shapeToString(leaf.shape)}`);
      return leaf.grad.toArray() as Float64Array;
    });
    return { y, grads };
  };

  const rng = randomStream(options.seed ?? 0);
  let r: Float64Array | null = null;
  const upstream = (size: number): Float64Array => {
    r ??= Float64Array.from({ length: size }, () => rng.uniform() * 2 - 1);
    return r;
  };
  const first = analytic(upstream);
  const again = analytic(upstream);
  first.grads.forEach((g, i) => {
    const h = again.grads[i];
    if (g && h && g.some((v, j) => !Object.is(v, h[j]))) problems.push(`backward is not repeatable: two runs gave different gradients for ${names[i]}`);
  });
  const zero = analytic((size) => new Float64Array(size));
  zero.grads.forEach((g, i) => {
    if (g && g.some((v) => v !== 0)) problems.push(`a zero upstream gradient gave a non-zero gradient for ${names[i]} (backward is not linear in dy)`);
  });

  const loss = (vals: Float64Array[]): number =>
    noGrad(() => {
      const y = fn(...vals.map((v, i) => make(i, v)));
      const yv = y.toArray();
      let s = 0;
      for (let j = 0; j < yv.length; j++) s += r![j] * yv[j];
      return s;
    });

  const failures: GradcheckFailure[] = [];
  const kinks: GradcheckKink[] = [];
  let maxAbsError = 0;
  let maxRelError = 0;
  let checked = 0;
  const elements: GradcheckResult['elements'] = [];
  const pick = randomStream(`${options.seed ?? 0}/sample`);
  const within = (a: number, n: number): boolean => Math.abs(a - n) <= atol + rtol * Math.abs(n);
  inputs.forEach((t, i) => {
    const g = first.grads[i];
    if (g === null) return;
    const strides = stridesOf(t.shape);
    for (const j of elementsToCheck(values[i].length, options.sample, pick)) {
      checked++;
      const original = values[i][j];
      const vals = values.map((v) => Float64Array.from(v));
      vals[i][j] = original + eps;
      const plus = loss(vals);
      vals[i][j] = original - eps;
      const minus = loss(vals);
      const numerical = (plus - minus) / (2 * eps);
      const analytical = g[j];
      const element = { input: names[i], index: strides.map((s, k) => Math.floor(j / s) % t.shape[k]), numerical, analytical, verdict: 'ok' as 'ok' | 'failure' | 'kink' };
      elements.push(element);
      const abs = Math.abs(analytical - numerical);
      const rel = abs / Math.max(Math.abs(numerical), 1e-12);
      if (!within(analytical, numerical)) {
        const index = strides.map((s, k) => Math.floor(j / s) % t.shape[k]);
        // One-sided differences: a kink within eps makes them disagree.
        vals[i][j] = original;
        const here = loss(vals);
        const left = (here - minus) / eps;
        const right = (plus - here) / eps;
        if (!within(left, right) && !within(right, left)) {
          const between = analytical >= Math.min(left, right) - atol && analytical <= Math.max(left, right) + atol;
          const where = `${names[i]}[${index.join(', ')}] = ${original.toPrecision(6)}`;
          if (between) {
            element.verdict = 'kink';
            kinks.push({
              input: names[i], index, flatIndex: j, left, right, analytical,
              message:
                `${where} lies within eps = ${eps} of a non-differentiable point (a kink, or a tie of max): one-sided derivatives ` +
                `${left.toFixed(6)} and ${right.toFixed(6)} differ; the analytical ${analytical.toFixed(6)} lies between them, so it is not judged — ` +
                'move the input away from the kink to check it',
            });
            continue;
          }
          element.verdict = 'failure';
          failures.push({
            input: names[i], index, flatIndex: j, numerical, analytical,
            message:
              `∂y/∂${names[i]} wrong at [${index.join(', ')}] — ${where} is at a non-differentiable point (one-sided derivatives ` +
              `${left.toFixed(6)} and ${right.toFixed(6)}), and the analytical ${analytical.toFixed(6)} lies outside them`,
          });
          continue;
        }
      }
      if (Number.isFinite(abs)) maxAbsError = Math.max(maxAbsError, abs);
      if (Number.isFinite(rel) && abs > atol) maxRelError = Math.max(maxRelError, rel);
      if (!within(analytical, numerical)) {
        const index = strides.map((s, k) => Math.floor(j / s) % t.shape[k]);
        element.verdict = 'failure';
        failures.push({
          input: names[i],
          index,
          flatIndex: j,
          numerical,
          analytical,
          message:
            `∂y/∂${names[i]} wrong at [${index.join(', ')}] — numerical ${numerical.toFixed(6)}, analytical ${analytical.toFixed(6)} ` +
            `(|diff| ${abs.toPrecision(3)} > ${atol} + ${rtol}·${Math.abs(numerical).toPrecision(3)})`,
        });
      }
    }
  });
  const ok = failures.length === 0 && problems.length === 0;
  const kinkNote = kinks.length === 0 ? '' : `; ${kinks.length} element${kinks.length === 1 ? '' : 's'} at non-differentiable points not judged (first: ${kinks[0].message})`;
  const summary = ok
    ? `ok (max abs error ${maxAbsError.toPrecision(3)} over ${checked} elements${kinkNote})`
    : [...problems, ...failures.slice(0, 5).map((f) => f.message), failures.length > 5 ? `… and ${failures.length - 5} more elements` : '']
        .filter(Boolean)
        .join('\n');
  return { ok, maxAbsError, maxRelError, failures, problems, kinks, checked, elements, summary };
}

/** Every index of an input of `size` elements, or `sample` of them drawn without replacement. */
function elementsToCheck(size: number, sample: number | undefined, rng: RandomStream): number[] {
  const all = Array.from({ length: size }, (_, j) => j);
  if (sample === undefined || sample >= size) return all;
  for (let k = 0; k < sample; k++) {
    const r = k + rng.int(size - k);
    [all[k], all[r]] = [all[r], all[k]];
  }
  return all.slice(0, sample).sort((a, b) => a - b);
}
