/**
 * The GPU run (bench/device/README.md): on a machine with a GPU, gradlab's gpu backend in GL mode —
 * or, where no GL context on a hardware renderer can be made, in webasm mode, said so in the
 * result — runs the op table's gpu-vs-reference rows (test/op-table, compared as
 * gpu-vs-reference.test.ts does) and the training-step benchmarks (bench/suite.ts), and writes
 * everything to OUT/device.json.
 *
 *   node main.mjs --out DIR [--mode auto|headlessgl|webasm] [--rows all|N] [--only step]
 *                 [--batch 128] [--quick] [--allow-software-gl]
 *
 * bench/device/prepare.ts bundles this file (with the op table and the suite) into one ES module;
 * bench/device/run.sh starts it on the device. From a checkout it also runs as it is:
 * `npx tsx bench/device/main.ts --out /tmp/device --rows 5 --batch 2 --quick`.
 *
 * Where a Python has torch with CUDA (the device machine has), the same benchmarks also run in
 * PyTorch on the GPU (bench/pytorch.py --device cuda): `torchCuda` in the JSON.
 *
 * --mode auto (the default) first starts the GL mode in a child process (a gpu.js mode is fixed for
 * a process's life) and looks at which GL driver it loaded: headless-gl reports its renderer only as
 * 'ANGLE', so the probe reads the libraries mapped into its process (/proc/self/maps) and the GPU
 * memory in use (nvidia-smi) before and while it holds its context — NVIDIA's driver (libGLX_nvidia,
 * libnvidia-glcore) and memory taken → GL; no GL context, Mesa's driver (llvmpipe, which draws on
 * the CPU) or no memory taken → webasm, with the reason in the JSON (`fallback`). --allow-software-gl takes a software GL driver
 * all the same (to try the GL path without a GPU).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as g from '../../src/index.js';
import { makeFolder, writeJsonAtomic } from '../../src/node/files.js';
import { COMPOSITE_ROWS, OP_ROWS } from '../../test/op-table/index.js';
import { compareWithReference } from '../../test/op-table/compare.js';
import { rowLabel } from '../../test/op-table/row.js';
import { runSuite, type SuiteResult } from '../suite.js';
import { findTorchPython, runTorch, torchHasCuda } from '../torch.js';

const HELP = `usage: node main.mjs --out DIR [options]   (bench/device/README.md)

  --out DIR             where device.json goes (default: $OUT, else ./device-out)
  --mode M              auto (default: GL on a hardware renderer, else webasm), headlessgl, webasm
  --rows all|N          the op table's gpu-vs-reference rows: all (default) or the first N
  --only LIST           bench workloads (groups or parts of ids, as npm run bench); default step
  --batch N             batch size of the benchmarks (default 128)
  --quick               two samples per workload
  --allow-software-gl   in auto mode, use GL even when it draws on the CPU (llvmpipe, SwiftShader)`;

/** What the GL probe (a child process) found. */
export interface GlProbe {
  ok: boolean;
  /** gpuInfo's renderer (headless-gl says 'ANGLE' whatever draws). */
  renderer: string | null;
  /** The GL libraries the probe process had loaded after its first kernel (file names). */
  glLibraries: string[];
  /**
   * GPU memory in use (nvidia-smi, MiB, all processes) before the probe made its GL context and
   * while it held it; null where nvidia-smi cannot tell.
   */
  gpuMemoryMiB: { before: number | null; during: number | null };
  /**
   * Whether GL draws on the GPU: NVIDIA's GL driver is among the libraries and, where nvidia-smi
   * tells, the context took GPU memory (NVIDIA's client library loaded but drawing through the X
   * server's software GLX would take none).
   */
  hardware: boolean;
  kernelClass: string | null;
  /** Why GL could not start (the probe's error), when ok is false. */
  error: string | null;
}

export interface RowResult {
  row: string;
  ok: boolean;
  failure: string | null;
  gpuMs: number;
  referenceMs: number;
}

