/**
 * `gradlab bench`: the op-level and training-step benchmarks on each backend and gpu.js mode, with
 * ratios. The benchmarks live in the repository's bench/ folder (they need the dev dependencies
 * `benchmark` and `tsx`, which an installed package does not carry), so this command runs
 * bench/run.ts from a source checkout — the same thing as `npm run bench -- [options]`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from './command.js';

const HELP = `usage: gradlab bench [options]

Runs the benchmarks of a source checkout (bench/run.ts; the same as \`npm run bench -- [options]\`):
GEMM 256/512/1024, conv2d forward and backward at SmallNet's and ResNet-20's layer shapes, batchNorm,
pooling, FReLU, and SmallNet / ResNet-20 training-step images/s, on the reference backend and each
gpu.js mode available, with ratios; writes JSON (default results/bench/<date-time>/).

  --targets LIST     reference, webasm, headlessgl, cpu (default: reference, webasm, and
                     headlessgl when a GL context can be made)
  --only LIST        groups (gemm, conv, norm, pool, frelu, step) or parts of workload ids
  --batch N          batch size (default 128)
  --quick            two samples per workload
  --out DIR          where the JSON goes
  --memory-steps N   also run N SmallNet training steps per gpu target and report the RSS
  --memory-batch B   their batch size (default 8)`;

/** The checkout root holding bench/run.ts: two levels above src/cli, three above dist/src/cli. */
function checkoutRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++) {
    dir = dirname(dir);
    if (existsSync(join(dir, 'bench', 'run.ts')) && existsSync(join(dir, 'package.json'))) return dir;
  }
  return null;
}

/** tsx's loader as a file URL for `node --import`, or null when tsx is not installed there. */
function tsxLoader(root: string): string | null {
  try {
    return pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href;
  } catch {
    return null;
  }
}

export const command: Command = {
  name: 'bench',
  help: HELP,
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(HELP);
      return 0;
    }
    const root = checkoutRoot();
    const loader = root === null ? null : tsxLoader(root);
    if (root === null || loader === null) {
      console.error(
        'bench: the benchmarks run from a source checkout of gradlab with its dev dependencies ' +
          `(${root === null ? 'no bench/run.ts found beside this installation' : `tsx is not installed in ${root}`}): ` +
          'clone the repository, `npm ci`, then `npm run bench` or `gradlab bench`',
      );
      return 2;
    }
    const child = spawnSync(process.execPath, ['--import', loader, join(root, 'bench', 'run.ts'), ...argv], { stdio: 'inherit' });
    if (child.error) throw new Error(`bench: could not start bench/run.ts: ${child.error.message}`);
    return child.status ?? 1;
  },
};
