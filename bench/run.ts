/**
 * `npm run bench` (and `gradlab bench`): runs bench/suite.ts once per target — the reference
 * backend and each gpu.js mode available here, every one in a fresh process — and bench/tfjs.ts
 * (TensorFlow.js, wasm backend) in one more, then prints the figures side by side with their ratios
 * and writes everything as JSON.
 *
 *   npm run bench -- [--targets reference,webasm,headlessgl,tfjs-wasm] [--only conv,step] [--batch 128]
 *                    [--quick] [--out DIR] [--memory-steps N --memory-batch B]
 *
 * Targets: 'reference' (plain TypeScript loops), 'webasm' (gpu.js wasm SIMD, always available),
 * 'headlessgl' (gpu.js on a GL context: needs the built `gl` package and a display — run under
 * `xvfb-run -a` when there is none, which this script does itself when xvfb-run exists), 'cpu'
 * (gpu.js's plain-JS debugging mode), 'tfjs-wasm' (TensorFlow.js on its wasm backend, the same
 * workloads where TF.js has the ops; needs the dev dependency @tensorflow/tfjs-backend-wasm).
 * Default: reference, webasm, headlessgl when it can run, tfjs-wasm when it is installed.
 *
 * The ratios against TF.js use the tfjs-wasm figures of this run where there are some, and the
 * peers' recorded figures (bench/peers.ts) otherwise; each ratio says which.
 *
 * Ratios use the wall-time rates (see bench/harness.ts): the webasm target runs matmul and conv2d on
 * several threads (GRADLAB_THREADS; the machine's cores by default), so its CPU time adds up every
 * thread's and says what the work costs, not how long a user waits. Wall time moves with whatever
 * else the machine does: benchmark on a quiet machine (each target's header prints the load).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PEERS, PEER_SOURCE } from './peers.js';
import { CPU_MALLOC_ENV } from '../src/node/malloc.js';
import { writeJsonAtomic } from '../src/node/files.js';
import { RATE_LABEL, TARGETS, TFJS_TARGET, type AnyTarget, type SuiteResult, type WorkloadResult } from './suite.js';

/** Every target --targets takes: gradlab's (bench/suite.ts) and TF.js's (bench/tfjs.ts). */
const ALL_TARGETS: readonly AnyTarget[] = [...TARGETS, TFJS_TARGET];

const HELP = `usage: npm run bench -- [options]      (or: gradlab bench [options])

Op-level benchmarks (GEMM 256/512/1024; conv2d forward and backward at SmallNet's and ResNet-20's
layer shapes and the peers' layer; batchNorm; max and average pooling; FReLU) and SmallNet / ResNet-20
training-step images/s, on each backend and gpu.js mode, with ratios to the reference backend, to
PyTorch's recorded figures, and to TensorFlow.js (wasm backend): measured in this run by the
'tfjs-wasm' target (GEMM, conv2d, the SmallNet step; ratio marked 'run'), else the peers' recorded
figure (marked 'rec').

  --targets LIST     comma-separated: ${ALL_TARGETS.join(', ')} (default: reference,
                     webasm, headlessgl when a GL context can be made, and ${TFJS_TARGET} when
                     @tensorflow/tfjs-backend-wasm is installed — a dev dependency)
  --only LIST        groups (gemm, conv, norm, pool, frelu, step) or parts of workload ids
                     (e.g. smallnet.conv2, 'step smallnet'); default all
  --batch N          batch size of the layer shapes and training steps (default 128)
  --quick            two samples per workload (a smoke run; figures are rougher)
  --out DIR          where the JSON goes (default results/bench/<date-time>)
  --memory-steps N   also run N SmallNet training steps per gpu target and report RSS at the
                     start and end (default 0: off; the issue's check is --memory-steps 1000)
  --memory-batch B   batch size of those steps (default 8)

Each target runs in its own process (a gpu.js mode is fixed for a process's life). Figures: wall
time (Benchmark.js) and CPU time of the benchmark process; see bench/harness.ts. TF.js runs on one
thread (its threaded wasm build is off under Node), with a shim for the Conv2DBackpropFilter kernel
its wasm backend lacks (see bench/tfjs.ts); --memory-steps does not apply to it. On a 2-core
machine a full run of the default targets takes tens of minutes (the reference backend, the
training steps and TF.js's shimmed conv backward dominate); --only and --quick shorten it. Where
a step spends its time: npx tsx bench/profile.ts --help.`;

interface Options {
  targets: AnyTarget[] | null;
  only: string;
  batch: string;
  quick: boolean;
  out: string;
  memorySteps: string;
  memoryBatch: string;
}

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, '..');
const suiteScript = join(benchDir, 'suite.ts');
const tfjsScript = join(benchDir, 'tfjs.ts');
/** tsx's loader as a file URL, so the children find it from any working directory. */
const tsxLoader = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href;