/** device.json. */
export interface DeviceResult {
  startedAt: string;
  seconds: number;
  node: string;
  machine: { cpu: string; cores: number; memoryGiB: number };
  /** nvidia-smi's GPU list, or why there is none. */
  nvidia: string;
  environment: Record<string, string | null>;
  /** The mode asked for, and the one that ran. */
  requestedMode: 'auto' | 'headlessgl' | 'webasm';
  mode: 'headlessgl' | 'webasm';
  /** The GL probe of auto mode (null when a mode was given). */
  glProbe: GlProbe | null;
  /** True when auto mode wanted GL on a hardware renderer and ran webasm instead; fallbackReason says why. */
  fallback: boolean;
  fallbackReason: string | null;
  gpu: g.GpuInfo;
  opRows: { total: number; passed: number; failed: number; rows: RowResult[] };
  bench: SuiteResult;
  /** The same benchmarks in PyTorch on the GPU (bench/pytorch.py --device cuda), where a Python has torch with CUDA; else null. */
  torchCuda: SuiteResult | null;
  /** Why torchCuda is null, or which Python ran it. */
  torchCudaNote: string;
}

interface Options {
  out: string;
  mode: 'auto' | 'headlessgl' | 'webasm';
  rows: number | 'all';
  only: string[];
  batch: number;
  quick: boolean;
  allowSoftwareGL: boolean;
}

