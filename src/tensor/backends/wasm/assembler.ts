/**
 * Just enough of a WebAssembly assembler to write the SIMD kernels in ./gemm.ts and ./streams.ts
 * by hand: one module, one imported memory, functions of i32 parameters, i32/f32/v128 locals,
 * structured loops. Each method appends one instruction's bytes (the encodings are in the WebAssembly core
 * specification, §5.4, and its SIMD proposal), so a kernel reads top to bottom as the instructions
 * it runs.
 */

/** Value types, by their binary codes. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof V128;

/** Unsigned LEB128, the encoding of every size and index in a module. */
function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128, the encoding of i32.const's operand. */
function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A vector of bytes, prefixed by its length. */
function sized(bytes: readonly number[]): number[] {
  return [...uleb(bytes.length), ...bytes];
}

function utf8(name: string): number[] {
  return sized([...new TextEncoder().encode(name)]);
}

/** SIMD instructions: the 0xfd prefix, then the opcode as unsigned LEB128. */
const simd = (opcode: number): number[] => [0xfd, ...uleb(opcode)];

/** The body of one function: its locals and its instructions. Parameters are i32 and come first. */
export class FunctionBody {
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];

  constructor(readonly name: string, readonly params: number) {}

  /** A new local of `type`; returns its index. */
  local(type: ValType): number {
    this.locals.push(type);
    return this.params + this.locals.length - 1;
  }

  private emit(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  get(index: number): this { return this.emit(0x20, ...uleb(index)); }
  set(index: number): this { return this.emit(0x21, ...uleb(index)); }
  tee(index: number): this { return this.emit(0x22, ...uleb(index)); }

  i32(value: number): this { return this.emit(0x41, ...sleb(value)); }
  add(): this { return this.emit(0x6a); }
  sub(): this { return this.emit(0x6b); }
  mul(): this { return this.emit(0x6c); }
  shl(): this { return this.emit(0x74); }
  shrU(): this { return this.emit(0x76); }
  and(): this { return this.emit(0x71); }
  eq(): this { return this.emit(0x46); }
  ltS(): this { return this.emit(0x48); }
  eqz(): this { return this.emit(0x45); }

  /** i32 at address (popped) + offset bytes. */
  i32Load(offset = 0): this { return this.emit(0x28, 2, ...uleb(offset)); }
  /** Stores an i32 (popped last) at address + offset bytes. */
  i32Store(offset = 0): this { return this.emit(0x36, 2, ...uleb(offset)); }
  /** f32 at address (popped) + offset bytes. */
  f32Load(offset = 0): this { return this.emit(0x2a, 2, ...uleb(offset)); }
  /** Stores an f32 (popped last) at address + offset bytes. */
  f32Store(offset = 0): this { return this.emit(0x38, 2, ...uleb(offset)); }
  f32Add(): this { return this.emit(0x92); }
  f64Add(): this { return this.emit(0xa0); }
  /** Stores an f64 (popped last) at address + offset bytes. */
  f64Store(offset = 0): this { return this.emit(0x39, 3, ...uleb(offset)); }
  /** f64 at address (popped) + offset bytes. */
  f64Load(offset = 0): this { return this.emit(0x2b, 3, ...uleb(offset)); }
  /** The f32 at address (popped) + offset bytes in all four lanes (one instruction for f32.load, f32x4.splat). */
  v128Load32Splat(offset = 0): this { return this.emit(...simd(0x09), 2, ...uleb(offset)); }
  /** 16 bytes at address (popped) + offset bytes, as a v128. */
  v128Load(offset = 0): this { return this.emit(...simd(0x00), 4, ...uleb(offset)); }
  /** Stores a v128 (popped last) at address + offset bytes. */
  v128Store(offset = 0): this { return this.emit(...simd(0x0b), 4, ...uleb(offset)); }
  v128Zero(): this { return this.emit(...simd(0x0c), ...new Array<number>(16).fill(0)); }
  f32x4Splat(): this { return this.emit(...simd(0x13)); }
  f64x2Splat(): this { return this.emit(...simd(0x14)); }
  f64x2ExtractLane(lane: number): this { return this.emit(...simd(0x21), lane); }
  /** The two low floats of a v128 as two f64s. */
  f64x2PromoteLow(): this { return this.emit(...simd(0x5f)); }
  /** Two f64s as the two low floats of a v128 (the high two zero). */
  f32x4DemoteZero(): this { return this.emit(...simd(0x5e)); }
  f64x2Add(): this { return this.emit(...simd(0xf0)); }
  f64x2Sub(): this { return this.emit(...simd(0xf1)); }
  f64x2Mul(): this { return this.emit(...simd(0xf2)); }
  f32x4Add(): this { return this.emit(...simd(0xe4)); }
  f32x4Sub(): this { return this.emit(...simd(0xe5)); }
  f32x4Mul(): this { return this.emit(...simd(0xe6)); }
  f32x4Neg(): this { return this.emit(...simd(0xe1)); }
  /**
   * Relaxed SIMD's fused multiply-add: pops a, b, c and pushes a·b + c, rounded once (fused) or
   * twice (as f32x4.mul then f32x4.add), as the engine chooses. Validates only where the engine
   * has relaxed SIMD (./gemm.ts checks before using it).
   */
  f32x4RelaxedMadd(): this { return this.emit(...simd(0x105)); }
  /** Lane masks (all ones where true): a > b, a ≠ b (true where either is NaN), a = b. */
  f32x4Gt(): this { return this.emit(...simd(0x44)); }
  f32x4Ne(): this { return this.emit(...simd(0x42)); }
  f32x4Eq(): this { return this.emit(...simd(0x41)); }
  i32x4Eq(): this { return this.emit(...simd(0x37)); }
  i32x4Splat(): this { return this.emit(...simd(0x11)); }
  v128And(): this { return this.emit(...simd(0x4e)); }
  v128Or(): this { return this.emit(...simd(0x50)); }
  /** (a AND mask) OR (b AND NOT mask), the mask popped last: a where the mask is set, else b. */
  v128Bitselect(): this { return this.emit(...simd(0x52)); }
  /** Four floats picked from the eight of a (0–3) and b (4–7), by float index. */
  f32x4Shuffle(floats: readonly [number, number, number, number]): this {
    return this.emit(...simd(0x0d), ...floats.flatMap((f) => [4 * f, 4 * f + 1, 4 * f + 2, 4 * f + 3]));
  }

  /** local[index] += delta (i32). */
  addTo(index: number, delta: () => void): this {
    this.get(index);
    delta();
    return this.add().set(index);
  }

  /** if (condition) { then } — condition pushes an i32. */
  if(condition: () => void, then: () => void, otherwise?: () => void): this {
    condition();
    this.emit(0x04, 0x40);
    then();
    if (otherwise) {
      this.emit(0x05);
      otherwise();
    }
    return this.emit(0x0b);
  }

  /**
   * for (local[counter] = start; local[counter] < local[end]; local[counter] += step) { body }
   * as block { loop { br_if exit when done; body; step; br loop } }.
   */
  forRange(counter: number, start: number, end: number, step: number, body: () => void): this {
    this.i32(start).set(counter);
    return this.whileBelow(counter, end, step, body);
  }

  /** for (; local[counter] < local[end]; local[counter] += step) { body }: the counter already set. */
  whileBelow(counter: number, end: number, step: number, body: () => void): this {
    this.emit(0x02, 0x40, 0x03, 0x40); // block, loop
    this.get(counter).get(end).ltS().eqz().emit(0x0d, 1); // br_if 1: leave the block
    body();
    this.addTo(counter, () => this.i32(step));
    this.emit(0x0c, 0).emit(0x0b, 0x0b); // br 0 (loop again); end loop; end block
    return this;
  }

  /** do { body } while (--local[counter] !== 0): for a count known to be ≥ 1. */
  repeat(counter: number, body: () => void): this {
    this.emit(0x03, 0x40); // loop
    body();
    this.get(counter).i32(1).sub().tee(counter).emit(0x0d, 0); // br_if 0 while nonzero
    return this.emit(0x0b);
  }

  /** The function's code entry: locals run-length encoded by type, then the instructions. */
  encode(): number[] {
    const groups: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const locals = [...uleb(groups.length), ...groups.flatMap(([n, t]) => [...uleb(n), t])];
    return sized([...locals, ...this.code, 0x0b]);
  }
}

