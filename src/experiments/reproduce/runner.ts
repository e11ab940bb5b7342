/**
 * Running the jobs: each unfinished job in a child process (`gradlab train …`, resumed from its
 * checkpoint when it has one), a few at a time, with Ctrl-C passed on to the children.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { openSync, closeSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TrainSummary } from '../train/index.js';
import { formatSeconds, percent } from '../../util/format.js';
import { LOCK_FILE, folderHolder, makeFolder, writeJsonAtomic } from '../../node/files.js';
import { PARENT_ENV } from '../../node/malloc.js';
import { jobState, readJson, trainArgs, type Job } from './jobs.js';

export interface JobOutcome {
  job: Job;
  action: 'skipped' | 'ran' | 'resumed';
  /** The child's exit status (0 completed, 3 diverged; see gradlab train --help), null when skipped. */
  exitCode: number | null;
  /** True when the job has its summary.json now. */
  finished: boolean;
  seconds: number;
  /** Set when another process holds the job's folder (its lock): the job is running there, not failed. */
  runningElsewhere?: number;
}

/**
 * The closing line of a run, and how many jobs failed: a job another process is running (it holds
 * the folder's lock) is neither finished nor failed, and is counted apart.
 */
export function outcomeSummary(outcomes: readonly JobOutcome[]): { line: string; failed: number } {
  const count = (keep: (o: JobOutcome) => boolean): number => outcomes.filter(keep).length;
  const elsewhere = count((o) => o.runningElsewhere !== undefined);
  const failed = count((o) => !o.finished && o.runningElsewhere === undefined);
  const parts = [
    `ran ${count((o) => o.action === 'ran' && o.runningElsewhere === undefined)}`,
    `resumed ${count((o) => o.action === 'resumed' && o.runningElsewhere === undefined)}`,
    `skipped ${count((o) => o.action === 'skipped' && o.runningElsewhere === undefined)} finished jobs`,
  ];
  const running = elsewhere === 0 ? '' : `; ${elsewhere} running in other processes (the tables wait for them)`;
  return { line: `${parts.join(', ')}${running}; ${failed} failed`, failed };
}

export interface RunOptions {
  /** Jobs running at once, each in its own process. Default 1. */
  parallel?: number;
  log?: (line: string) => void;
}

/**
 * Runs every unfinished job in a child process (`gradlab train …`, output appended to the job's
 * train.log), at most `parallel` at a time; finished jobs are skipped. A job that fails is reported
 * and the others go on.
 */
export async function runJobs(jobs: readonly Job[], options: RunOptions = {}): Promise<JobOutcome[]> {
  const parallel = options.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`reproduce: jobs (parallel processes) must be an integer ≥ 1; got ${parallel}`);
  const log = options.log ?? (() => {});
  const states = jobs.map((j) => jobState(j)); // every conflict is found before anything starts
  const outcomes: JobOutcome[] = new Array(jobs.length);
  const todo: number[] = [];
  jobs.forEach((job, i) => {
    if (states[i].kind === 'done') outcomes[i] = { job, action: 'skipped', exitCode: null, finished: true, seconds: 0 };
    else todo.push(i);
  });
  const toRun = todo.length;
  let started = 0;
  const worker = async (): Promise<void> => {
    for (let next = todo.shift(); next !== undefined; next = todo.shift()) {
      const job = jobs[next];
      const state = states[next];
      const resume = state.kind === 'resume';
      const n = ++started;
      const holder = folderHolder(job.config.outDir);
      if (holder !== null) {
        outcomes[next] = { job, action: 'skipped', exitCode: null, finished: false, seconds: 0, runningElsewhere: holder.pid };
        log(`[${n}/${toRun}] ${job.id}: running in process ${holder.pid} (it holds ${join(job.config.outDir, LOCK_FILE)}); left to it`);
        continue;
      }
      log(`[${n}/${toRun}] ${resume ? `resume ${job.id} after epoch ${state.epochsCompleted}` : `start ${job.id}`}`);
      const t0 = performance.now();
      writeJsonAtomic(join(job.config.outDir, 'job.json'), { id: job.id, table: job.table, dataset: job.dataset, row: job.row, column: job.column, seed: job.seed, config: job.config });
      const exitCode = await launchTrain(trainArgs(job, resume), join(job.config.outDir, 'train.log'));
      const seconds = (performance.now() - t0) / 1000;
      const summary = readJson<TrainSummary>(join(job.config.outDir, 'summary.json'));
      const finished = summary !== null && (exitCode === 0 || exitCode === 3);
      const rival = finished ? null : folderHolder(job.config.outDir); // started by another process meanwhile
      outcomes[next] = { job, action: resume ? 'resumed' : 'ran', exitCode, finished, seconds, ...(rival === null ? {} : { runningElsewhere: rival.pid }) };
      const signal = exitCode > 128 ? Object.entries(osConstants.signals).find(([, n]) => n === exitCode - 128)?.[0] : undefined;
      const what = rival !== null
        ? `running in process ${rival.pid}, which holds its folder (not failed)`
        : !finished
        ? `FAILED (${signal ? `killed by ${signal}` : `exit status ${exitCode}`}; see ${join(job.config.outDir, 'train.log')})`
        : summary.diverged
          ? `diverged at epoch ${summary.divergence?.epoch}`
          : `best test error ${percent(summary.bestTestError)} (epoch ${summary.bestEpoch}), final ${percent(summary.finalTestError)}`;
      log(`  ${job.id}: ${what}, ${formatSeconds(seconds)}`);
    }
  };
  // Ctrl-C or a kill of this process stops the training children too (their last checkpoint
  // stays), so a rerun never finds an orphan still writing into a job directory.
  const forward = (signal: NodeJS.Signals) => {
    for (const child of liveChildren) child.kill(signal);
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    process.kill(process.pid, signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, todo.length) }, () => worker()));
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
  return outcomes;
}