function parse(argv: readonly string[]): Options | null {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return null;
  }
  const { values } = parseArgs({
    args: [...argv],
    options: {
      out: { type: 'string' },
      mode: { type: 'string', default: 'auto' },
      rows: { type: 'string', default: 'all' },
      only: { type: 'string', default: 'step' },
      batch: { type: 'string', default: '128' },
      quick: { type: 'boolean', default: false },
      'allow-software-gl': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const mode = values.mode;
  if (mode !== 'auto' && mode !== 'headlessgl' && mode !== 'webasm') throw new Error(`device: --mode takes auto, headlessgl or webasm; got '${mode}'`);
  const rows = values.rows === 'all' ? 'all' : Number(values.rows);
  if (rows !== 'all' && !(Number.isInteger(rows) && rows >= 0)) throw new Error(`device: --rows takes 'all' or an integer ≥ 0; got '${values.rows}'`);
  const batch = Number(values.batch);
  if (!Number.isInteger(batch) || batch < 2) throw new Error(`device: --batch must be an integer ≥ 2; got '${values.batch}'`);
  return {
    out: resolve(values.out ?? process.env.OUT ?? 'device-out'),
    mode,
    rows,
    only: values.only.split(',').map((s) => s.trim()).filter((s) => s !== ''),
    batch,
    quick: values.quick,
    allowSoftwareGL: values['allow-software-gl'],
  };
}

/** GL driver libraries mapped into this process (Linux's /proc/self/maps; empty elsewhere). */
export function loadedGLLibraries(maps: string): string[] {
  const names = new Set<string>();
  for (const line of maps.split('\n')) {
    const path = line.trim().split(/\s+/)[5];
    if (path === undefined) continue;
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (/^lib(GLX_|EGL_|nvidia-(glcore|eglcore|glsi|tls))|_dri\.so/.test(name)) names.add(name);
  }
  return [...names].sort();
}

/** GlProbe's `hardware`: NVIDIA's GL driver loaded and, where nvidia-smi tells, GPU memory taken. */
export function drawsOnGpu(glLibraries: readonly string[], memory: GlProbe['gpuMemoryMiB']): boolean {
  const nvidiaDriver = glLibraries.some((l) => /nvidia/i.test(l));
  const tookMemory = memory.before === null || memory.during === null || memory.during > memory.before;
  return nvidiaDriver && tookMemory;
}

/** The probe's child: starts GL mode, runs one kernel and prints what it found as one JSON line. */
function probeChild(): void {
  let probe: GlProbe;
  try {
    const before = gpuMemoryUsedMiB();
    g.setGpuMode('headlessgl');
    g.noGrad(() => g.tidy(() => g.add(g.ones([4], { backend: 'gpu' }), 1).toArray()));
    const during = gpuMemoryUsedMiB();
    const info = g.gpuInfo();
    let maps = '';
    try {
      maps = readFileSync('/proc/self/maps', 'utf8');
    } catch {
      // not Linux: no libraries to name, so no hardware driver is seen
    }
    const glLibraries = loadedGLLibraries(maps);
    const ok = info.mode === 'headlessgl';
    probe = { ok, renderer: info.renderer, glLibraries, gpuMemoryMiB: { before, during }, hardware: drawsOnGpu(glLibraries, { before, during }), kernelClass: info.kernelClass, error: ok ? null : `ran in mode ${info.mode}` };
  } catch (err) {
    probe = { ok: false, renderer: null, glLibraries: [], gpuMemoryMiB: { before: null, during: null }, hardware: false, kernelClass: null, error: err instanceof Error ? err.message : String(err) };
  }
  console.log(`GLPROBE ${JSON.stringify(probe)}`);
}

/**
 * Starts the script this process was started with again, with --probe-gl (the same node, the same
 * loader when from source): main.ts itself, or the bundle's launcher start.mjs.
 */
function probeGL(): GlProbe {
  const self = process.argv[1] ?? fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, [...process.execArgv, self, '--probe-gl'], { encoding: 'utf8', timeout: 120_000 });
  const line = (child.stdout ?? '').split('\n').find((l) => l.startsWith('GLPROBE '));
  if (line !== undefined) return JSON.parse(line.slice('GLPROBE '.length)) as GlProbe;
  const why = child.error?.message ?? (`exit ${child.status ?? child.signal}: ${(child.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  return { ok: false, renderer: null, glLibraries: [], gpuMemoryMiB: { before: null, during: null }, hardware: false, kernelClass: null, error: `the GL probe printed no result (${why})` };
}

/** The mode to run, and why not GL when auto mode wanted it. */
export function chooseMode(probe: GlProbe, allowSoftwareGL: boolean): { mode: 'headlessgl' | 'webasm'; fallbackReason: string | null } {
  if (!probe.ok) return { mode: 'webasm', fallbackReason: `no GL context: ${probe.error ?? 'unknown error'}` };
  if (!probe.hardware && !allowSoftwareGL) {
    const drivers = probe.glLibraries.length > 0 ? probe.glLibraries.join(', ') : 'none seen';
    const { before, during } = probe.gpuMemoryMiB;
    if (probe.glLibraries.some((l) => /nvidia/i.test(l))) {
      return { mode: 'webasm', fallbackReason: `GL runs on NVIDIA's client library, but its context took no GPU memory (${before} → ${during} MiB): it draws elsewhere (the X server's software GLX?)` };
    }
    return { mode: 'webasm', fallbackReason: `GL runs, but on no GPU vendor's driver (GL libraries loaded: ${drivers}; Mesa here is llvmpipe, on the CPU)` };
  }
  return { mode: 'headlessgl', fallbackReason: null };
}

