/**
 * A node of the autograd graph: one application of a primitive op. The graph is built as the
 * forward pass runs (define-by-run): every tensor computed from tensors that require gradients
 * points to the node that made it, and the node points to its inputs.
 *
 *     x ─┐
 *        ├─▶ [node: mul] ─▶ y ─▶ [node: sum] ─▶ loss
 *     w ─┘
 */
import type { Tensor } from '../tensor/tensor.js';
import type { AnyOpDef, OpContext } from '../tensor/op-def.js';
import type { Storage } from '../tensor/backends/backend.js';

export interface GraphNode {
  readonly op: AnyOpDef;
  /** The op's inputs by name, as tensors (the edges of the graph). */
  readonly inputs: Readonly<Record<string, Tensor>>;
  readonly ctx: OpContext<string, object>;
  /** What backward needs (op.saves); released by backward() unless `retainGraph` is set. */
  saved: Readonly<Record<string, Storage>> | null;
  /**
   * The `version` of each input tensor backward reads (those in op.saves; every input for a
   * customGrad node), as it was when the op ran: backward() refuses a tensor changed since.
   */
  readonly savedVersions: Readonly<Record<string, number>>;
  /**
   * A backward written in ops instead of kernels (g.customGrad): the upstream gradient in, one
   * gradient per input out, in `op.inputs` order. When set, the backend's kernels are not used.
   */
  readonly gradFunc?: (dy: Tensor) => readonly Tensor[];
}
