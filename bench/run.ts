/**
 * `npm run bench` (and `gradlab bench`): runs bench/suite.ts once per target — the reference
 * backend and each gpu.js mode available here, every one in a fresh process — bench/tfjs.ts
 * (TensorFlow.js, wasm backend) in one more, and bench/pytorch.py (PyTorch, through bench/torch.ts)
 * at 1 thread and at all cores, then prints the figures side by side with their ratios and writes
 * everything as JSON.
 *
 *   npm run bench -- [--targets reference,webasm,headlessgl,tfjs-wasm,torch] [--only conv,step]
 *                    [--batch 128] [--quick] [--out DIR] [--memory-steps N --memory-batch B]
 *
 * Targets: 'reference' (plain TypeScript loops), 'webasm' (gpu.js wasm SIMD, always available),
 * 'headlessgl' (gpu.js on a GL context: needs the built `gl` package and a display — run under
 * `xvfb-run -a` when there is none, which this script does itself when xvfb-run exists), 'cpu'
 * (gpu.js's plain-JS debugging mode), 'tfjs-wasm' (TensorFlow.js on its wasm backend, the same
 * workloads where TF.js has the ops; needs the dev dependency @tensorflow/tfjs-backend-wasm),
 * 'torch' (PyTorch's CPU kernels, the same workloads and networks: needs a Python with torch, see
 * bench/torch.ts; never a dependency of gradlab). Default: reference, webasm, headlessgl when it can
 * run, tfjs-wasm when it is installed, torch when a Python has it.
 *
 * Equal threads: with the torch target, the webasm target runs twice — GRADLAB_THREADS=1 and
 * GRADLAB_THREADS=N (all cores: availableParallelism(), or GRADLAB_THREADS where it is set) — and
 * PyTorch runs at torch.set_num_threads(1) and (N), each in a fresh process, in the order webasm @1T,
 * torch @1T, webasm @NT, torch @NT so that each pair runs back to back; each ratio divides figures of
 * the same thread count.
 *
 * The ratios against TF.js and PyTorch use the figures of this run where there are some, and the
 * peers' recorded figures (bench/peers.ts) otherwise; each ratio says which.
 *
 * Ratios use the wall-time rates (see bench/harness.ts): the webasm target runs matmul and conv2d on
 * several threads (GRADLAB_THREADS; the machine's cores by default), so its CPU time adds up every
 * thread's and says what the work costs, not how long a user waits. Wall time moves with whatever
 * else the machine does: benchmark on a quiet machine (each target's header prints the load).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PEERS, PEER_SOURCE } from './peers.js';
import { CPU_MALLOC_ENV } from '../src/node/malloc.js';
import { writeJsonAtomic } from '../src/node/files.js';
import { RATE_LABEL, TARGETS, TFJS_TARGET, TORCH_TARGET, type AnyTarget, type SuiteResult } from './suite.js';
import { findTorchPython, runTorch } from './torch.js';

/** Every target --targets takes: gradlab's (bench/suite.ts), TF.js's (bench/tfjs.ts) and PyTorch's (bench/torch.ts). */
const ALL_TARGETS: readonly AnyTarget[] = [...TARGETS, TFJS_TARGET, TORCH_TARGET];

