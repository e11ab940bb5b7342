/**
 * glibc's malloc and the big arrays of CPU training.
 *
 * On the CPU (the reference backend, the gpu backend's webasm mode) every op returns a new
 * Float32Array, and a training step makes hundreds of them, many MiB each. glibc serves blocks of
 * 128 KiB and more from fresh mmap()ed pages and gives them back to the kernel when freed, so the
 * next step's arrays fault in zeroed pages again — on this kind of VM about 60 ms per 16 MiB array,
 * a third of a SmallNet step (measured: 119–133 img/s by default, 81 with every big block mmapped,
 * 152–160 with the settings below). Keeping blocks up to 32 MiB on the heap and never trimming it
 * lets freed arrays be reused: RSS stays at the step's peak instead of shrinking between steps.
 *
 * glibc reads these settings from the environment only at process start, so `gradlab train` and
 * `gradlab reproduce` start themselves again with them (see src/cli/main.ts) and the benchmarks set
 * them for their CPU targets. The GL mode wants the opposite (GPUJS.md §8: llvmpipe's freed texture
 * memory is only returned with MALLOC_MMAP_THRESHOLD_=131072), so runs that may use a GL context are
 * left alone.
 */
/** Set in the environment of a gradlab process started with an IPC channel by another: that parent's pid (see src/cli/main.ts, watchParent). */
export const PARENT_ENV = 'GRADLAB_PARENT_PID';

export const CPU_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(32 * 2 ** 20), // glibc's largest: blocks up to 32 MiB stay on the heap
  MALLOC_TRIM_THRESHOLD_: String(2 ** 30), // give freed heap memory back only past 1 GiB of it
};

/** The value of `--name V` or `--name=V` in argv, if given. */
function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/**
 * Whether a run with this environment and these arguments should get CPU_MALLOC_ENV: on Linux
 * (glibc), not turned off with GRADLAB_MALLOC=0, no malloc setting of the user's own, and sure to
 * run on the CPU — `--backend reference`, a gpu mode (--gpu-mode, else GRADLAB_GPU_MODE) of webasm
 * or cpu, or 'auto' with no display for a GL context.
 */
export function wantsCpuMalloc(env: NodeJS.ProcessEnv, argv: readonly string[], platform: string): boolean {
  if (platform !== 'linux' || env.GRADLAB_MALLOC === '0') return false;
  if (Object.keys(CPU_MALLOC_ENV).some((k) => env[k] !== undefined)) return false;
  if (option(argv, 'backend') === 'reference') return true;
  const mode = (option(argv, 'gpu-mode') ?? env.GRADLAB_GPU_MODE ?? 'auto').trim().toLowerCase();
  if (mode === 'webasm' || mode === 'cpu') return true;
  return (mode === 'auto' || mode === '') && (env.DISPLAY === undefined || env.DISPLAY === '');
}
