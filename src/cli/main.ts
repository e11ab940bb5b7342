#!/usr/bin/env node
/**
 * The `gradlab` command: one sub-command per job (see `gradlab --help`). Each sub-command lives in
 * its own file of this folder and exports a `Command`.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Command } from './command.js';
import { CPU_MALLOC_ENV, PARENT_ENV, wantsCpuMalloc } from '../node/malloc.js';

const COMMANDS: Record<string, () => Promise<Command>> = {
  download: async () => (await import('./download.js')).command,
  train: async () => (await import('./train.js')).command,
  reproduce: async () => (await import('./reproduce.js')).command,
  verify: async () => (await import('./verify.js')).command,
  bench: async () => (await import('./bench.js')).command,
  'run-job': async () => (await import('./run-job.js')).command,
  export: async () => (await import('./export.js')).command,
};

function usage(): string {
  const lines = Object.keys(COMMANDS).map((name) => `  gradlab ${name}`);
  return ['usage: gradlab <command> [options]   (gradlab <command> --help for its options)', '', 'commands:', ...lines].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  watchParent();
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


const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs this same command again in a child process with glibc's malloc set for CPU training
 * (src/node/malloc.ts says why: glibc reads them only at start, Node has no exec(), and there is no
 * other way to set them from JavaScript); returns its exit code.
 *
 * The two processes live and die together. SIGINT, SIGTERM and SIGHUP sent to this process (Slurm's
 * scancel, Kubernetes, kill, Ctrl-C) are passed on to the child, which stops after its current step
 * (a repeat, as when Ctrl-C reaches both, is ignored there), and this process then exits with the
 * child's status. The child holds an IPC channel to this process: should this one die without
 * passing anything on (kill -9), the channel closes and the child stops as on SIGTERM
 * (watchParent). A child killed by a signal is named, not reported as a bare number.
 */
function relaunch(): Promise<number> {
  const settings = Object.entries(CPU_MALLOC_ENV).map(([k, v]) => `${k}=${v}`).join(' ');
  console.error(`gradlab: running on the CPU with ${settings} (array memory reused between steps; GRADLAB_MALLOC=0 turns this off)`);
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...CPU_MALLOC_ENV, [PARENT_ENV]: String(process.pid) },
  });
  let forwarded: NodeJS.Signals | null = null;
  const forward = (signal: NodeJS.Signals): void => {
    forwarded = signal;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  return new Promise((resolve) => {
    child.on('error', (e) => {
      console.error(`gradlab: could not start again with the malloc settings (${e.message}); set GRADLAB_MALLOC=0 to run without them`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      for (const s of FORWARDED) process.off(s, forward);
      if (code !== null) return resolve(code);
      const number = signal === null ? 0 : osConstants.signals[signal] ?? 0;
      if (signal !== null && signal === forwarded) {
        console.error(`gradlab: the ${process.argv[2] ?? 'gradlab'} process stopped on ${signal}`);
        return resolve(128 + number);
      }
      console.error(`gradlab: the ${process.argv[2] ?? 'gradlab'} process (pid ${child.pid}) was killed by ${signal ?? 'an unknown signal'}${signal === 'SIGKILL' ? ' (out of memory, or kill -9)' : ''}; what it had not checkpointed is lost`);
      resolve(128 + number);
    });
  });
}

/**
 * In a process started by gradlab with an IPC channel (relaunch above, reproduce's jobs): when the
 * parent goes away without a word — killed with SIGKILL — the channel closes, and this process
 * stops as if sent SIGTERM instead of running on as an orphan that keeps writing.
 */
function watchParent(): void {
  const parent = Number(process.env[PARENT_ENV]);
  if (process.channel === undefined || !Number.isInteger(parent) || parent !== process.ppid) return;
  process.channel.unref(); // the channel alone must not keep this process alive
  process.on('disconnect', () => {
    console.error(`gradlab: the parent process ${parent} is gone; stopping as on SIGTERM`);
    process.kill(process.pid, 'SIGTERM');
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
