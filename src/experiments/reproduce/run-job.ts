/**
 * One job of an emitted list (`gradlab run-job JOBS.jsonl INDEX`, what each Slurm / GNU parallel /
 * Kubernetes task runs), and where every job of a results folder stands (for `--report-only`).
 *
 * run-job: reads line INDEX of jobs.jsonl; with the protocol.json beside it, checks the job against
 * the protocol (a folder holding another setup is an error, as in `reproduce`) and records job.json;
 * skips a finished job; refuses a job whose folder another live process holds (its lock file); runs
 * `gradlab train` with the line's arguments (plus --resume when the folder has a checkpoint) in a
 * child process, its output appended to the job's train.log and echoed to stdout (the scheduler's
 * log). It records how the attempt ended in run-job.json. Exit status:
 *
 *   0  the job is finished (now or before)
 *   3  the run diverged; its result is recorded (the table says "exploding")
 *   1  an error (bad list or index, another process holds the job, training failed)
 *   143 / 130  stopped by SIGTERM / SIGINT (e.g. scancel); the checkpoint stays, a rerun resumes
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { LOCK_FILE, writeJsonAtomic } from '../../node/files.js';
import { CHECKPOINT_FILE, type EpochRecord, type TrainSummary } from '../train/index.js';
import { resolveProtocol, runSettings, type Protocol, type ReproduceOptions } from './protocol.js';
import { jobList, jobState, readJson, type Job } from './jobs.js';
import { launchTrain } from './runner.js';
import { JOBS_FILE, type JobLine } from './emit.js';

/** What run-job records in the job's folder about its last attempt. */
export const RUN_JOB_FILE = 'run-job.json';

export interface RunJobRecord {
  index: number;
  id: string;
  host: string;
  pid: number;
  started: string;
  ended: string | null;
  /** null while running (or when the process was killed before it could write). */
  exitCode: number | null;
}