/** GPU memory in use on the first GPU, MiB (nvidia-smi), or null where it cannot tell. */
function gpuMemoryUsedMiB(): number | null {
  const smi = spawnSync('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 30_000 });
  const value = smi.status === 0 ? Number(smi.stdout.trim().split('\n')[0]) : NaN;
  return Number.isFinite(value) ? value : null;
}

function nvidiaSmi(): string {
  const smi = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8', timeout: 30_000 });
  if (smi.error !== undefined) return `nvidia-smi: ${smi.error.message}`;
  return smi.status === 0 ? smi.stdout.trim() : `nvidia-smi exited with ${smi.status}: ${smi.stderr.trim()}`;
}

/** The benchmarks in PyTorch on the GPU, beside gradlab's (the device has torch with CUDA). */
function torchOnGpu(options: Options, print: (line: string) => void): { torchCuda: SuiteResult | null; torchCudaNote: string } {
  const found = findTorchPython();
  if (found.python === null) return { torchCuda: null, torchCudaNote: found.reason };
  if (!torchHasCuda(found.python)) return { torchCuda: null, torchCudaNote: `${found.python} (torch ${found.version}) sees no CUDA GPU` };
  print(`# PyTorch ${found.version} on the GPU (${found.python}), the same workloads`);
  const json = join(options.out, 'torch-cuda.json');
  const r = runTorch({ python: found.python, threads: availableParallelism(), batch: options.batch, only: options.only.join(','), quick: options.quick, json, device: 'cuda' });
  return typeof r === 'string' ? { torchCuda: null, torchCudaNote: r } : { torchCuda: r, torchCudaNote: `${found.python}, torch ${found.version}` };
}

function runRows(limit: number | 'all', print: (line: string) => void): DeviceResult['opRows'] {
  const all = [...OP_ROWS, ...COMPOSITE_ROWS];
  const chosen = limit === 'all' ? all : all.slice(0, limit);
  const rows: RowResult[] = [];
  for (const c of chosen) {
    const row = rowLabel(c);
    let result: RowResult;
    try {
      const r = compareWithReference(c);
      result = { row, ok: r.failure === null, failure: r.failure, gpuMs: r.gpuMs, referenceMs: r.referenceMs };
    } catch (err) {
      result = { row, ok: false, failure: `threw: ${err instanceof Error ? err.message : String(err)}`, gpuMs: NaN, referenceMs: NaN };
    }
    rows.push(result);
    if (!result.ok) print(`FAIL ${row}: ${result.failure}`);
  }
  const passed = rows.filter((r) => r.ok).length;
  print(`# op table: ${passed} of ${rows.length} rows agree with the reference backend (forward and backward, float32)`);
  return { total: rows.length, passed, failed: rows.length - passed, rows };
}

export function main(argv: readonly string[]): number {
  if (argv.includes('--probe-gl')) {
    probeChild();
    return 0;
  }
  const options = parse(argv);
  if (options === null) return 0;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  makeFolder(options.out);
  const print = (line: string): void => console.log(line);

  let glProbe: GlProbe | null = null;
  let mode: 'headlessgl' | 'webasm' = options.mode === 'auto' ? 'webasm' : options.mode;
  let fallbackReason: string | null = null;
  if (options.mode === 'auto') {
    glProbe = probeGL();
    ({ mode, fallbackReason } = chooseMode(glProbe, options.allowSoftwareGL));
    print(`# GL probe: ${glProbe.ok ? `a context works; GL libraries loaded: ${glProbe.glLibraries.join(', ') || 'none seen'}` : `failed: ${glProbe.error}`}`);
    print(fallbackReason === null ? `# running in GL mode` : `# FALLBACK to webasm: ${fallbackReason}`);
  }
  g.setGpuMode(mode);
  g.gpuInfo({ start: true });

  const opRows = runRows(options.rows, print);
  const bench = runSuite({ target: mode, batch: options.batch, quick: options.quick, only: options.only, memorySteps: 0, memoryBatch: 2, print });
  const { torchCuda, torchCudaNote } = torchOnGpu(options, print);
  const env = ['DISPLAY', '__GLX_VENDOR_LIBRARY_NAME', 'GRADLAB_THREADS', 'LIBGL_ALWAYS_SOFTWARE', 'LD_LIBRARY_PATH'];
  const result: DeviceResult = {
    startedAt,
    seconds: (performance.now() - started) / 1000,
    node: process.version,
    machine: { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: availableParallelism(), memoryGiB: Math.round(totalmem() / 2 ** 30) },
    nvidia: nvidiaSmi(),
    environment: Object.fromEntries(env.map((k) => [k, process.env[k] ?? null])),
    requestedMode: options.mode,
    mode,
    glProbe,
    fallback: fallbackReason !== null,
    fallbackReason,
    gpu: g.gpuInfo(),
    opRows,
    bench,
    torchCuda,
    torchCudaNote,
  };
  const file = join(options.out, 'device.json');
  writeJsonAtomic(file, result);
  print(`# wrote ${file}: mode ${mode}${result.fallback ? ' (fallback)' : ''}, ${opRows.passed}/${opRows.total} rows passed, ${bench.results.length} benchmarks`);
  return opRows.failed === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`device: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  }
}
