/**
 * gradlab in a browser (package.json's "browser" condition; `npm run build` bundles it to
 * dist/browser/gradlab.js): the core (src/core.ts) under the same names as the Node entry, with
 * g.data's Node-only functions replaced by ones that say what to use instead (./data.ts), and the
 * gpu backend on gpu.js's browser bundle: WebGL2 on the user's GPU, webasm on a software renderer
 * (./gpu.ts). g.gpuInfo().summary says which, e.g. "WebGL2 on ANGLE (NVIDIA …)".
 *
 *   import * as g from 'gradlab';
 *   g.setBackend('gpu');
 *   g.matmul(g.randn([64, 64], { seed: 1 }), g.randn([64, 64], { seed: 2 })).toArray();
 *   g.gpuInfo().summary;
 */
export * from '../core.js';
export * as data from './data.js';

import { useBrowserGpu } from './gpu.js';
useBrowserGpu();
