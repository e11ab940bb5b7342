/**
 * Containers and reshaping layers: Sequential (a chain of modules) and Flatten.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { flatten } from '../../autograd/math.js';
import { Module } from '../module.js';

/**
 * Runs its modules one after another: forward(x) = mₖ(…m₂(m₁(x))). Children are named '0', '1', …
 * as in PyTorch, so the first layer's weight is '0.weight' (and 'features.0.weight' inside a model).
 *
 *   const net = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
 *   net.forward(x [N, 4])   // → [N, 2]
 */
export class Sequential extends Module {
  readonly #layers: Module[] = [];

  constructor(...layers: Module[]) {
    super();
    for (const m of layers) this.append(m);
  }

  /** Adds a module at the end (named by its position). Returns this, so calls chain. */
  append(m: Module): this {
    this.#layers.push(this.registerModule(String(this.#layers.length), m));
    return this;
  }

  /** The modules in order. */
  get layers(): readonly Module[] {
    return this.#layers;
  }

  get length(): number {
    return this.#layers.length;
  }

  /** The i-th module (negative counts from the end). */
  at(i: number): Module {
    const m = this.#layers.at(i);
    if (m === undefined) throw new Error(`Sequential.at: index ${i} is out of range for ${this.#layers.length} modules`);
    return m;
  }

  forward(x: Tensor): Tensor {
    return this.#layers.reduce((h, m) => m.forward(h), x);
  }
}

/** Collapses every axis from `startAxis` (default 1, keeping the batch axis) into one: [N, C, H, W] → [N, C·H·W]. */
export class Flatten extends Module {
  constructor(readonly startAxis = 1) {
    super();
    if (!Number.isInteger(startAxis)) throw new Error(`Flatten: startAxis must be an integer; got ${String(startAxis)}`);
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startAxis);
  }

  protected override extraRepr(): string {
    return `startAxis=${this.startAxis}`;
  }
}
