/**
 * The PyTorch target of `npm run bench`: finds a Python that has torch, runs bench/pytorch.py in a
 * fresh process at a given number of threads, and returns its figures in gradlab's result shape
 * (SuiteResult, bench/suite.ts) under the same workload ids, so bench/run.ts prints them beside
 * gradlab's and divides at equal threads.
 *
 * PyTorch is never a dependency of gradlab: where no Python with torch is found, the target is
 * skipped with one line. Which Python: GRADLAB_PYTHON when it is set (and then only that one), else
 * `python3` on the PATH, else /usr/bin/python3 (Debian's python3-torch installs there while a pyenv
 * `python3` may come first on the PATH) — the first for which `-c "import torch"` succeeds.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo } from './harness.js';
import { STEP_SGD } from './workloads.js';
import { TORCH_TARGET, type SuiteResult, type WorkloadResult } from './suite.js';

/** The Python side: bench/pytorch.py (not torch.py: a script of that name would shadow the torch package). */
export const PYTORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'pytorch.py');

/** A Python that imports torch, or why none was found. */
export type TorchPython = { python: string; version: string } | { python: null; reason: string };

/** Whether `python`'s torch sees a CUDA GPU. */
export function torchHasCuda(python: string): boolean {
  const probe = spawnSync(python, ['-c', 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'], { stdio: 'ignore', timeout: 120_000 });
  return probe.status === 0;
}

/** The first Python (see the file comment) whose `import torch` works, with torch's version. */
export function findTorchPython(env: NodeJS.ProcessEnv = process.env): TorchPython {
  const asked = env.GRADLAB_PYTHON;
  const candidates = asked !== undefined && asked !== '' ? [asked] : ['python3', '/usr/bin/python3'];
  const tried: string[] = [];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (probe.status === 0) return { python, version: probe.stdout.trim() };
    const why = probe.error !== undefined ? probe.error.message : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`);
    tried.push(`${python}: ${why}`);
  }
  const where = asked !== undefined && asked !== '' ? 'GRADLAB_PYTHON' : 'python3 and /usr/bin/python3';
  return { python: null, reason: `no Python with torch (${where} tried: ${tried.join('; ')})` };
}

export interface TorchRunOptions {
  python: string;
  threads: number;
  batch: number;
  only: string;
  quick: boolean;
  /** Where bench/pytorch.py writes its JSON. */
  json: string;
  /** 'cuda' runs on PyTorch's first GPU (bench/device/); default 'cpu'. */
  device?: 'cpu' | 'cuda';
}

/** What bench/pytorch.py's `time` command writes. */
interface PytorchOutput {
  threads: number;
  info: { torch: string; threads: number; python: string; mkldnn: boolean; blas: string[]; device: 'cpu' | 'cuda'; gpu: string | null };
  loadAverage: number;
  loadAverageAfter: number;
  seconds: number;
  batch: number;
  quick: boolean;
  results: WorkloadResult[];
}

/**
 * Runs bench/pytorch.py's workloads on `threads` threads in a fresh Python process (its output goes
 * to this process's stdout as it runs); returns the figures, or a sentence saying why there are none.
 */
export function runTorch(options: TorchRunOptions): SuiteResult | string {
  const startedAt = new Date().toISOString();
  const args = [
    PYTORCH_SCRIPT, 'time',
    '--threads', String(options.threads),
    '--batch', String(options.batch),
    '--only', options.only,
    '--lr', String(STEP_SGD.lr),
    '--momentum', String(STEP_SGD.momentum),
    '--json', options.json,
    '--device', options.device ?? 'cpu',
    ...(options.quick ? ['--quick'] : []),
  ];
  const child = spawnSync(options.python, args, { stdio: 'inherit', env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  if (child.error !== undefined) return `could not start ${options.python}: ${child.error.message}`;
  if (child.status !== 0) return `${options.python} ${PYTORCH_SCRIPT} exited with ${child.status ?? child.signal}`;
  const out = JSON.parse(readFileSync(options.json, 'utf8')) as PytorchOutput;
  if (out.threads !== options.threads) return `asked PyTorch for ${options.threads} thread(s), it runs on ${out.threads}`;
  const blas = out.info.blas.find((l) => !l.includes('dnnl')) ?? 'none found';
  const netlib = /\/blas\/libblas\.so/.test(blas);
  return {
    target: TORCH_TARGET,
    backend: TORCH_TARGET,
    gpu: null,
    threads: out.threads,
    machine: { ...machineInfo(), loadAverage: out.loadAverage },
    loadAverageAfter: out.loadAverageAfter,
    batch: out.batch,
    quick: out.quick,
    startedAt,
    seconds: out.seconds,
    results: out.results,
    memory: null,
    notes: [
      `PyTorch ${out.info.torch} (Python ${out.info.python}, ${options.python}) on ${out.info.gpu ?? 'the CPU'}, ${out.threads} thread(s); conv on oneDNN: ${out.info.mkldnn ? 'yes' : 'no'}`,
      `matmul's BLAS: ${blas}${netlib ? ' — the netlib reference BLAS (Debian libblas3): PyTorch GEMM and Linear layers run far below its best here' : ''}`,
    ],
  };
}
