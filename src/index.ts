/**
 * gradlab — a from-scratch tensor and reverse-mode autograd library. The Node entry: the core
 * (src/core.ts: add public names there) plus Node's `data` and gpu backend pieces. Browsers and
 * bundlers get src/browser/index.ts (package.json's "browser" condition), which exports the same names.
 *
 *   import * as g from 'gradlab';
 *   const x = g.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
 *   const y = g.sum(g.mul(x, x));   // y = Σ x²
 *   y.backward();                    // x.grad = 2x = [2, 4, 6]
 */
export * from './core.js';
export * as data from './node/data.js';
// The core's `io` (safetensors bytes) plus files: g.io.saveSafetensors(path, tensors), g.io.loadSafetensors(path).
export * as io from './node/safetensors.js';

// Node's pieces of the gpu backend: gpu.js through require, worker threads for its SIMD kernels,
// and the GRADLAB_GPU_MODE / GRADLAB_SIMD / GRADLAB_THREADS settings (src/node/gpu-settings.ts).
import { useNodeGpu } from './node/gpu-settings.js';
useNodeGpu();