/**
 * A module that imports `env.memory` (shared when `shared`, so worker threads can run the same
 * code over the same memory) and exports each function by its name. Functions take only i32
 * parameters and return nothing.
 */
export function assemble(functions: readonly FunctionBody[], memory: { initialPages: number; maximumPages: number; shared: boolean }): Uint8Array<ArrayBuffer> {
  const section = (id: number, body: number[]): number[] => [id, ...sized(body)];
  const types = functions.map((f) => [0x60, ...uleb(f.params), ...new Array<number>(f.params).fill(I32), 0]);
  const limits = [memory.shared ? 0x03 : 0x01, ...uleb(memory.initialPages), ...uleb(memory.maximumPages)];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, [...uleb(types.length), ...types.flat()]),
    ...section(2, [1, ...utf8('env'), ...utf8('memory'), 0x02, ...limits]),
    ...section(3, [...uleb(functions.length), ...functions.flatMap((_, i) => uleb(i))]),
    ...section(7, [...uleb(functions.length), ...functions.flatMap((f, i) => [...utf8(f.name), 0x00, ...uleb(i)])]),
    ...section(10, [...uleb(functions.length), ...functions.flatMap((f) => f.encode())]),
  ];
  return new Uint8Array(bytes);
}

/** The kernels' shared memory's limit in 64 KiB pages: 1 GiB (a shared memory reserves its maximum up front; ./gemm.ts makes it). */
export const MAX_PAGES = 16384;

/**
 * The functions `build` makes as one module over a shared memory, compiled once (on first use)
 * and instantiated once per memory — per thread, as each thread has its own instance over the one
 * memory: `kernelsOver(build)(memory).name(...)`. What ./streams.ts, ./lowering.ts and
 * ./winograd.ts export their kernels through.
 */
export function kernelsOver<Name extends string>(build: () => readonly FunctionBody[]): (memory: WebAssembly.Memory) => Readonly<Record<Name, (...args: number[]) => void>> {
  let compiled: WebAssembly.Module | null = null;
  const instances = new WeakMap<WebAssembly.Memory, Readonly<Record<Name, (...args: number[]) => void>>>();
  return (memory) => {
    let kernels = instances.get(memory);
    if (kernels === undefined) {
      compiled ??= new WebAssembly.Module(assemble(build(), { initialPages: 1, maximumPages: MAX_PAGES, shared: true }));
      const exports = new WebAssembly.Instance(compiled, { env: { memory } }).exports;
      kernels = Object.fromEntries(Object.entries(exports).filter(([, fn]) => typeof fn === 'function')) as Record<Name, (...args: number[]) => void>;
      instances.set(memory, kernels);
    }
    return kernels;
  };
}
