/**
 * Where a training step spends its time, on the gpu backend:
 *
 *   npx tsx bench/profile.ts [--model smallnet|resnet20] [--batch 128] [--steps 2] [--mode webasm]
 *
 * It runs one untimed step (kernel compilation) and two more (V8 optimising the JavaScript), then
 * `--steps` timed steps, and splits their wall time (the webasm mode's SIMD kernels run on several
 * threads, so CPU time would count their work twice; profile on a quiet machine) into
 *
 *   ops        inside the gpu backend's forward/backward of each op, per op and shape;
 *     of which, in webasm mode, SIMD kernels  the hand-written kernels (all threads): matmul and
 *                                             conv2d's products, and the streaming kernels of
 *                                             batchNorm, batchStats, pooling, relu, frelu, add —
 *                                             these split again into their threads' jobs and the
 *                                             copying of operands in and results out around them,
 *              gpu.js computing               the compiled wasm kernels of gpu.js themselves,
 *              gpu.js marshalling             gpu.js copying arguments into wasm memory and
 *                                             results out (the rest of each kernel call),
 *   outside    everything else: the autograd engine, tidy, the modules' and optimiser's JS.
 *
 * It measures by wrapping the backend's forward/backward and, in webasm mode, gpu.js's kernel run
 * and dispatch functions for the length of the run — a diagnostic, not how the library runs.
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import * as g from '../src/index.js';
import { GPU_MODES, gpuBackend } from '../src/tensor/backends/gpu.js';
import { simdKernels, start as simdEngine } from '../src/tensor/backends/wasm/kernels.js';
import { loopKernels } from '../src/tensor/backends/wasm/loops.js';
import { machineInfo } from './harness.js';
import { stepSetup, type ModelName } from './workloads.js';

const wallNow = (): number => performance.now();
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Replaces `holder[name]` (a function) by one that reports its wall time: `begin` runs before each
 * call, `end` after it with the call's ms, its arguments and what `begin` returned. Returns the undo.
 */
function timeMethod<T>(holder: object, name: string, begin: () => T, end: (ms: number, args: unknown[], began: T) => void): () => void {
  const original: unknown = Reflect.get(holder, name);
  if (typeof original !== 'function') throw new Error(`profile: ${name} is not a function here (has gpu.js changed?)`);
  Reflect.set(holder, name, function (this: unknown, ...args: unknown[]): unknown {
    const began = begin();
    const start = wallNow();
    try {
      return Reflect.apply(original, this, args);
    } finally {
      end(wallNow() - start, args, began);
    }
  });
  return () => Reflect.set(holder, name, original);
}

function describe(op: unknown, ctx: unknown): string {
  const name = typeof op === 'object' && op !== null ? String(Reflect.get(op, 'name')) : '?';
  const shapes = typeof ctx === 'object' && ctx !== null ? Reflect.get(ctx, 'shapes') : undefined;
  const first = typeof shapes === 'object' && shapes !== null ? Object.values(shapes)[0] : undefined;
  return `${name} ${Array.isArray(first) ? `[${first.join(',')}]` : ''}`;
}

const HELP = `usage: npx tsx bench/profile.ts [--model smallnet|resnet20] [--batch 128] [--steps 2] [--mode webasm|headlessgl|cpu] [--top 20]

Three untimed training steps (kernel compilation, V8 warm-up), then --steps timed ones on the gpu
backend; prints their wall time split into ops (per op and shape) — in webasm mode the SIMD
kernels, gpu.js's wasm computing and its marshalling — and everything outside the ops. Run it on a
quiet machine. For CPU runs like gradlab train's, prefix MALLOC_MMAP_THRESHOLD_=33554432
MALLOC_TRIM_THRESHOLD_=1073741824 (see src/node/malloc.ts).`;

