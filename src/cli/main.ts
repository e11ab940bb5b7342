#!/usr/bin/env node
/**
 * The `gradlab` command: one sub-command per job (see `gradlab --help`). Each sub-command lives in
 * its own file of this folder and exports a `Command`.
 */
import { spawn } from 'node:child_process';
import type { Command } from './command.js';
import { CPU_MALLOC_ENV, wantsCpuMalloc } from '../node/malloc.js';

const COMMANDS: Record<string, () => Promise<Command>> = {
  download: async () => (await import('./download.js')).command,
  train: async () => (await import('./train.js')).command,
  reproduce: async () => (await import('./reproduce.js')).command,
  verify: async () => (await import('./verify.js')).command,
  bench: async () => (await import('./bench.js')).command,
};

function usage(): string {
  const lines = Object.keys(COMMANDS).map((name) => `  gradlab ${name}`);
  return ['usage: gradlab <command> [options]   (gradlab <command> --help for its options)', '', 'commands:', ...lines].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`gradlab: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  if ((name === 'train' || name === 'reproduce') && wantsCpuMalloc(process.env, rest, process.platform)) return relaunch();
  const command = await load();
  // The gpu backend's Node pieces (gpu.js, worker threads, GRADLAB_GPU_MODE/SIMD/THREADS), as `import 'gradlab'` sets them up.
  (await import('../node/gpu-settings.js')).useNodeGpu();
  return command.run(rest);
}

/**
 * Runs this same command again in a child process with glibc's malloc set for CPU training
 * (src/node/malloc.ts says why); returns its exit code. Ctrl-C reaches the child directly (same
 * process group), which stops cleanly; this process only waits.
 */
function relaunch(): Promise<number> {
  const settings = Object.entries(CPU_MALLOC_ENV).map(([k, v]) => `${k}=${v}`).join(' ');
  console.error(`gradlab: running on the CPU with ${settings} (array memory reused between steps; GRADLAB_MALLOC=0 turns this off)`);
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, ...CPU_MALLOC_ENV } });
  const ignore = (): void => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  return new Promise((resolve) => {
    child.on('error', (e) => {
      console.error(`gradlab: could not start again with the malloc settings (${e.message}); set GRADLAB_MALLOC=0 to run without them`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', ignore);
      resolve(code ?? (signal ? 128 + 2 : 1));
    });
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`gradlab: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