const HELP = `usage: npm run bench -- [options]      (or: gradlab bench [options])

Op-level benchmarks (GEMM 256/512/1024; conv2d forward and backward at SmallNet's and ResNet-20's
layer shapes and the peers' layer; batchNorm; max and average pooling; FReLU) and training-step
images/s (SmallNet with ReLU and with FReLU, ResNet-20), on each backend and gpu.js
mode, with ratios to the reference backend, to PyTorch and to TensorFlow.js (wasm backend): measured
in this run by the '${TORCH_TARGET}' target (every workload; at 1 thread and at all cores, against
webasm at the same threads; marked 'run') and the '${TFJS_TARGET}' target (GEMM, conv2d, the SmallNet
step), else the peers' recorded figures (marked 'rec').

  --targets LIST     comma-separated: ${ALL_TARGETS.join(', ')} (default: reference,
                     webasm, headlessgl when a GL context can be made, ${TFJS_TARGET} when
                     @tensorflow/tfjs-backend-wasm is installed — a dev dependency — and ${TORCH_TARGET}
                     when a Python imports torch: GRADLAB_PYTHON, else python3, else /usr/bin/python3)
  --only LIST        groups (gemm, conv, norm, pool, frelu, step) or parts of workload ids
                     (e.g. smallnet.conv2, 'step smallnet'); default all
  --batch N          batch size of the layer shapes and training steps (default 128)
  --quick            two samples per workload (a smoke run; figures are rougher)
  --out DIR          where the JSON goes (default results/bench/<date-time>)
  --memory-steps N   also run N SmallNet training steps per gpu target and report RSS at the
                     start and end (default 0: off; the issue's check is --memory-steps 1000)
  --memory-batch B   batch size of those steps (default 8)

Each target runs in its own process (a gpu.js mode is fixed for a process's life); with ${TORCH_TARGET},
webasm and PyTorch each run twice, at 1 thread and at all cores (GRADLAB_THREADS sets 'all'). Figures: wall
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

/** One process of the run: a target, and the threads it is given where the run chooses them. */
interface Run {
  target: AnyTarget;
  threads?: number;
}

/** A run's column name: 'webasm', or 'webasm @1T' where the run chose the threads. */
function label(run: Run): string {
  return run.threads === undefined ? run.target : `${run.target} @${run.threads}T`;
}

/**
 * The processes of a bench, in order. With the torch target, webasm and PyTorch each run at 1 thread
 * and at `allCores` threads, webasm and PyTorch back to back at each count (in the place of webasm,
 * or at the end when webasm is not among the targets).
 */
export function plan(targets: readonly AnyTarget[], allCores: number): Run[] {
  const counts = allCores > 1 ? [1, allCores] : [1];
  const paired = (withWebasm: boolean): Run[] =>
    counts.flatMap((threads) => [...(withWebasm ? [{ target: 'webasm' as const, threads }] : []), { target: TORCH_TARGET, threads }]);
  if (!targets.includes(TORCH_TARGET)) return targets.map((target) => ({ target }));
  const runs: Run[] = [];
  for (const target of targets) {
    if (target === 'webasm') runs.push(...paired(true));
    else if (target !== TORCH_TARGET) runs.push({ target });
  }
  if (!targets.includes('webasm')) runs.push(...paired(false));
  return runs;
}

function runTarget(run: Run, options: Options, launcher: string[], python: string | null): SuiteResult | string {
  const { target, threads } = run;
  const json = join(options.out, `${label(run).replace(' @', '-')}.json`);
  if (target === TORCH_TARGET) {
    if (python === null || threads === undefined) throw new Error('bench: the torch target needs a Python with torch and a thread count');
    console.log(`\n== ${label(run)} ==`);
    return runTorch({ python, threads, batch: Number(options.batch), only: options.only, quick: options.quick, json });
  }
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
  const env = { ...process.env, ...malloc, ...(threads !== undefined ? { GRADLAB_THREADS: String(threads) } : {}) };
  console.log(`\n== ${label(run)} ==`);
  const child = spawnSync(command[0], command.slice(1), { stdio: 'inherit', env });
  if (child.status !== 0) return `exited with ${child.status ?? child.signal}`;
  const result = JSON.parse(readFileSync(json, 'utf8')) as SuiteResult;
  if (threads === undefined) return result;
  if (result.gpu?.simdKernels === true && result.gpu.simdThreads !== threads) return `asked for GRADLAB_THREADS=${threads}, its SIMD kernels ran on ${result.gpu.simdThreads}`;
  return { ...result, threads };
}

const fmt = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? '—' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);

/** A ratio of the summary: a gradlab run's rate over another's, on one workload. */
export interface Ratio {
  workload: string;
  /** The gradlab run (its column name: 'webasm', 'webasm @1T'). */
  gradlab: string;
  /** What it is divided by: a run's column name ('torch @1T', 'reference'), or a recorded peer figure ('torch-1T', 'tfjs-wasm' marked 'rec'). */
  against: string;
  /** 'run': measured in this run; 'rec': the peers' recorded figure (bench/peers.ts), not this run. */
  mark: 'run' | 'rec';
  ratio: number;
}

/**
 * Every ratio the summary prints, from wall-time rates: each gradlab gpu run over the reference
 * backend; over PyTorch at the same thread count where PyTorch ran at it (else over the recorded
 * 1-thread figure); over TF.js of this run (else its recorded figure).
 */
export function ratios(results: readonly SuiteResult[]): Ratio[] {
  const rate = (r: SuiteResult | undefined, id: string): number | undefined => r?.results.find((w) => w.id === id)?.rate.wall;
  const find = (target: string, threads?: number): SuiteResult | undefined =>
    results.find((r) => r.target === target && (threads === undefined || r.threads === threads));
  const out: Ratio[] = [];
  const gradlab = results.filter((r) => r.target !== 'reference' && r.target !== TFJS_TARGET && r.target !== TORCH_TARGET);
  for (const g of gradlab) {
    const name = label(g);
    const torch = g.threads === undefined ? undefined : find(TORCH_TARGET, g.threads);
    for (const w of g.results) {
      const add = (against: string, mark: Ratio['mark'], denominator: number | undefined): void => {
        if (denominator !== undefined) out.push({ workload: w.id, gradlab: name, against, mark, ratio: w.rate.wall / denominator });
      };
      add('reference', 'run', rate(find('reference'), w.id));
      const peer = PEERS[w.id];
      if (torch !== undefined) add(label(torch), 'run', rate(torch, w.id));
      else add('torch-1T', 'rec', peer?.torch1T);
      const tfjs = rate(find(TFJS_TARGET), w.id);
      if (tfjs !== undefined) add(TFJS_TARGET, 'run', tfjs);
      else add(TFJS_TARGET, 'rec', peer?.tfjsWasm);
    }
  }
  return out;
}

/** The side-by-side table: one row per workload, rates per run, then the ratios (see `ratios`). */
function summary(results: SuiteResult[], all: readonly Ratio[]): string[] {
  const lines: string[] = [];
  const ids: string[] = [];
  for (const r of results) for (const w of r.results) if (!ids.includes(w.id)) ids.push(w.id);
  const names = results.map(label);
  // One ratio column per (gradlab run, denominator) pair that has a ratio somewhere; rec/run marked in the cell.
  const columns: { gradlab: string; against: string }[] = [];
  for (const r of all) {
    if (!columns.some((c) => c.gradlab === r.gradlab && c.against === r.against)) columns.push({ gradlab: r.gradlab, against: r.against });
  }
  const width = (text: string, min: number): number => Math.max(min, text.length + 1);
  const header = [
    'workload'.padEnd(28),
    'unit'.padEnd(8),
    ...names.map((n) => `${n} wall (cpu)`.padStart(width(`${n} wall (cpu)`, 22))),
    ...columns.map((c) => `${c.gradlab}/${c.against}`.padStart(width(`${c.gradlab}/${c.against}`, 14))),
  ];
  lines.push(header.join(' '));
  for (const id of ids) {
    const unit = results.flatMap((r) => r.results).find((w) => w.id === id)?.unit;
    if (unit === undefined) continue;
    const row = [
      id.padEnd(28),
      RATE_LABEL[unit].padEnd(8),
      ...results.map((r, i) => {
        const w = r.results.find((x) => x.id === id);
        const cell = w === undefined ? '—' : `${fmt(w.rate.wall)} (${fmt(w.rate.cpu)})`;
        return cell.padStart(width(`${names[i]} wall (cpu)`, 22));
      }),
      ...columns.map((c) => {
        const r = all.find((x) => x.workload === id && x.gradlab === c.gradlab && x.against === c.against);
        const cell = r === undefined ? '—' : c.against === 'reference' ? fmt(r.ratio) : `${fmt(r.ratio)} ${r.mark}`;
        return cell.padStart(width(`${c.gradlab}/${c.against}`, 14));
      }),
    ];
    lines.push(row.join(' '));
  }
  lines.push(`ratios of wall-time rates; 'run' = against a target measured in this run (PyTorch at the same thread count); 'rec' = against the recorded figure (bench/peers.ts), not this run.`);
  lines.push(`peers: ${PEER_SOURCE}; their conv layer is 'conv.* peers', their ResNet-20 uses projection shortcuts (B), ours and this run's PyTorch type A.`);
  return lines;
}

