/**
 * One benchmark process: the workloads of bench/workloads.ts on one target — the reference backend,
 * or the gpu backend in one gpu.js mode (the mode is fixed for a process's life) — printed as they
 * run and written as JSON. bench/run.ts starts one such process per target; alone:
 *
 *   npx tsx bench/suite.ts --target webasm [--only conv,step] [--batch 128] [--quick] [--json FILE]
 *                          [--memory-steps 1000 --memory-batch 8]
 *
 * --only takes groups (gemm, conv, norm, pool, frelu, step) or parts of workload ids
 * ('smallnet.conv2', 'step smallnet'); --memory-steps runs that many SmallNet training steps and
 * reports the resident memory (RSS) at the start and the end, and the gpu textures alive.
 */
import { parseArgs } from 'node:util';
import { writeJsonAtomic } from '../src/node/files.js';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as g from '../src/index.js';
import { machineInfo, rssMiB, time, type MachineInfo, type Timing, type TimingOptions } from './harness.js';
import { GROUPS, stepSetup, workloads, type Group, type Target, type Unit, type Workload } from './workloads.js';

export const TARGETS = ['reference', 'webasm', 'headlessgl', 'cpu'] as const;
export type TargetName = (typeof TARGETS)[number];
/** TensorFlow.js on its wasm backend (bench/tfjs.ts): run beside gradlab's targets for same-run ratios. */
export const TFJS_TARGET = 'tfjs-wasm';
/** PyTorch on its CPU kernels (bench/torch.ts, bench/pytorch.py), at 1 thread and at all cores. */
export const TORCH_TARGET = 'torch';
export type AnyTarget = TargetName | typeof TFJS_TARGET | typeof TORCH_TARGET;

export interface WorkloadResult {
  id: string;
  group: Group;
  what: string;
  unit: Unit;
  work: number;
  timing: Timing;
  /** GFLOP/s, million elements/s or images/s, from wall time and from CPU time. */
  rate: { wall: number; cpu: number };
}

export interface MemoryResult {
  steps: number;
  batch: number;
  /** RSS (MiB) after the first step, then every tenth of the run. */
  rssMiB: number[];
  liveTexturesStart: number;
  liveTexturesEnd: number;
}

export interface SuiteResult {
  target: AnyTarget;
  backend: g.BackendName | typeof TFJS_TARGET | typeof TORCH_TARGET;
  /** g.gpuInfo() after the run (null on the reference backend). */
  gpu: g.GpuInfo | null;
  /** Threads the run was given, where bench/run.ts chose them (GRADLAB_THREADS; torch.set_num_threads). */
  threads?: number;
  machine: MachineInfo;
  loadAverageAfter: number;
  batch: number;
  quick: boolean;
  startedAt: string;
  seconds: number;
  results: WorkloadResult[];
  memory: MemoryResult | null;
  /** How the figures were made, where a reader must know (the TF.js target: threads, SIMD, shims). */
  notes?: string[];
}

/** The rate a workload's figures are quoted in, and its label. */
export function rateOf(unit: Unit, work: number, ms: number): number {
  const perSecond = work / (ms / 1000);
  return unit === 'FLOP' ? perSecond / 1e9 : unit === 'elements' ? perSecond / 1e6 : perSecond;
}
export const RATE_LABEL: Record<Unit, string> = { FLOP: 'GFLOP/s', elements: 'Melem/s', images: 'img/s' };

function isTarget(value: string): value is TargetName {
  return TARGETS.some((t) => t === value);
}

export function selected(w: Workload, only: readonly string[]): boolean {
  return only.length === 0 || only.some((o) => (GROUPS.some((gr) => gr === o) ? w.group === o : w.id.includes(o)));
}

/** How many samples a workload gets: a slow one (a training step, anything on the reference backend) fewer. */
function sampling(quick: boolean): (firstMs: number) => TimingOptions {
  return (firstMs) => ({
    warmupCalls: firstMs > 10_000 ? 0 : 2,
    ...(quick || firstMs > 1000 ? { minSamples: 2, maxSeconds: 0 } : { minSamples: 5, maxSeconds: 2 }),
  });
}

export interface SuiteOptions {
  target: TargetName;
  batch: number;
  quick: boolean;
  only: readonly string[];
  memorySteps: number;
  memoryBatch: number;
  /** Called with each line of the report as it is produced. */
  print: (line: string) => void;
}

