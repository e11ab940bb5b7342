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

/** A gpu.js texture (GL modes): one tensor's values on the device. */
export interface DeviceTexture {
  readonly output: readonly number[];
  /** Frees the texture. */
  delete(): void;
  /** Reads the values back to the host. */
  toArray(): unknown;
}

/** The toolbox a gpu op implementation uses to run kernels (implemented in backends/gpu/kit.ts). */
export interface GpuKit {
  /**
   * Runs `kernel` for every element of a flat output of `size` elements (`this.thread.x` is the
   * output index). `constants` become compile-time constants (`this.constants.C`); the compiled
   * kernel is cached per (kernel, size, constants), so a number that changes from call to call
   * (a learning rate) belongs in an argument made by `scalar` instead.
   */
  run(kernel: KernelFn, size: number, args: readonly DeviceArray[], constants?: Record<string, number>): DeviceArray;
  /** `run` with the output the size of the first argument: the elementwise case. */
  map(kernel: KernelFn, ...args: DeviceArray[]): DeviceArray;
  /**
   * `value` as a one-element array, for a kernel to read as `s[0]` (add's α): a number given at
   * run time, so that one compiled kernel serves every value, where a constant compiles a kernel
   * per value. In the GL modes it is a host array gpu.js uploads at each call; it belongs to no
   * tensor and needs no release.
   */
  scalar(value: number): DeviceArray;
  /** Σ of all `size` elements of `x`, as a one-element array (the shared reduction). */
  sumAll(x: DeviceArray, size: number): DeviceArray;
  /**
   * Frees a temporary this op call made (with run, map, sumAll) before the op returns. Optional:
   * the backend frees every temporary when the op returns; this only lowers peak memory. Inputs
   * and saved values belong to their tensors and are refused.
   */
  release(a: DeviceArray): void;
  /**
   * Hand-written kernels over the CPU modes' Float32Arrays, for the op to call instead of its
   * gpu.js kernels where they run: in webasm mode, where gpu.js's generated code is ~20× slower at
   * matrix products (the WebAssembly SIMD products of src/tensor/backends/wasm/kernels.ts;
   * gemm.ts says why) and several times slower at the memory-bound ops, whose arguments it copies
   * into its own memory at every call (the streaming kernels of src/tensor/backends/wasm/loops.ts).
   * Returns them ready for device arrays — each array argument checked to be a live Float32Array,
   * each result (an array, or a record of arrays) owned by this op call like run's — or null in
   * the GL mode (or with them turned off), where the op runs its gpu.js kernels. Either way
   * gpu-vs-reference.test.ts checks the op against its reference kernel.
   *
   * @typeParam K the kernels, by name
   */
  simd<K extends CpuKernels>(kernels: K): OnDevice<K> | null;
}

/**
 * Kernels over host Float32Arrays (what GpuKit.simd takes), each returning a new array or, for a
 * kernel with several outputs (a backward's gradients), a record of new arrays.
 */
export type CpuKernels = Readonly<Record<string, (...args: never[]) => Float32Array | CpuResults>>;
/** Several outputs of one CPU kernel, by name. */
export type CpuResults = Readonly<Record<string, Float32Array>>;

/** A kernel of `K` as an op calls it: its Float32Array arguments are device arrays, and so are its results. */
export type OnDevice<K extends CpuKernels> = {
  readonly [name in keyof K]: (...args: DeviceArgs<Parameters<K[name]>>) => DeviceResults<ReturnType<K[name]>>;
};
type DeviceArgs<P extends readonly unknown[]> = { [i in keyof P]: P[i] extends Float32Array ? DeviceArray : P[i] };
type DeviceResults<R> = R extends Float32Array ? DeviceArray : { readonly [name in keyof R]: DeviceArray };

/** Shapes and attributes an op's kernels see, besides the arrays themselves. */
export interface OpContext<I extends string, A> {
  readonly attrs: A;
  readonly shapes: Readonly<Record<I, Shape>>;
  readonly outShape: Shape;
  readonly dtype: DType;
  /** During backward: which inputs need a gradient (others may be skipped by costly kernels). */
  readonly needsGrad: Readonly<Record<I, boolean>>;
}

/** The key of an input's gradient: 'dx' for input 'x'. */
export type GradName<I extends string> = `d${I}`;

/** An op's definition, what defineOp takes: name, inputs, what backward saves, the shape rule, and the kernels of each backend. */
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
    /** Fills y (allocated from outputShape) from the inputs. */
    forward(inputs: Readonly<Record<I, TypedArray>>, y: TypedArray, ctx: OpContext<I, A>): void;
    /** Fills each wanted gradient (allocated like its input) from the saved values and dy. */
    backward(
      saved: Readonly<Record<S, TypedArray>>,
      dy: TypedArray,
      grads: Readonly<Record<GradName<I>, TypedArray>>,
      ctx: OpContext<I, A>,
    ): void;
  };
  readonly gpu?: {
    /** Returns y, computed with the kit's kernels. */
    forward(k: GpuKit, inputs: Readonly<Record<I, DeviceArray>>, ctx: OpContext<I, A>): DeviceArray;
    /** Returns the gradients (keys 'd' + input name), computed with the kit's kernels. */
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
