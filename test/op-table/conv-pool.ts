/**
 * Rows for the convolution and pooling primitives (src/nn/ops/conv2d.ts, max-pool2d.ts,
 * avg-pool2d.ts). Shapes stay small: the gradient check runs two forward passes per input element.
 * Attributes are the primitives' own ([y, x] pairs); g.nn.functional turns numbers into pairs.
 */
import { row, type OpRow } from './row.js';
import { conv2d, maxPool2d, avgPool2d } from '../../src/nn/ops/index.js';

// float32 sums of up to C·KH·KW (forward, dx) or N·OH·OW (dw) products differ from the
// reference in the last bits; 1e-4 is ~100× that rounding and far below any indexing mistake.
const convTol = { atol: 1e-4, rtol: 1e-4 };

export const CONV_POOL_ROWS: OpRow[] = [
  // conv2d
  row(conv2d, {
    name: '3×3 stride 1 pad 1 (same size)',
    shapes: { x: [2, 3, 5, 5], w: [4, 3, 3, 3] }, attrs: { stride: [1, 1], padding: [1, 1] }, gpuTol: convTol,
  }),
  row(conv2d, {
    name: '3×3 stride 2 pad 1 (halves the size)',
    shapes: { x: [2, 3, 6, 6], w: [4, 3, 3, 3] }, attrs: { stride: [2, 2], padding: [1, 1] }, gpuTol: convTol,
  }),
  row(conv2d, {
    name: 'odd 5×7 input, stride 2 pad 1',
    shapes: { x: [2, 2, 5, 7], w: [3, 2, 3, 3] }, attrs: { stride: [2, 2], padding: [1, 1] }, gpuTol: convTol,
  }),
  row(conv2d, {
    name: 'batch 1, no padding',
    shapes: { x: [1, 3, 4, 4], w: [2, 3, 3, 3] }, attrs: { stride: [1, 1], padding: [0, 0] }, gpuTol: convTol,
  }),
  row(conv2d, {
    name: 'non-square 2×3 kernel, stride [2, 1], padding [1, 0]',
    shapes: { x: [2, 2, 5, 6], w: [3, 2, 2, 3] }, attrs: { stride: [2, 1], padding: [1, 0] }, gpuTol: convTol,
  }),
  row(conv2d, {
    name: '1×1 kernel (channel mixing)',
    shapes: { x: [2, 4, 3, 3], w: [5, 4, 1, 1] }, attrs: { stride: [1, 1], padding: [0, 0] }, gpuTol: convTol,
  }),
  row(conv2d, {
    name: 'stride 3 over a 2×2 kernel (rows and columns skipped)',
    shapes: { x: [1, 2, 7, 8], w: [2, 2, 2, 2] }, attrs: { stride: [3, 3], padding: [0, 1] }, gpuTol: convTol,
  }),

  row(conv2d, {
    // Stride 1 with a non-square kernel and unequal padding: the webasm SIMD kernels' implicit route
    // (wide rows WP = W + 4 long, windows offset by (ky, kx)) for forward, dx and dw.
    name: 'non-square 2×3 kernel, stride 1, padding [1, 2]',
    shapes: { x: [2, 3, 4, 5], w: [5, 3, 2, 3] }, attrs: { stride: [1, 1], padding: [1, 2] }, gpuTol: convTol,
  }),
  row(conv2d, {
    // Padding beyond the kernel (py > KH − 1): the webasm SIMD kernels' dx leaves its stride-1 route for col2im.
    name: '1×1 kernel with padding 1 (output ring of zeros)',
    shapes: { x: [2, 3, 3, 4], w: [2, 3, 1, 1] }, attrs: { stride: [1, 1], padding: [1, 1] }, gpuTol: convTol,
  }),
  row(conv2d, {
    // More output channels and positions than one SIMD tile (4 × 8) holds, with ragged edges.
    name: '12 filters over 5 channels, 9×11 input (SIMD tiles and edges)',
    shapes: { x: [2, 5, 9, 11], w: [12, 5, 3, 3] }, attrs: { stride: [1, 1], padding: [1, 1] }, gpuTol: convTol,
  }),
  row(conv2d, {
    // 3×3, stride 1, padding 1, height a multiple of 4, width of 8, ≥ 8 channels in (x) and out (dy):
    // the webasm SIMD kernels' Winograd route, forward and dx; 10 filters pad its products' rows to 12.
    name: '3×3 pad 1, 8 → 10 channels on 4×8 (Winograd F(2×2, 3×3))',
    shapes: { x: [2, 8, 4, 8], w: [10, 8, 3, 3] }, attrs: { stride: [1, 1], padding: [1, 1] }, gpuTol: convTol,
  }),
  row(conv2d, {
    // Outputs a multiple of 4 (here 12, padded to 16 columns in its products): dw takes the Winograd route too.
    name: '3×3 pad 1, 8 → 12 channels on 8×8 (Winograd, dw too)',
    shapes: { x: [2, 8, 8, 8], w: [12, 8, 3, 3] }, attrs: { stride: [1, 1], padding: [1, 1] }, gpuTol: convTol,
  }),
  row(conv2d, {
    // A first layer's shape: 3 channels keep the forward on the direct route, but dw (which sums over
    // the tiles) takes Winograd's, its products' 3 rows padded to 4.
    name: '3×3 pad 1, 3 → 8 channels on 4×8 (dw by Winograd)',
    shapes: { x: [2, 3, 4, 8], w: [8, 3, 3, 3] }, attrs: { stride: [1, 1], padding: [1, 1] }, gpuTol: convTol,
  }),

  // maxPool2d ('distinct' keeps ties out: at a tie max has no derivative to check)
  row(maxPool2d, {
    name: '2×2 stride 2',
    shapes: { x: [2, 3, 4, 4] }, attrs: { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] }, gen: { x: 'distinct' },
  }),
  row(maxPool2d, {
    // Width a multiple of 8: webasm's SIMD kernel (four windows a step) takes it.
    name: '2×2 stride 2 on 6×16 (webasm SIMD)',
    shapes: { x: [2, 3, 6, 16] }, attrs: { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] }, gen: { x: 'distinct' },
  }),
  row(maxPool2d, {
    name: '3×3 stride 2 pad 1',
    shapes: { x: [2, 2, 5, 5] }, attrs: { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1] }, gen: { x: 'distinct' },
  }),
  row(maxPool2d, {
    name: 'overlapping 3×3 stride 1',
    shapes: { x: [1, 2, 5, 5] }, attrs: { kernelSize: [3, 3], stride: [1, 1], padding: [0, 0] }, gen: { x: 'distinct' },
  }),
  row(maxPool2d, {
    name: 'non-square 2×3 stride [1, 2] pad [1, 1] on 4×7',
    shapes: { x: [1, 2, 4, 7] }, attrs: { kernelSize: [2, 3], stride: [1, 2], padding: [1, 1] }, gen: { x: 'distinct' },
  }),

  // avgPool2d
  row(avgPool2d, {
    name: '2×2 stride 2',
    shapes: { x: [2, 3, 4, 4] }, attrs: { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] },
  }),
  row(avgPool2d, {
    name: '3×3 stride 2 pad 1 (padding counts in the divisor)',
    shapes: { x: [2, 2, 5, 5] }, attrs: { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1] },
  }),
  row(avgPool2d, {
    name: 'global 8×8 (the ResNet head)',
    shapes: { x: [2, 3, 8, 8] }, attrs: { kernelSize: [8, 8], stride: [8, 8], padding: [0, 0] },
  }),
  row(avgPool2d, {
    name: 'global 2×6, stride 1 (SIMD in webasm, as the 8×8)',
    shapes: { x: [3, 2, 2, 6] }, attrs: { kernelSize: [2, 6], stride: [1, 1], padding: [0, 0] },
  }),
  // Windows of 1 or 2 columns at stride 2 over rows of 8 or 16: webasm's SIMD kernels (avg-pool2d.ts).
  row(avgPool2d, {
    name: '1×1 stride 2, every other pixel (SIMD in webasm)',
    shapes: { x: [2, 3, 4, 8] }, attrs: { kernelSize: [1, 1], stride: [2, 2], padding: [0, 0] },
  }),
  row(avgPool2d, {
    name: '2×2 stride 2 on 8 columns (SIMD in webasm)',
    shapes: { x: [2, 3, 4, 8] }, attrs: { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] },
  }),
  row(avgPool2d, {
    name: '2×1 stride [3, 2], rows between the windows (SIMD in webasm)',
    shapes: { x: [1, 2, 6, 16] }, attrs: { kernelSize: [2, 1], stride: [3, 2], padding: [0, 0] },
  }),
  row(avgPool2d, {
    name: 'non-square 3×2 stride [1, 2] pad [1, 0] on 4×5',
    shapes: { x: [1, 2, 4, 5] }, attrs: { kernelSize: [3, 2], stride: [1, 2], padding: [1, 0] },
  }),
];