function main(argv: readonly string[]): void {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return;
  }
  const { values } = parseArgs({
    args: [...argv],
    options: {
      model: { type: 'string', default: 'smallnet' },
      batch: { type: 'string', default: '128' },
      steps: { type: 'string', default: '2' },
      mode: { type: 'string', default: 'webasm' },
      top: { type: 'string', default: '20' },
    },
    strict: true,
  });
  const model = values.model;
  if (model !== 'smallnet' && model !== 'resnet20') throw new Error(`profile: --model must be smallnet or resnet20; got '${model}'`);
  const mode = GPU_MODES.find((m) => m === values.mode);
  if (mode === undefined) throw new Error(`profile: --mode must be one of ${GPU_MODES.join(', ')}; got '${values.mode}'`);
  const batch = Number(values.batch);
  const steps = Number(values.steps);
  const top = Number(values.top);
  g.setGpuMode(mode);

  const { step } = stepSetup(model satisfies ModelName, batch, 'gpu');
  const first = performance.now();
  const firstCpu = cpuNow();
  step();
  const compile = { wallMs: performance.now() - first, cpuMs: cpuNow() - firstCpu, kernels: g.gpuInfo().compiledKernels };
  step();
  step();

  const perOp = new Map<string, { ms: number; computeMs: number; kernelMs: number; simdMs: number; calls: number }>();
  let opsMs = 0;
  let kernelMs = 0;
  let computeMs = 0;
  let simdMs = 0;
  let streamMs = 0; // the streaming kernels (loopKernels), part of simdMs
  let streamJobsMs = 0; // of which their threads' jobs (the pool's run), the rest being copies and JS
  let poolMs = 0;
  const undo: (() => void)[] = [];
  for (const kind of ['forward', 'backward'] as const) {
    undo.push(
      timeMethod(
        gpuBackend,
        kind,
        () => ({ kernelMs, computeMs, simdMs }),
        (ms, args, began) => {
          const key = `${describe(args[0], args[kind === 'forward' ? 2 : 3])} ${kind}`;
          const e = perOp.get(key) ?? { ms: 0, computeMs: 0, kernelMs: 0, simdMs: 0, calls: 0 };
          e.ms += ms;
          e.computeMs += computeMs - began.computeMs;
          e.kernelMs += kernelMs - began.kernelMs;
          e.simdMs += simdMs - began.simdMs;
          e.calls++;
          perOp.set(key, e);
          opsMs += ms;
        },
      ),
    );
  }
  if (mode === 'webasm') {
    const gpujs: typeof import('gpu.js') = createRequire(import.meta.url)('gpu.js');
    const { WebAssemblyKernel } = gpujs;
    undo.push(timeMethod(WebAssemblyKernel.prototype, 'run', () => null, (ms) => (kernelMs += ms)));
    undo.push(timeMethod(WebAssemblyKernel, 'dispatchSpans', () => null, (ms) => (computeMs += ms)));
    for (const name of Object.keys(simdKernels)) undo.push(timeMethod(simdKernels, name, () => null, (ms) => (simdMs += ms)));
    for (const name of Object.keys(loopKernels)) {
      undo.push(
        timeMethod(loopKernels, name, () => poolMs, (ms, _args, poolBefore) => {
          simdMs += ms;
          streamMs += ms;
          streamJobsMs += poolMs - poolBefore;
        }),
      );
    }
    undo.push(timeMethod(simdEngine().pool, 'run', () => null, (ms) => (poolMs += ms)));
  }

  const start = performance.now();
  const startCpu = cpuNow();
  for (let i = 0; i < steps; i++) step();
  const wallMs = (performance.now() - start) / steps;
  const cpuMs = (cpuNow() - startCpu) / steps;
  for (const u of undo) u();

  const info = g.gpuInfo();
  const m = machineInfo();
  const pct = (ms: number): string => `${((100 * ms) / steps / wallMs).toFixed(1)} %`;
  const simd = info.simdKernels ? `, SIMD kernels on ${info.simdThreads} thread(s)` : '';
  console.log(`# profile: ${model} training step, batch ${batch}, gpu mode ${info.mode} on ${info.kernelClass}${simd}; ${m.cpu}, load average ${m.loadAverage}; times are wall time`);
  console.log(`first step (compiles ${compile.kernels} kernels): ${compile.wallMs.toFixed(0)} ms wall, ${compile.cpuMs.toFixed(0)} ms cpu`);
  console.log(`steady step (mean of ${steps}): ${wallMs.toFixed(0)} ms wall = ${((batch / wallMs) * 1000).toFixed(1)} img/s; ${cpuMs.toFixed(0)} ms cpu = ${((batch / cpuMs) * 1000).toFixed(1)} img/s`);
  console.log(`  ops (gpu backend forward/backward)   ${(opsMs / steps).toFixed(0).padStart(7)} ms  ${pct(opsMs)}`);
  if (mode === 'webasm') {
    console.log(`    SIMD kernels (all)                 ${(simdMs / steps).toFixed(0).padStart(7)} ms  ${pct(simdMs)}`);
    console.log(`      matmul, conv2d                   ${((simdMs - streamMs) / steps).toFixed(0).padStart(7)} ms  ${pct(simdMs - streamMs)}`);
    console.log(`      streaming (BN, pool, relu, add)  ${(streamJobsMs / steps).toFixed(0).padStart(7)} ms  ${pct(streamJobsMs)}`);
    console.log(`      streaming: copies in/out, JS     ${((streamMs - streamJobsMs) / steps).toFixed(0).padStart(7)} ms  ${pct(streamMs - streamJobsMs)}`);
    console.log(`    gpu.js kernels computing           ${(computeMs / steps).toFixed(0).padStart(7)} ms  ${pct(computeMs)}`);
    console.log(`    gpu.js marshalling (args, results) ${((kernelMs - computeMs) / steps).toFixed(0).padStart(7)} ms  ${pct(kernelMs - computeMs)}`);
    console.log(`    kit and op JS around the kernels   ${((opsMs - kernelMs - simdMs) / steps).toFixed(0).padStart(7)} ms  ${pct(opsMs - kernelMs - simdMs)}`);
  }
  console.log(`  outside ops (autograd, tidy, modules, optimiser JS) ${(wallMs - opsMs / steps).toFixed(0).padStart(5)} ms  ${pct(wallMs * steps - opsMs)}`);
  console.log(`top ${top} ops by wall time per step${mode === 'webasm' ? ' (of which SIMD kernels / gpu.js computing / gpu.js marshalling)' : ''}:`);
  for (const [key, e] of [...perOp.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    const split = mode === 'webasm' ? ` (${(e.simdMs / steps).toFixed(0)} / ${(e.computeMs / steps).toFixed(0)} / ${((e.kernelMs - e.computeMs) / steps).toFixed(0)})` : '';
    console.log(`  ${(e.ms / steps).toFixed(1).padStart(8)} ms${split.padEnd(17)} ${pct(e.ms).padStart(7)}  ×${String(e.calls / steps).padEnd(4)} ${key}`);
  }
}

main(process.argv.slice(2));