function parse(argv: readonly string[]): Options | null {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return null;
  }
  const { values } = parseArgs({
    args: [...argv],
    options: {
      targets: { type: 'string' },
      only: { type: 'string', default: '' },
      batch: { type: 'string', default: '128' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      'memory-steps': { type: 'string', default: '0' },
      'memory-batch': { type: 'string', default: '8' },
    },
    strict: true,
  });
  let targets: AnyTarget[] | null = null;
  if (values.targets !== undefined) {
    targets = [];
    for (const t of values.targets.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const known = ALL_TARGETS.find((k) => k === t);
      if (known === undefined) throw new Error(`bench: --targets takes ${ALL_TARGETS.join(', ')}; got '${t}'`);
      targets.push(known);
    }
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return {
    targets,
    only: values.only,
    batch: values.batch,
    quick: values.quick,
    out: resolve(values.out ?? join('results', 'bench', stamp)),
    memorySteps: values['memory-steps'],
    memoryBatch: values['memory-batch'],
  };
}

/** Whether a GL context can be made here, with or without xvfb-run; null when it cannot. */
function glLauncher(): string[] | null {
  const probe = "const { GPU } = require('gpu.js'); process.exit(GPU.isHeadlessGLSupported ? 0 : 1)";
  const direct = spawnSync(process.execPath, ['-e', probe], { cwd: root, stdio: 'ignore' });
  if (direct.status === 0) return [];
  const xvfb = spawnSync('xvfb-run', ['-a', process.execPath, '-e', probe], { cwd: root, stdio: 'ignore' });
  return xvfb.status === 0 ? ['xvfb-run', '-a'] : null;
}

/** Whether TF.js's wasm backend is installed (a dev dependency: absent from a production install). */
function tfjsInstalled(): boolean {
  try {
    createRequire(join(root, 'package.json')).resolve('@tensorflow/tfjs-backend-wasm');
    return true;
  } catch {
    return false;
  }
}

function runTarget(target: AnyTarget, options: Options, launcher: string[]): SuiteResult | string {
  const json = join(options.out, `${target}.json`);
  const common = ['--batch', options.batch, '--only', options.only, '--json', json, ...(options.quick ? ['--quick'] : [])];
  const args =
    target === TFJS_TARGET
      ? ['--import', tsxLoader, tfjsScript, ...common]
      : [
          '--import', tsxLoader, suiteScript, '--target', target, ...common,
          ...(target !== 'reference' ? ['--memory-steps', options.memorySteps, '--memory-batch', options.memoryBatch] : []),
        ];
  const command = [...launcher, process.execPath, ...args];
  // glibc's malloc: the GL target wants big blocks mmapped (else llvmpipe's freed texture memory is
  // kept, GPUJS.md §8); the CPU targets want them kept for reuse (src/node/malloc.ts) — every CPU
  // target alike, TF.js included. A setting of the user's own wins.
  const userMalloc = Object.keys(CPU_MALLOC_ENV).some((k) => process.env[k] !== undefined);
  const malloc = userMalloc ? {} : target === 'headlessgl' ? { MALLOC_MMAP_THRESHOLD_: '131072' } : CPU_MALLOC_ENV;
  const env = { ...process.env, ...malloc };
  console.log(`\n== ${target} ==`);
  const child = spawnSync(command[0], command.slice(1), { stdio: 'inherit', env });
  if (child.status !== 0) return `exited with ${child.status ?? child.signal}`;
  return JSON.parse(readFileSync(json, 'utf8')) as SuiteResult;
}

const fmt = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? '—' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);

