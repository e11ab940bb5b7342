/**
 * What the lab measures inside SmallNet while it trains (./train.ts): each activation layer's
 * output, kept during the forward pass, and after backward its mean, variance and gradient norm —
 * the quantities of the paper's initialization analysis (view 2), in the real network. Imports
 * only the library's core, so a Node test checks it (test/lab-train.test.ts).
 */
import * as g from '../../core.js';

/** Whether a module is one of SmallNet's activation layers. */
export const isActivation = (m: g.nn.Module): boolean =>
  m instanceof g.nn.ReLU || m instanceof g.nn.LeakyReLU || m instanceof g.nn.PReLU || m instanceof g.nn.ELU || m instanceof g.nn.FReLU;

/**
 * SmallNet's forward, layer by layer (features, flatten, classifier: what SmallNet.forward does),
 * keeping each activation layer's output with retainGrad, so that backward leaves ∂loss/∂output on it.
 */
export function forwardKeeping(net: g.models.SmallNet, x: g.Tensor, kept: g.Tensor[]): g.Tensor {
  const through = (layers: g.nn.Sequential, h: g.Tensor): g.Tensor => {
    for (const [, m] of layers.namedChildren()) {
      h = m.forward(h);
      if (isActivation(m)) kept.push(h.retainGrad());
    }
    return h;
  };
  return through(net.classifier, net.flatten.forward(through(net.features, x)));
}

/**
 * An activation layer's output a (kept by forwardKeeping, after backward): the mean and the
 * variance of its values over the batch, and ‖∂loss/∂a‖₂. Computed on the host from one copy of
 * each: a few extra kernels per layer would cost more here (webasm compiles a kernel per shape).
 */
export function layerStats(a: g.Tensor): { mean: number; variance: number; gradNorm: number } {
  const da = a.grad;
  if (da === null) throw new Error('lab.train: an activation output got no gradient');
  const values = a.toArray();
  const grads = da.toArray();
  let sum = 0;
  let squares = 0;
  let gradSquares = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    squares += values[i] * values[i];
    gradSquares += grads[i] * grads[i];
  }
  const mean = sum / values.length;
  return { mean, variance: Math.max(0, squares / values.length - mean * mean), gradNorm: Math.sqrt(gradSquares) };
}