const liveChildren = new Set<ChildProcess>();

/**
 * The node arguments that run the gradlab CLI: from source (this file is .ts, run through tsx) the
 * CLI's .ts entry with tsx's loader; from the build, dist's main.js. Either way `process.execPath`
 * runs it, so the children use the parent's node.
 */
export function gradlabEntry(): string[] {
  const here = fileURLToPath(import.meta.url);
  const cli = join(dirname(here), '..', '..', 'cli');
  if (here.endsWith('.ts')) {
    const tsx = createRequire(import.meta.url).resolve('tsx');
    return ['--import', pathToFileURL(tsx).href, join(cli, 'main.ts')];
  }
  return [join(cli, 'main.js')];
}

/**
 * Runs `gradlab <args>` in a child process, appending its output to `logPath` (and, with `echo`,
 * to this process's stdout as well); resolves to its exit status (128 + n when killed by signal n).
 */
export function launchTrain(args: string[], logPath: string, options: { echo?: boolean; onStart?: (child: ChildProcess) => void } = {}): Promise<number> {
  makeFolder(dirname(logPath), `reproduce: cannot create the log folder ${dirname(logPath)}`);
  const fd = openSync(logPath, 'a');
  const header = `\n=== ${new Date().toISOString()}  gradlab ${args.join(' ')}\n`;
  writeSync(fd, header);
  if (options.echo) process.stdout.write(header);
  return new Promise((resolvePromise, reject) => {
    // The IPC channel ties the job to this process: should this one die without passing a signal on
    // (kill -9), the channel closes and the job stops as on SIGTERM (src/cli/main.ts, watchParent).
    const child = spawn(process.execPath, [...gradlabEntry(), ...args], {
      stdio: options.echo ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', fd, fd, 'ipc'],
      env: { ...process.env, [PARENT_ENV]: String(process.pid) },
    });
    if (options.echo) {
      const tee = (chunk: Buffer) => {
        writeSync(fd, chunk);
        process.stdout.write(chunk);
      };
      child.stdout?.on('data', tee);
      child.stderr?.on('data', tee);
    }
    options.onStart?.(child);
    liveChildren.add(child);
    child.on('error', (err) => {
      liveChildren.delete(child);
      closeSync(fd);
      reject(new Error(`reproduce: could not start gradlab train: ${err.message}`));
    });
    // 'close', not 'exit': the piped output is all written before the log is closed.
    child.on('close', (code, signal) => {
      liveChildren.delete(child);
      closeSync(fd);
      resolvePromise(code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : 1));
    });
  });
}