export function runSuite(options: SuiteOptions): SuiteResult {
  const { target, print } = options;
  const backend: g.BackendName = target === 'reference' ? 'reference' : 'gpu';
  if (target !== 'reference') g.setGpuMode(target);
  const isGL = target === 'headlessgl';
  // GL kernels may run lazily; reading back one number (a Σ) makes the time include the work.
  const settle = isGL ? (t: g.Tensor): void => void g.noGrad(() => g.tidy(() => g.sum(t).item())) : (): void => {};
  const on: Target = { backend, settle };
  const machine = machineInfo();
  const started = performance.now();
  const startedAt = new Date().toISOString();

  const gpuLine = (): string => {
    const info = g.gpuInfo({ start: true });
    const simd = info.simdKernels ? `; matmul/conv2d on the SIMD kernels, ${info.simdThreads} thread(s)` : info.mode === 'webasm' ? '; SIMD kernels off (GRADLAB_SIMD=0)' : '';
    return `gpu mode ${info.mode} (${info.reason}); kernel class ${info.kernelClass ?? 'none yet'}; ${info.compiledKernels} kernels compiled${simd}`;
  };
  print(`# target ${target}: backend '${backend}'${backend === 'gpu' ? `, ${gpuLine()}` : ''}`);
  print(`# ${machine.cpu}, ${machine.cores} cores, node ${machine.node}; load average ${machine.loadAverage} at the start; batch ${options.batch}${options.quick ? ', quick' : ''}`);
  print(`# rates: wall (Benchmark.js mean) and cpu (this process's CPU time per call); first = the untimed first call with its kernel compilation`);

  const results: WorkloadResult[] = [];
  for (const w of workloads(options.batch)) {
    if (!selected(w, options.only)) continue;
    const prepared = w.prepare(on);
    const result = measure(w, prepared.run, options.quick);
    prepared.dispose();
    results.push(result);
    print(formatResult(result));
  }

  let memory: MemoryResult | null = null;
  if (options.memorySteps > 0) memory = memoryCheck(backend, options.memorySteps, options.memoryBatch, print);

  const gpu = backend === 'gpu' ? g.gpuInfo() : null;
  if (gpu !== null) print(`# after the run: ${gpuLine()}, ${gpu.kernelCalls} kernel calls, ${gpu.liveTextures} textures alive`);
  const loadAverageAfter = machineInfo().loadAverage;
  print(`# load average ${loadAverageAfter} at the end`);
  return {
    target,
    backend,
    gpu,
    machine,
    loadAverageAfter,
    batch: options.batch,
    quick: options.quick,
    startedAt,
    seconds: (performance.now() - started) / 1000,
    results,
    memory,
  };
}

/** Times `run` (bench/harness.ts) as workload `w` and states its rates. */
export function measure(w: Pick<Workload, 'id' | 'group' | 'what' | 'unit' | 'work'>, run: () => void, quick: boolean): WorkloadResult {
  const timing = time(run, sampling(quick));
  return {
    id: w.id,
    group: w.group,
    what: w.what,
    unit: w.unit,
    work: w.work,
    timing,
    rate: { wall: rateOf(w.unit, w.work, timing.wallMs), cpu: rateOf(w.unit, w.work, timing.cpuMs) },
  };
}

export function formatResult(r: WorkloadResult): string {
  const label = RATE_LABEL[r.unit];
  const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  return (
    `${r.id.padEnd(28)} ${fmt(r.rate.wall).padStart(7)} ${label} wall (±${r.timing.rmePercent.toFixed(0)}%), ${fmt(r.rate.cpu).padStart(7)} cpu` +
    ` | ${r.timing.wallMs.toFixed(1)} ms/call, first ${r.timing.firstMs.toFixed(0)} ms, ${r.timing.calls} calls | ${r.what}`
  );
}

/** `steps` SmallNet training steps at batch `batch`; RSS after the first step and every tenth of the run. */
function memoryCheck(backend: g.BackendName, steps: number, batch: number, print: (line: string) => void): MemoryResult {
  const { step, dispose } = stepSetup('smallnet', batch, backend);
  step();
  const rss = [rssMiB()];
  const liveTexturesStart = g.gpuInfo().liveTextures;
  const every = Math.max(1, Math.floor(steps / 10));
  for (let i = 1; i <= steps; i++) {
    step();
    if (i % every === 0 || i === steps) rss.push(rssMiB());
  }
  const liveTexturesEnd = g.gpuInfo().liveTextures;
  dispose();
  print(
    `memory: ${steps} SmallNet steps at batch ${batch}: RSS ${rss[0]} MiB after the first step → ${rss[rss.length - 1]} MiB at the end ` +
      `(every ${every} steps: ${rss.join(', ')}); gpu textures alive ${liveTexturesStart} → ${liveTexturesEnd}`,
  );
  return { steps, batch, rssMiB: rss, liveTexturesStart, liveTexturesEnd };
}

function main(argv: readonly string[]): void {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      target: { type: 'string', default: 'webasm' },
      batch: { type: 'string', default: '128' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string', default: '' },
      json: { type: 'string' },
      'memory-steps': { type: 'string', default: '0' },
      'memory-batch': { type: 'string', default: '8' },
    },
    strict: true,
  });
  const target = values.target;
  if (!isTarget(target)) throw new Error(`bench: --target must be one of ${TARGETS.join(', ')}; got '${target}'`);
  const integer = (name: string, value: string, min: number): number => {
    const v = Number(value);
    if (!Number.isInteger(v) || v < min) throw new Error(`bench: --${name} must be an integer ≥ ${min}; got '${value}'`);
    return v;
  };
  const result = runSuite({
    target,
    batch: integer('batch', values.batch, 2),
    quick: values.quick,
    only: values.only.split(',').map((s) => s.trim()).filter((s) => s !== ''),
    memorySteps: integer('memory-steps', values['memory-steps'], 0),
    memoryBatch: integer('memory-batch', values['memory-batch'], 2),
    print: (line) => console.log(line),
  });
  if (values.json !== undefined) writeResult(values.json, result);
}

/** Writes a target's results as JSON, atomically (bench/run.ts reads the file when the process ends). */
export function writeResult(file: string, result: SuiteResult): void {
  writeJsonAtomic(file, result);
  console.log(`# wrote ${file}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2));
}
