/**
 * Initialisers (g.nn.init): each one replaces a weight's values in place (with `assign`, outside
 * the autograd graph) by seeded random draws or a constant, and returns the same tensor.
 *
 * Fans — how many numbers feed one output unit (fan-in) or one input unit feeds (fan-out):
 *
 *   Linear weight [out, in]          fanIn = in          fanOut = out
 *   Conv2d weight [O, C, KH, KW]     fanIn = C·KH·KW     fanOut = O·KH·KW
 *
 *   kaimingNormal   w ~ N(0, std²)          std   = gain / √fan                    (He et al. 2015)
 *   kaimingUniform  w ~ U(−bound, bound)    bound = gain · √(3 / fan)   (same variance gain²/fan)
 *   xavierUniform   w ~ U(−bound, bound)    bound = gain · √(6 / (fanIn + fanOut))  (Glorot & Bengio 2010)
 *
 * gain is √2 by default for the Kaiming forms (a ReLU passes half of a symmetric input's second
 * moment, so the weights make up a factor 2) and 1 for Xavier.
 *
 * The FReLU paper (Qiu & Cai, §2.2) keeps the backward signal's variance constant through every
 * layer with eq. (5):  ½ · n̂ · Var[w] = 1,  n̂ = k²·d  (k the kernel size, d the OUTPUT channels),
 * i.e. std = √(2 / (k²·d)) — kaimingNormal with mode 'fanOut'. fb.resnet.torch and the authors'
 * code initialise every conv layer this way (`v.weight:normal(0, math.sqrt(2/n))`, n = kW·kH·nOutputPlane).
 *
 * Every random initialiser needs `seed`: a number or string (a fresh stream) or a RandomStream
 * (draws continue from it — how a model initialises its layers one after another from one seed).
 * Values are drawn in float64 on the CPU, in row-major order, then cast to the weight's dtype and
 * uploaded to its backend; so the same seed gives the same weights on 'reference' and 'gpu'.
 *
 * @module
 */
import { checkKeys } from '../util/options.js';
import { Tensor } from '../tensor/tensor.js';
import { fromTyped } from '../tensor/create.js';
import { allocate } from '../tensor/dtype.js';
import { randomStream, type RandomStream } from '../tensor/random.js';
import { shapeToString, sizeOf, type Shape } from '../tensor/shape.js';
import { shown } from '../util/format.js';

/** A seed (a fresh stream is made from it) or a stream to continue drawing from. */
export type Seed = number | string | RandomStream;

/** Which fan scales an initialiser: fan-in (PyTorch's default) or fan-out (the paper's eq. 5). */
export type FanMode = 'fanIn' | 'fanOut';

/** A weight's fan-in and fan-out (see the module comment). */
export interface Fans {
  fanIn: number;
  fanOut: number;
}

/**
 * The fans of a weight of `shape`: [out, in] (Linear) or [O, C, ...kernel] (convolution).
 * `computeFans([16, 3, 3, 3])` → { fanIn: 27, fanOut: 144 }.
 */
export function computeFans(shape: Shape, op = 'computeFans'): Fans {
  if (shape.length < 2) {
    throw new Error(
      `${op}: fans are defined for a weight of at least 2 axes ([out, in] or [O, C, KH, KW]); got ${shapeToString(shape)}`,
    );
  }
  const receptiveField = sizeOf(shape.slice(2)); // KH·KW for a conv weight, 1 for a Linear weight
  return { fanIn: shape[1] * receptiveField, fanOut: shape[0] * receptiveField };
}

function streamOf(op: string, seed: Seed | undefined): RandomStream {
  if (typeof seed === 'number' || typeof seed === 'string') return randomStream(seed);
  if (seed !== null && typeof seed === 'object' && typeof seed.uniform === 'function' && typeof seed.normal === 'function') return seed;
  throw new Error(`${op}: options.seed is required (a number, a string or a RandomStream), so the draw can be repeated; got ${String(seed)}`);
}

function checkWeight(op: string, w: unknown): Tensor {
  if (!(w instanceof Tensor)) throw new Error(`${op}: w must be a Tensor; got ${typeof w}`);
  return w;
}

/** Replaces w's values by `draw()` for each element, in row-major order. */
function fillWith(w: Tensor, draw: () => number): Tensor {
  const values = allocate('float64', w.size);
  for (let i = 0; i < values.length; i++) values[i] = draw();
  w.assign(fromTyped(values, w.shape, { dtype: w.dtype, backend: w.backend }));
  return w;
}

