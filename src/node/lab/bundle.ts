/**
 * The browser bundles, made with esbuild (a dev dependency) straight from the TypeScript sources:
 *
 *   bundleLibrary(dir)  dir/gradlab.js: the browser entry (src/browser/index.ts) as one ES module
 *                       with gpu.js's browser build inside (`npm run build` writes dist/browser/)
 *   bundleLab(dir)      the lab page: index.html, lab.css, uPlot.min.css, page.js (window.g, window.lab), worker.js (training),
 *                       simd-worker.js (threads for the SIMD kernels, src/browser/threads.ts)
 *   bundlePage(…)       any other page script (the browser tests' op-table page)
 *
 * Every bundle maps an import of the Node entry (src/index.ts, as the op-test table has) to the
 * browser entry, so one copy of the library runs in each bundle. Names are kept (`keepNames`):
 * the gpu backend checks gpu.js's kernel class names to see which mode really ran.
 */
import { build, type Plugin } from 'esbuild';
import { copyFileSync, statSync } from 'node:fs';
import { makeFolder } from '../files.js';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const NODE_ENTRY = join(ROOT, 'src/index.js');
const BROWSER_ENTRY = join(ROOT, 'src/browser/index.ts');

/** Imports of the Node entry become imports of the browser entry. */
const browserEntry: Plugin = {
  name: 'gradlab-browser-entry',
  setup(b) {
    b.onResolve({ filter: /(^|\/)index\.(js|ts)$/ }, (args) => {
      const target = resolve(args.resolveDir, args.path).replace(/\.ts$/, '.js');
      return target === NODE_ENTRY ? { path: BROWSER_ENTRY } : undefined;
    });
  },
};

export interface Bundled {
  file: string;
  bytes: number;
}

/** Bundles one browser entry into one ES module. */
export async function bundlePage(entry: string, outFile: string, options: { minify?: boolean } = {}): Promise<Bundled> {
  await build({
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: options.minify ?? true,
    keepNames: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [browserEntry],
  });
  return { file: outFile, bytes: statSync(outFile).size };
}

/** dir/gradlab.js: the library for browsers and bundlers. */
export function bundleLibrary(dir: string): Promise<Bundled> {
  return bundlePage(BROWSER_ENTRY, join(dir, 'gradlab.js'));
}

/** The lab page in `dir`: index.html, page.js and worker.js. */
export async function bundleLab(dir: string): Promise<Bundled[]> {
  makeFolder(dir, `lab: cannot create the folder ${dir}`);
  const lab = join(ROOT, 'src/browser/lab');
  copyFileSync(join(lab, 'index.html'), join(dir, 'index.html'));
  copyFileSync(join(lab, 'lab.css'), join(dir, 'lab.css'));
  copyFileSync(join(ROOT, 'node_modules/uplot/dist/uPlot.min.css'), join(dir, 'uPlot.min.css'));
  return Promise.all([
    bundlePage(join(lab, 'page.ts'), join(dir, 'page.js')),
    bundlePage(join(lab, 'worker.ts'), join(dir, 'worker.js')),
    bundlePage(join(ROOT, 'src/browser/simd-worker.ts'), join(dir, 'simd-worker.js')),
  ]);
}

// `tsx src/node/lab/bundle.ts DIR` (npm run build): the library bundle into DIR.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  bundleLibrary(resolve(process.argv[2] ?? 'dist/browser')).then(
    ({ file, bytes }) => console.log(`browser bundle: ${file} (${(bytes / 1024).toFixed(0)} KiB)`),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exit(1);
    },
  );
}