/** Reads and checks jobs.jsonl; errors name the file and the line. */
export function readJobLines(path: string): JobLine[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`run-job: cannot read the job list ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const lines: JobLine[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      throw new Error(`run-job: ${path} line ${i + 1} is not JSON`);
    }
    const o = (typeof v === 'object' && v !== null ? v : {}) as Partial<Record<keyof JobLine, unknown>>;
    if (!Number.isInteger(o.index) || typeof o.id !== 'string' || typeof o.out !== 'string' || !Array.isArray(o.argv) || !o.argv.every((a) => typeof a === 'string')) {
      throw new Error(`run-job: ${path} line ${i + 1} must be { "index", "id", "argv": [strings], "out" }; got ${raw.slice(0, 200)}`);
    }
    if (o.index !== lines.length) throw new Error(`run-job: ${path} line ${i + 1} has index ${o.index}; the lines must be numbered 0, 1, 2, … in order (expected ${lines.length})`);
    lines.push({ index: o.index as number, id: o.id, argv: o.argv as string[], out: o.out });
  });
  if (lines.length === 0) throw new Error(`run-job: ${path} holds no jobs`);
  return lines;
}

/** The protocol that `reproduce` wrote to protocol.json, checked again (resolveProtocol). */
export function readProtocol(path: string): Protocol {
  const p = readJson<Protocol>(path);
  if (p === null) throw new Error(`reproduce: ${path} does not exist`);
  const options: ReproduceOptions = { ...runSettings(p), table: p.table, out: p.out, seeds: p.seeds, rows: p.rows ?? undefined, datasets: p.datasets };
  if (p.table === 'table1') options.lrs = p.columns;
  else options.depths = p.columns;
  return resolveProtocol(options);
}

/** Who holds a job folder's lock: { pid, host }, or null when nobody (no lock, or its process is gone). */
export function lockHolder(folder: string): { pid: number; host: string } | null {
  const path = join(folder, LOCK_FILE);
  if (!existsSync(path)) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  let pid = Number.NaN;
  let host = hostname();
  if (/^\d+\s*$/.test(text)) pid = Number.parseInt(text, 10);
  else {
    try {
      const v: unknown = JSON.parse(text);
      if (typeof v === 'object' && v !== null) {
        const { pid: p, host: h } = v as { pid?: unknown; host?: unknown };
        if (typeof p === 'number') pid = p;
        if (typeof h === 'string') host = h;
      }
    } catch {
      return null; // being written: the train process itself settles it
    }
  }
  if (!Number.isInteger(pid)) return null;
  if (host !== hostname()) return { pid, host }; // another node's process: cannot be checked from here
  try {
    process.kill(pid, 0);
    return { pid, host };
  } catch (e) {
    return e instanceof Error && Reflect.get(e, 'code') === 'EPERM' ? { pid, host } : null;
  }
}

/** Where a job stands, as `--report-only` lists it. */
export type JobProgress =
  | { kind: 'done'; diverged: boolean }
  | { kind: 'running'; pid: number; host: string }
  | { kind: 'interrupted'; epochsCompleted: number }
  | { kind: 'failed'; exitCode: number | null }
  | { kind: 'not started' };

/** A job's progress from its folder: summary.json, the lock, the checkpoint, run-job.json, train.log. */
export function jobProgress(folder: string): JobProgress {
  const summary = readJson<TrainSummary>(join(folder, 'summary.json'));
  const holder = lockHolder(folder);
  if (holder) return { kind: 'running', ...holder };
  if (summary) return { kind: 'done', diverged: summary.diverged };
  if (existsSync(join(folder, CHECKPOINT_FILE))) return { kind: 'interrupted', epochsCompleted: readJson<EpochRecord[]>(join(folder, 'metrics.json'))?.length ?? 0 };
  const record = readJson<RunJobRecord>(join(folder, RUN_JOB_FILE));
  if (record || existsSync(join(folder, 'train.log'))) return { kind: 'failed', exitCode: record?.exitCode ?? null };
  return { kind: 'not started' };
}

/** One line about a job's progress, for the report and the terminal. */
export function describeProgress(p: JobProgress): string {
  switch (p.kind) {
    case 'done':
      return p.diverged ? 'finished (diverged)' : 'finished';
    case 'running':
      return `running (process ${p.pid} on ${p.host})`;
    case 'interrupted':
      return `interrupted after ${p.epochsCompleted} epoch(s); resubmit to resume from its checkpoint`;
    case 'failed':
      if (p.exitCode === 0) return 'ended without its results (no summary.json, no checkpoint); resubmit it';
      return `failed${p.exitCode === null ? ' (killed, or still starting)' : ` (exit status ${p.exitCode})`} before its first checkpoint; see train.log`;
    case 'not started':
      return 'not started';
  }
}

export interface RunJobOptions {
  log?: (line: string) => void;
  /** Echo the training output to stdout as well as train.log (default true). */
  echo?: boolean;
}

/** Runs job `index` of the list at `jobsPath`; resolves to the exit status (see the file's comment). */
export async function runJob(jobsPath: string, index: number, options: RunJobOptions = {}): Promise<number> {
  const log = options.log ?? ((line: string) => console.log(line));
  const path = resolve(jobsPath);
  const lines = readJobLines(path);
  if (!Number.isInteger(index) || index < 0 || index >= lines.length) {
    throw new Error(`run-job: INDEX must be an integer from 0 to ${lines.length - 1} (${path} has ${lines.length} jobs); got ${index}`);
  }
  const line = lines[index];
  let job: Job | null = null;
  const protocolPath = join(dirname(path), 'protocol.json');
  if (existsSync(protocolPath)) {
    job = jobList(readProtocol(protocolPath)).find((j) => j.id === line.id) ?? null;
    if (job === null) throw new Error(`run-job: job ${index} (${line.id}) is not a job of the protocol in ${protocolPath}; emit the list again`);
    if (resolve(job.config.outDir) !== resolve(line.out)) throw new Error(`run-job: job ${index} (${line.id}) writes to ${line.out}, but the protocol puts it in ${job.config.outDir}; emit the list again`);
  }
  const out = resolve(line.out);
  const state = job ? jobState(job) : stateOfFolder(out);
  if (state.kind === 'done') {
    log(`run-job ${index} (${line.id}): finished already${state.diverged ? ' (diverged; recorded)' : ''}; nothing to do`);
    return state.diverged ? 3 : 0;
  }
  const holder = lockHolder(out);
  if (holder) {
    log(`run-job ${index} (${line.id}): refused — process ${holder.pid} on ${holder.host} is running this job (lock ${join(out, LOCK_FILE)})`);
    return 1;
  }
  if (job) writeJsonAtomic(join(out, 'job.json'), { id: job.id, index, table: job.table, dataset: job.dataset, row: job.row, column: job.column, seed: job.seed, config: job.config });
  const record: RunJobRecord = { index, id: line.id, host: hostname(), pid: process.pid, started: new Date().toISOString(), ended: null, exitCode: null };
  writeJsonAtomic(join(out, RUN_JOB_FILE), record);
  const resume = state.kind === 'resume';
  log(`run-job ${index} (${line.id}) on ${record.host}: ${resume ? `resuming after epoch ${state.epochsCompleted}` : 'starting'}; output in ${join(out, 'train.log')}`);
  const argv = [...line.argv.filter((a) => a !== '--resume'), ...(resume ? ['--resume'] : [])];

  // A scheduler stops a task with SIGTERM (scancel, a pod deletion): pass it on, and let the
  // training child save and stop before this process exits.
  let child: ChildProcess | null = null;
  let stoppedBy: NodeJS.Signals | null = null;
  const forward = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    child?.kill(signal);
  };
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  let exitCode: number;
  try {
    exitCode = await launchTrain(argv, join(out, 'train.log'), { echo: options.echo ?? true, onStart: (c) => (child = c) });
  } finally {
    process.off('SIGTERM', forward);
    process.off('SIGINT', forward);
  }
  writeJsonAtomic(join(out, RUN_JOB_FILE), { ...record, ended: new Date().toISOString(), exitCode });
  const summary = readJson<TrainSummary>(join(out, 'summary.json'));
  if (summary && (exitCode === 0 || exitCode === 3)) {
    log(`run-job ${index} (${line.id}): ${summary.diverged ? `diverged at epoch ${summary.divergence?.epoch}; recorded` : `finished, best test error ${((summary.bestTestError ?? NaN) * 100).toFixed(2)}%`}`);
    return summary.diverged ? 3 : 0;
  }
  const signal: NodeJS.Signals | null = stoppedBy;
  if (signal !== null) {
    log(`run-job ${index} (${line.id}): stopped by ${signal} (training exit status ${exitCode}); resubmit to resume`);
    return signal === 'SIGINT' ? 130 : 143;
  }
  log(`run-job ${index} (${line.id}): training failed (exit status ${exitCode}); see ${join(out, 'train.log')}`);
  return 1;
}

/** A job's state from its folder alone (a jobs.jsonl without protocol.json). */
function stateOfFolder(out: string): { kind: 'done'; diverged: boolean } | { kind: 'resume'; epochsCompleted: number } | { kind: 'new' } {
  const summary = readJson<TrainSummary>(join(out, 'summary.json'));
  if (summary) return { kind: 'done', diverged: summary.diverged };
  if (existsSync(join(out, CHECKPOINT_FILE))) return { kind: 'resume', epochsCompleted: readJson<EpochRecord[]>(join(out, 'metrics.json'))?.length ?? 0 };
  return { kind: 'new' };
}

export { JOBS_FILE };