function positive(op: string, name: string, value: number): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new Error(`${op}: ${name} must be a positive finite number; got ${String(value)}`);
  }
  return value;
}

function fanOf(op: string, w: Tensor, mode: FanMode | undefined): number {
  const fans = computeFans(w.shape, op);
  if (mode === undefined || mode === 'fanIn') return fans.fanIn;
  if (mode === 'fanOut') return fans.fanOut;
  throw new Error(`${op}: mode must be 'fanIn' or 'fanOut'; got ${shown(mode)}`);
}

/** Options of kaimingNormal and kaimingUniform: the seed is required. */
export interface KaimingOptions {
  /** Which fan sets the scale. Default 'fanIn' (PyTorch's); the FReLU paper's eq. (5) is 'fanOut'. */
  mode?: FanMode;
  /** Default √2 (ReLU). */
  gain?: number;
  seed: Seed;
}

/**
 * w ~ N(0, (gain/√fan)²). The paper's conv init:
 *   `init.kaimingNormal(conv.weight, { mode: 'fanOut', seed: 1 })`   // std = √(2 / (k²·C_out))
 */
export function kaimingNormal(w: Tensor, options: KaimingOptions): Tensor {
  const op = 'kaimingNormal';
  checkKeys(op, options, ['mode', 'gain', 'seed']);
  checkWeight(op, w);
  const rng = streamOf(op, options?.seed);
  const std = positive(op, 'gain', options.gain ?? Math.SQRT2) / Math.sqrt(fanOf(op, w, options.mode));
  return fillWith(w, () => std * rng.normal());
}

/** w ~ U(−bound, bound) with bound = gain·√(3/fan), the variance of kaimingNormal with a bounded range. */
export function kaimingUniform(w: Tensor, options: KaimingOptions): Tensor {
  const op = 'kaimingUniform';
  checkKeys(op, options, ['mode', 'gain', 'seed']);
  checkWeight(op, w);
  const rng = streamOf(op, options?.seed);
  const bound = positive(op, 'gain', options.gain ?? Math.SQRT2) * Math.sqrt(3 / fanOf(op, w, options.mode));
  return fillWith(w, () => bound * (2 * rng.uniform() - 1));
}

/** w ~ U(−bound, bound) with bound = gain·√(6 / (fanIn + fanOut)) (Glorot): variance 2·gain²/(fanIn + fanOut). */
export function xavierUniform(w: Tensor, options: { gain?: number; seed: Seed }): Tensor {
  const op = 'xavierUniform';
  checkKeys(op, options, ['gain', 'seed']);
  checkWeight(op, w);
  const rng = streamOf(op, options?.seed);
  const { fanIn, fanOut } = computeFans(w.shape, op);
  const bound = positive(op, 'gain', options.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return fillWith(w, () => bound * (2 * rng.uniform() - 1));
}

/**
 * w ~ U(low, high). Torch's and PyTorch's default for a Linear or conv layer is
 * `uniform(w, { low: -1/√fanIn, high: 1/√fanIn, seed })` for the weight and the bias.
 */
export function uniform(w: Tensor, options: { low: number; high: number; seed: Seed }): Tensor {
  const op = 'uniform';
  checkKeys(op, options, ['low', 'high', 'seed']);
  checkWeight(op, w);
  const rng = streamOf(op, options?.seed);
  const { low, high } = options;
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(low <= high)) {
    throw new Error(`uniform: options.low and options.high must be finite numbers with low ≤ high; got low ${String(low)}, high ${String(high)}`);
  }
  return fillWith(w, () => low + (high - low) * rng.uniform());
}

/** w ~ N(mean, std²). */
export function normal(w: Tensor, options: { mean?: number; std: number; seed: Seed }): Tensor {
  const op = 'normal';
  checkKeys(op, options, ['mean', 'std', 'seed']);
  checkWeight(op, w);
  const rng = streamOf(op, options?.seed);
  const mean = options.mean ?? 0;
  const std = options.std;
  if (!Number.isFinite(mean) || !Number.isFinite(std) || std < 0) {
    throw new Error(`normal: options.mean must be finite and options.std finite and ≥ 0; got mean ${String(mean)}, std ${String(std)}`);
  }
  return fillWith(w, () => mean + std * rng.normal());
}

/** Every element of w set to `value` (BN's γ = 1 and β = 0, FReLU's b = −1). */
export function constant(w: Tensor, value: number): Tensor {
  checkWeight('constant', w);
  if (typeof value !== 'number' || Number.isNaN(value)) throw new Error(`constant: value must be a number; got ${String(value)}`);
  return fillWith(w, () => value);
}
