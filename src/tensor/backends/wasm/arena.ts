/**
 * Tensors in the SIMD kernels' memory. The streaming kernels (./loops.ts) write their results
 * straight into the shared WebAssembly.Memory their threads compute in, as Float32Array views of
 * it, and read inputs that live there in place: between two such ops the values are neither
 * copied out into a new array nor copied back in (for these memory-bound ops, the copies cost
 * about what the arithmetic does). Every other kernel takes the views as ordinary Float32Arrays.
 *
 * The memory is carved into blocks of whole 64-byte lines: tensor arrays, and one scratch block
 * that each kernel call lays its operands out in (./kernels.ts `layout`). A block given back goes
 * on a list by its size and is handed out again for the next request of that size — a training
 * step asks for the same sizes in the same order every time, so after the first step the memory
 * stops growing. A tensor array is given back when its tensor is disposed (the gpu backend's
 * free), or, for one that is dropped without dispose, when the garbage collector collects its view.
 * When tensor arrays fill the memory (its 1 GiB limit, less 256 MiB kept for scratch), `tensor`
 * returns null and the caller makes an ordinary array instead.
 */
import { roundUp, type Gemm } from './gemm.js';

/** Blocks are whole cache lines: 16 floats. */
const LINE = 16;
/** The memory's limit in floats (./gemm.ts: 1 GiB). */
const LIMIT_FLOATS = 2 ** 28;
/**
 * Tensor arrays stop this far below the limit (256 MiB), which stays for the kernels' scratch: a
 * convolution of a large batch lays out ~100 MiB, and must not fail because tensors took it all.
 */
const TENSOR_LIMIT_FLOATS = LIMIT_FLOATS - 2 ** 26;

export class Arena {
  /** The end of the blocks handed out so far (floats); the memory holds at least this much. */
  private top = 0;
  /** Blocks given back, by size (floats): their offsets. */
  private readonly spare = new Map<number, number[]>();
  /** Where each tensor array lives: its block. */
  private readonly blocks = new WeakMap<Float32Array, { at: number; size: number }>();
  /** Gives a tensor array's block back when its view is collected without dispose. */
  private readonly collected = new FinalizationRegistry<{ at: number; size: number }>((block) => this.giveBack(block.at, block.size));
  private scratchBlock: { at: number; size: number } | null = null;

  constructor(private readonly gemm: Gemm) {}

  /** A block of at least `floats` floats, or null when the memory cannot hold it below `limit`. */
  private take(floats: number, limit: number): { at: number; size: number } | null {
    const size = roundUp(Math.max(floats, 1), LINE);
    const at = this.spare.get(size)?.pop();
    if (at !== undefined) return { at, size };
    if (this.top + size > limit) return null;
    const block = { at: this.top, size };
    this.top += size;
    this.gemm.reserve(this.top);
    return block;
  }

  private giveBack(at: number, size: number): void {
    let list = this.spare.get(size);
    if (list === undefined) this.spare.set(size, (list = []));
    list.push(at);
  }

  /**
   * A new tensor array of `n` floats in the memory (values unset: the kernel writes them all), or
   * null when the memory is full. Its block runs on to a whole line, so a kernel may write whole
   * vectors past n.
   */
  tensor(n: number): Float32Array | null {
    const block = this.take(n, TENSOR_LIMIT_FLOATS);
    if (block === null) return null;
    const view = new Float32Array(this.gemm.memory.buffer, block.at * 4, n);
    this.blocks.set(view, block);
    this.collected.register(view, block, view);
    return view;
  }

  /** Where `a` lives in the memory (float offset), or null for an array elsewhere. */
  offsetOf(a: Float32Array): number | null {
    return this.blocks.get(a)?.at ?? null;
  }

  /** Gives a tensor array's block back (its tensor was disposed); arrays elsewhere are ignored. */
  dispose(a: Float32Array): void {
    const block = this.blocks.get(a);
    if (block === undefined) return;
    this.blocks.delete(a);
    this.collected.unregister(a);
    this.giveBack(block.at, block.size);
  }

  /** The offset of the scratch block, at least `floats` long, that one kernel call lays its operands out in. */
  scratch(floats: number): number {
    if (this.scratchBlock === null || this.scratchBlock.size < floats) {
      if (this.scratchBlock !== null) this.giveBack(this.scratchBlock.at, this.scratchBlock.size);
      this.scratchBlock = this.take(floats, LIMIT_FLOATS);
      if (this.scratchBlock === null) {
        throw new Error(`wasm kernels: a kernel needs ${((floats * 4) / 2 ** 30).toFixed(2)} GiB of scratch memory, more than is left of its 1 GiB; use a smaller batch`);
      }
    }
    return this.scratchBlock.at;
  }
}