/** The thread count of "all cores": GRADLAB_THREADS where it is set, else the machine's parallelism. */
function allCores(): number {
  const asked = process.env.GRADLAB_THREADS;
  if (asked === undefined || asked === '') return availableParallelism();
  const n = Number(asked);
  if (!Number.isInteger(n) || n < 1) throw new Error(`bench: GRADLAB_THREADS must be an integer ≥ 1; got '${asked}'`);
  return n;
}

export async function main(argv: readonly string[]): Promise<number> {
  const options = parse(argv);
  if (options === null) return 0;
  let targets = options.targets;
  let launcherGL = glLauncher();
  const tfjs = tfjsInstalled();
  const wantsTorch = targets === null || targets.includes(TORCH_TARGET);
  const torch = wantsTorch ? findTorchPython() : null;
  if (targets === null) {
    targets = ['reference', 'webasm'];
    if (launcherGL !== null) targets.push('headlessgl');
    else console.log('headlessgl: no GL context here (gl package not built, or no display and no xvfb-run); skipped');
    if (tfjs) targets.push(TFJS_TARGET);
    else console.log(`${TFJS_TARGET}: @tensorflow/tfjs-backend-wasm is not installed (npm install, dev dependencies included); skipped — TF.js ratios use the recorded figures`);
    if (torch?.python) targets.push(TORCH_TARGET);
    else if (torch !== null && torch.python === null) console.log(`${TORCH_TARGET}: ${torch.reason}; skipped — PyTorch ratios use the recorded figures`);
  } else if (targets.includes('headlessgl') && launcherGL === null) {
    console.error('bench: --targets asks for headlessgl, but no GL context can be made here (is the gl package built? is xvfb-run installed?)');
    return 2;
  } else if (targets.includes(TFJS_TARGET) && !tfjs) {
    console.error(`bench: --targets asks for ${TFJS_TARGET}, but @tensorflow/tfjs-backend-wasm is not installed (it is a dev dependency: npm install)`);
    return 2;
  } else if (torch !== null && torch.python === null) {
    console.error(`bench: --targets asks for ${TORCH_TARGET}, but there is ${torch.reason}`);
    return 2;
  }
  launcherGL ??= [];
  const python = torch?.python ?? null;
  mkdirSync(options.out, { recursive: true });
  const results: SuiteResult[] = [];
  const failures: string[] = [];
  for (const run of plan(targets, allCores())) {
    const r = runTarget(run, options, run.target === 'headlessgl' ? launcherGL : [], python);
    if (typeof r === 'string') failures.push(`${label(run)}: ${r}`);
    else results.push(r);
  }
  console.log('\n== summary: rates from wall time (CPU time in brackets: above wall where work ran on several threads); ratios from wall-time rates ==');
  for (const r of results) {
    const gpu = r.gpu === null ? '' : `, gpu mode ${r.gpu.mode} on ${r.gpu.kernelClass ?? 'no gpu.js kernel yet'}${r.gpu.simdKernels ? `, SIMD kernels for matmul/conv2d on ${r.gpu.simdThreads} thread(s)` : ''}`;
    console.log(`${label(r)}: backend ${r.backend}${gpu}; load average ${r.machine.loadAverage} → ${r.loadAverageAfter}; ${r.seconds.toFixed(0)} s`);
    for (const note of r.notes ?? []) console.log(`  ${note}`);
  }
  const all = ratios(results);
  for (const line of summary(results, all)) console.log(line);
  for (const r of results) {
    if (r.memory !== null) {
      const m = r.memory;
      console.log(`memory (${label(r)}): ${m.steps} SmallNet steps at batch ${m.batch}: RSS ${m.rssMiB[0]} → ${m.rssMiB[m.rssMiB.length - 1]} MiB; textures alive ${m.liveTexturesStart} → ${m.liveTexturesEnd}`);
    }
  }
  const file = join(options.out, 'summary.json');
  writeJsonAtomic(file, { peers: { source: PEER_SOURCE, rates: PEERS }, targets: results, ratios: all, failures });
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