/** The side-by-side table: one row per workload, rates per target, ratios. */
function summary(results: SuiteResult[]): string[] {
  const lines: string[] = [];
  const ids: string[] = [];
  const byTarget = new Map<AnyTarget, Map<string, WorkloadResult>>();
  for (const r of results) {
    const m = new Map<string, WorkloadResult>();
    for (const w of r.results) {
      m.set(w.id, w);
      if (!ids.includes(w.id)) ids.push(w.id);
    }
    byTarget.set(r.target, m);
  }
  const targets = results.map((r) => r.target);
  // gradlab's gpu targets get the ratio columns; TF.js, when it ran, is a column of rates and the denominator.
  const gpuTargets = targets.filter((t) => t !== 'reference' && t !== TFJS_TARGET);
  const header = [
    'workload'.padEnd(28),
    'unit'.padEnd(8),
    ...targets.map((t) => `${t} wall (cpu)`.padStart(22)),
    ...gpuTargets.filter(() => targets.includes('reference')).map((t) => `${t}/ref`.padStart(14)),
    ...gpuTargets.map((t) => `${t}/torch-1T`.padStart(18)),
    ...gpuTargets.map((t) => `${t}/tfjs-wasm`.padStart(18)),
  ];
  lines.push(header.join(' '));
  for (const id of ids) {
    const any = [...byTarget.values()].map((m) => m.get(id)).find((w) => w !== undefined);
    if (any === undefined) continue;
    const cpu = (t: AnyTarget): number | undefined => byTarget.get(t)?.get(id)?.rate.cpu;
    const wall = (t: AnyTarget): number | undefined => byTarget.get(t)?.get(id)?.rate.wall;
    const peer = PEERS[id];
    // TF.js measured in this run ('run') where it ran this workload, else the recorded figure ('rec').
    const tfjsNow = wall(TFJS_TARGET);
    const tfjs = tfjsNow !== undefined ? { rate: tfjsNow, mark: 'run' } : peer?.tfjsWasm !== undefined ? { rate: peer.tfjsWasm, mark: 'rec' } : null;
    const row = [
      id.padEnd(28),
      RATE_LABEL[any.unit].padEnd(8),
      ...targets.map((t) => `${fmt(wall(t))} (${fmt(cpu(t))})`.padStart(22)),
      ...gpuTargets.filter(() => targets.includes('reference')).map((t) => fmt(ratio(wall(t), wall('reference'))).padStart(14)),
      ...gpuTargets.map((t) => fmt(ratio(wall(t), peer?.torch1T)).padStart(18)),
      ...gpuTargets.map((t) => (tfjs === null || wall(t) === undefined ? '—' : `${fmt(ratio(wall(t), tfjs.rate))} ${tfjs.mark}`).padStart(18)),
    ];
    lines.push(row.join(' '));
  }
  lines.push(`…/tfjs-wasm: 'run' = against ${TFJS_TARGET} measured in this run; 'rec' = against the recorded figure (bench/peers.ts), not this run.`);
  lines.push(`peers: ${PEER_SOURCE}; their conv layer is 'conv.* peers', their ResNet-20 uses projection shortcuts (B), ours type A.`);
  return lines;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a / b;
}

export async function main(argv: readonly string[]): Promise<number> {
  const options = parse(argv);
  if (options === null) return 0;
  let targets = options.targets;
  let launcherGL = glLauncher();
  const tfjs = tfjsInstalled();
  if (targets === null) {
    targets = ['reference', 'webasm'];
    if (launcherGL !== null) targets.push('headlessgl');
    else console.log('headlessgl: no GL context here (gl package not built, or no display and no xvfb-run); skipped');
    if (tfjs) targets.push(TFJS_TARGET);
    else console.log(`${TFJS_TARGET}: @tensorflow/tfjs-backend-wasm is not installed (npm install, dev dependencies included); skipped — TF.js ratios use the recorded figures`);
  } else if (targets.includes('headlessgl') && launcherGL === null) {
    console.error('bench: --targets asks for headlessgl, but no GL context can be made here (is the gl package built? is xvfb-run installed?)');
    return 2;
  } else if (targets.includes(TFJS_TARGET) && !tfjs) {
    console.error(`bench: --targets asks for ${TFJS_TARGET}, but @tensorflow/tfjs-backend-wasm is not installed (it is a dev dependency: npm install)`);
    return 2;
  }
  launcherGL ??= [];
  mkdirSync(options.out, { recursive: true });
  const results: SuiteResult[] = [];
  const failures: string[] = [];
  for (const target of targets) {
    const r = runTarget(target, options, target === 'headlessgl' ? launcherGL : []);
    if (typeof r === 'string') failures.push(`${target}: ${r}`);
    else results.push(r);
  }
  console.log('\n== summary: rates from wall time (CPU time in brackets: above wall where work ran on several threads); ratios from wall-time rates ==');
  for (const r of results) {
    const gpu = r.gpu === null ? '' : `, gpu mode ${r.gpu.mode} on ${r.gpu.kernelClass ?? 'no gpu.js kernel yet'}${r.gpu.simdKernels ? `, SIMD kernels for matmul/conv2d on ${r.gpu.simdThreads} thread(s)` : ''}`;
    console.log(`${r.target}: backend ${r.backend}${gpu}; load average ${r.machine.loadAverage} → ${r.loadAverageAfter}; ${r.seconds.toFixed(0)} s`);
    for (const note of r.notes ?? []) console.log(`  ${note}`);
  }
  for (const line of summary(results)) console.log(line);
  for (const r of results) {
    if (r.memory !== null) {
      const m = r.memory;
      console.log(`memory (${r.target}): ${m.steps} SmallNet steps at batch ${m.batch}: RSS ${m.rssMiB[0]} → ${m.rssMiB[m.rssMiB.length - 1]} MiB; textures alive ${m.liveTexturesStart} → ${m.liveTexturesEnd}`);
    }
  }
  const file = join(options.out, 'summary.json');
  writeJsonAtomic(file, { peers: { source: PEER_SOURCE, rates: PEERS }, targets: results, failures });
  console.log(`\nwrote ${file} (and one JSON per target beside it)`);
  for (const f of failures) console.error(`bench: target ${f}`);
  return failures.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}

