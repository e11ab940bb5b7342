/**
 * How gradlab's benchmarks take a time. Each workload's function runs once untimed (it compiles
 * the gpu kernels of its shapes) and, unless that took long, twice more (V8 optimises the
 * JavaScript around the kernels only after a few calls: a SIMD convolution's first calls ran 5×
 * slower), then Benchmark.js (the `benchmark` package) samples it. A wrapper
 * adds up this process's CPU time (user + system) over the same calls, so each result carries two
 * figures:
 *
 *   wall  Benchmark.js's mean seconds per call — what a user waits;
 *   cpu   CPU seconds per call, every thread of the process added up — what the code costs,
 *         nearly independent of other load on the machine. On one thread (the reference backend,
 *         gpu.js's kernels) an idle machine gives cpu ≈ wall; the webasm mode's SIMD kernels for
 *         matmul and conv2d run on several threads, so there cpu > wall.
 *
 * The load average before and after each run goes into the results, so a reader can tell a quiet
 * run from a contended one.
 */
import Benchmark from 'benchmark';
import os from 'node:os';

export interface Timing {
  /** The untimed first call (kernel compilation plus one run), ms. */
  firstMs: number;
  /** Wall time per call, ms: Benchmark.js's mean, and the median of its samples. */
  wallMs: number;
  wallMedianMs: number;
  /** Benchmark.js's relative margin of error of the mean (95 %), percent. */
  rmePercent: number;
  /** CPU time of this process per timed call, ms. */
  cpuMs: number;
  /** Benchmark.js samples and timed calls in all. */
  samples: number;
  calls: number;
}

export interface TimingOptions {
  /** Untimed calls after the first, so that V8 has optimised the JavaScript around the kernels. */
  warmupCalls: number;
  /** Fewest Benchmark.js samples (each sample is at least one call). */
  minSamples: number;
  /** Benchmark.js stops sampling after this many seconds once it has minSamples. */
  maxSeconds: number;
}

/**
 * Times `fn` after one untimed call; `sampling` chooses the sample counts from that call's duration
 * (ms). See the file comment for what the figures mean.
 */
export function time(fn: () => void, sampling: (firstMs: number) => TimingOptions): Timing {
  const start = performance.now();
  fn();
  const firstMs = performance.now() - start;
  const options = sampling(firstMs);
  for (let i = 0; i < options.warmupCalls; i++) fn();

  let cpuMicros = 0;
  let calls = 0;
  const timed = (): void => {
    const before = process.cpuUsage();
    fn();
    const used = process.cpuUsage(before);
    cpuMicros += used.user + used.system;
    calls++;
  };
  const bench = new Benchmark(timed, { minSamples: options.minSamples, maxTime: options.maxSeconds, initCount: 1 });
  bench.run();
  if (bench.error) throw bench.error;
  const sample = [...bench.stats.sample].sort((a, b) => a - b);
  return {
    firstMs,
    wallMs: bench.stats.mean * 1000,
    wallMedianMs: median(sample) * 1000,
    rmePercent: bench.stats.rme,
    cpuMs: calls > 0 ? cpuMicros / calls / 1000 : NaN,
    samples: sample.length,
    calls,
  };
}

function median(sorted: readonly number[]): number {
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** What the machine is, and how busy it is right now (1-minute load average). */
export interface MachineInfo {
  node: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  loadAverage: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    node: process.version,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

/** Resident set size of this process, MiB. */
export function rssMiB(): number {
  return Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10;
}
