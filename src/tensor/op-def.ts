/**
 * What an op *is*, independent of autograd: its name, its inputs, its shape rule and its kernels
 * for each backend. `defineOp` (src/autograd/op.ts) turns one of these into a callable op that
 * records the autograd graph; the backends (src/tensor/backends) run its kernels.
 *
 *   forward:   inputs ──kernel──▶ y                 (shape from outputShape)
 *   backward:  saved values + dy ──kernel──▶ dx, db… (each shaped like its input)
 *
 * Reference kernels *fill* arrays the engine allocated (zero-filled), so they hold only arithmetic.
 * gpu.js kernels *return* one value per thread, so the gpu side returns its outputs.
 */
import type { DType, TypedArray } from './dtype.js';
import type { Shape } from './shape.js';

/** A flat array as a gpu.js kernel sees it: index it with a flat, row-major position. */
export interface Flat {
  readonly [i: number]: number;
}

/** `this` inside a gpu.js kernel: `this.thread.x` is the flat index of the output element. */
export interface Thread {
  readonly thread: { readonly x: number; readonly y: number; readonly z: number };
  readonly constants: Readonly<Record<string, number>>;
}

/** A gpu.js kernel body: one call computes one output element. Must be a `function`, not an arrow. */
export type KernelFn = (this: Thread, ...args: never[]) => number;

/**
 * Where a tensor's numbers live on the gpu backend: a Float32Array on the CPU modes (webasm, cpu),
 * a texture handle on the GL modes. Every tensor is one flat, row-major array on the device.
 */
export type DeviceArray = Float32Array | DeviceTexture;

export interface DeviceTexture {
  readonly output: readonly number[];
  delete(): void;
  toArray(): unknown;
}

/** The toolbox a gpu op implementation uses to run kernels (implemented in backends/gpu.ts). */
export interface GpuKit {
  /**
   * Runs `kernel` for every element of a flat output of `size` elements (`this.thread.x` is the
   * output index). `constants` become compile-time constants (`this.constants.C`); the compiled
   * kernel is cached per (kernel, size, constants).
   */
  run(kernel: KernelFn, size: number, args: readonly DeviceArray[], constants?: Record<string, number>): DeviceArray;
  /** `run` with the output the size of the first argument: the elementwise case. */
  map(kernel: KernelFn, ...args: DeviceArray[]): DeviceArray;
  /** Σ of all `size` elements of `x`, as a one-element array (the shared reduction). */
  sumAll(x: DeviceArray, size: number): DeviceArray;
  /**
   * Frees a temporary this op call made (with run, map, sumAll) before the op returns. Optional:
   * the backend frees every temporary when the op returns; this only lowers peak memory. Inputs
   * and saved values belong to their tensors and are refused.
   */
  release(a: DeviceArray): void;
  /**
   * Hand-written WebAssembly SIMD kernels for the matrix products inside matmul and conv2d, when
   * the backend runs on the CPU (webasm mode): there gpu.js's generated code is ~20× slower at
   * them (src/tensor/backends/wasm/gemm.ts says why). null in the GL mode, where the ops run their
   * gpu.js kernels. Either way gpu-vs-reference.test.ts checks the op against its reference kernel.
   */
  readonly simd: SimdKernels | null;
}

/** Sizes of a batched matrix product: `batch` times [M×K]·[K×N]. */
export interface MatmulDims {
  readonly batch: number;
  readonly M: number;
  readonly K: number;
  readonly N: number;
  /** a holds each [M×K] matrix transposed ([K×M], row-major). */
  readonly transA: boolean;
  /** b holds each [K×N] matrix transposed ([N×K], row-major). */
  readonly transB: boolean;
}

/** Sizes of a 2-D convolution, named as in src/nn/ops/conv2d.ts: x [N, C, H, W], w [O, C, KH, KW], y [N, O, OH, OW]. */
export interface ConvDims {
  readonly N: number; readonly C: number; readonly H: number; readonly W: number;
  readonly O: number; readonly KH: number; readonly KW: number;
  readonly OH: number; readonly OW: number;
  readonly SY: number; readonly SX: number;
  readonly PY: number; readonly PX: number;
}

/**
 * See GpuKit.simd; implemented (over Float32Arrays, `A`) in src/tensor/backends/wasm/kernels.ts.
 * Each returns a new array.
 */
export interface SimdKernels<A = DeviceArray> {
  /** y[i] = a[i] · b[i] for each of the `batch` pairs (a, b possibly stored transposed). */
  matmul(a: A, b: A, dims: MatmulDims): Float32Array;
  /** y = conv2d(x, w) (no bias), the forward of src/nn/ops/conv2d.ts. */
  conv2d(x: A, w: A, dims: ConvDims): Float32Array;
  /** dx from dy and w. */
  conv2dInputGrad(dy: A, w: A, dims: ConvDims): Float32Array;
  /** dw from dy and x. */
  conv2dWeightGrad(dy: A, x: A, dims: ConvDims): Float32Array;
}

/** Shapes and attributes an op's kernels see, besides the arrays themselves. */
export interface OpContext<I extends string, A> {
  readonly attrs: A;
  readonly shapes: Readonly<Record<I, Shape>>;
  readonly outShape: Shape;
  readonly dtype: DType;
  /** During backward: which inputs need a gradient (others may be skipped by costly kernels). */
  readonly needsGrad: Readonly<Record<I, boolean>>;
}

export type GradName<I extends string> = `d${I}`;

export interface OpDef<I extends string, S extends string, A> {
  /** Equals the exported identifier of the op, so errors, registry and files agree. */
  readonly name: string;
  /** Input names, in order. */
  readonly inputs: readonly I[];
  /** Inputs that get no gradient (labels, masks, running statistics). Default: none. */
  readonly nonDifferentiable?: readonly I[];
  /** What backward needs: input names, and 'y' for the output. */
  readonly saves: readonly S[];
  /** Validates shapes and attributes (clear errors) and returns the output shape. */
  outputShape(shapes: Readonly<Record<I, Shape>>, attrs: A): Shape;
  readonly reference: {
    forward(inputs: Readonly<Record<I, TypedArray>>, y: TypedArray, ctx: OpContext<I, A>): void;
    backward(
      saved: Readonly<Record<S, TypedArray>>,
      dy: TypedArray,
      grads: Readonly<Record<GradName<I>, TypedArray>>,
      ctx: OpContext<I, A>,
    ): void;
  };
  readonly gpu?: {
    forward(k: GpuKit, inputs: Readonly<Record<I, DeviceArray>>, ctx: OpContext<I, A>): DeviceArray;
    backward(
      k: GpuKit,
      saved: Readonly<Record<S, DeviceArray>>,
      dy: DeviceArray,
      ctx: OpContext<I, A>,
    ): Partial<Record<GradName<I>, DeviceArray>>;
  };
}

/** Any op definition, as backends and the registry see it. */
export type AnyOpDef = OpDef<string, string, object>;
