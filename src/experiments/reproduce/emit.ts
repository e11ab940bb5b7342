/**
 * `gradlab reproduce … --emit`: the jobs as files that existing schedulers run, instead of running
 * them here. gradlab builds no scheduler; it writes what Slurm, GNU parallel and Kubernetes take:
 *
 *   jobs.jsonl      one line per job, in jobList's order: { index, id, argv, out } — argv: the
 *                   `gradlab train` arguments, out: the job's folder under the results directory
 *   slurm.sbatch    a Slurm job array (`--array=0-(N−1)%K`); task i runs `gradlab run-job jobs.jsonl i`
 *   parallel.sh     the same list for GNU parallel, on this machine's cores or on `--sshloginfile` hosts
 *   k8s-job.yaml    a Kubernetes Indexed Job (task i = $JOB_COMPLETION_INDEX), the results folder a volume
 *   README.txt      how to submit each, how to resubmit what is missing, how to aggregate
 *   protocol.json   the protocol, which `gradlab run-job` reads to check each job against it
 *   logs/           where the scripts send each task's output
 *
 * Every path in these files is absolute, so a node that mounts the results folder (and the data) at
 * the same path runs the same command. How a node runs gradlab is one marked variable at the top of
 * each script (this clone's command by default, `gradlab` when it is installed).
 *
 * Exit codes (`gradlab run-job`): 0 finished, 3 diverged and recorded (a result: the table says
 * "exploding"), 1 an error. The scripts turn 3 into 0, so a scheduler retries only real failures.
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { makeFolder, writeFileAtomic, writeJsonAtomic } from '../../node/files.js';
import { formatSeconds } from '../../util/format.js';
import { deviations, type Protocol } from './protocol.js';
import { trainArgs, type Job } from './jobs.js';

export const JOBS_FILE = 'jobs.jsonl';
export const EMITTED_FILES = [JOBS_FILE, 'slurm.sbatch', 'parallel.sh', 'k8s-job.yaml', 'README.txt', 'protocol.json'] as const;

/** One line of jobs.jsonl. */
export interface JobLine {
  index: number;
  id: string;
  /** `gradlab train` arguments (without --resume: `run-job` adds it when the job has a checkpoint). */
  argv: string[];
  /** The job's folder (absolute). */
  out: string;
}

export interface EmitOptions {
  /** The command that runs gradlab on a node, as argv words (e.g. ['gradlab'] or [node, tsx loader, main.ts]). */
  gradlab: readonly string[];
  /** The `gradlab reproduce` arguments that describe the protocol (for README.txt's aggregation line). */
  reproduceArgs: readonly string[];
  /** Cores per job (Slurm --cpus-per-task, GRADLAB_THREADS). */
  cpusPerJob: number;
  /** Memory per job in MiB. */
  memPerJobMiB: number;
  /** Wall-time limit per job in seconds (from the dry run's estimate, with a margin). */
  timeLimitSeconds: number;
  /** At most this many tasks at once (Slurm's %K, GNU parallel's --jobs, Kubernetes' parallelism). */
  throttle: number;
  /** How the time limit was chosen, for the comments. */
  timeNote: string;
}

export function jobLines(jobs: readonly Job[]): JobLine[] {
  return jobs.map((job, index) => ({ index, id: job.id, argv: trainArgs(job, false), out: job.config.outDir }));
}

/** A word for a POSIX shell, in single quotes where it needs them. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Slurm's time format: D-HH:MM:SS. */
export function slurmTime(seconds: number): string {
  const s = Math.max(60, Math.ceil(seconds));
  const d = Math.floor(s / 86400);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d}-${two(Math.floor((s % 86400) / 3600))}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
}

/** Indices as Slurm's --array list, ranges compressed: [0, 1, 2, 5, 7, 8] → "0-2,5,7-8". */
export function arrayList(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The emitted files' contents by name (jobs.jsonl … README.txt; protocol.json apart). */
export function emittedFiles(p: Protocol, jobs: readonly Job[], o: EmitOptions): Record<string, string> {
  const n = jobs.length;
  if (n === 0) throw new Error('reproduce: --emit: the protocol has no jobs');
  const out = p.out;
  const logs = join(out, 'logs');
  const jobsFile = join(out, JOBS_FILE);
  const name = `gradlab-${p.table}`;
  const gradlabArray = `GRADLAB=(${o.gradlab.map(shellQuote).join(' ')})`;
  const gradlabLine = o.gradlab.map(shellQuote).join(' ');
  const reproduceLine = `${gradlabLine} reproduce ${o.reproduceArgs.map(shellQuote).join(' ')} --report-only`;
  const throttle = Math.max(1, Math.min(o.throttle, n));
  const lines = jobLines(jobs).map((l) => JSON.stringify(l)).join('\n') + '\n';
  const editGradlab = [
    '# ── EDIT: how a compute node runs gradlab. This clone\'s command as written here; with gradlab',
    '#    installed (npm install -g gradlab) it is simply: GRADLAB=(gradlab)',
    gradlabArray,
  ];

  const sbatch = [
    '#!/bin/bash',
    `# gradlab reproduce ${p.table}: ${n} training jobs as one Slurm job array (written by \`gradlab reproduce … --emit\`).`,
    '#',
    `#   submit      sbatch ${join(out, 'slurm.sbatch')}`,
    `#   resubmit    sbatch --array=3,7 ${join(out, 'slurm.sbatch')}    (the list \`--report-only\` prints)`,
    `#   aggregate   ${reproduceLine}`,
    '#',
    '# EDIT for your cluster: add --partition and --account below; check --time, --mem and',
    '# --cpus-per-task; load what your site needs to run Node 20 (module load …); GRADLAB below.',
    `# --time is ${o.timeNote}.`,
    '# A finished job is skipped and an interrupted one resumes from its checkpoint, so resubmitting',
    '# an index is always safe; a job running elsewhere is refused (its folder\'s lock file).',
    `#SBATCH --job-name=${name}`,
    `#SBATCH --array=0-${n - 1}%${throttle}`,
    '#SBATCH --ntasks=1',
    `#SBATCH --cpus-per-task=${o.cpusPerJob}`,
    `#SBATCH --mem=${o.memPerJobMiB}M`,
    `#SBATCH --time=${slurmTime(o.timeLimitSeconds)}`,
    `#SBATCH --output=${join(logs, 'slurm-%A_%a.out')}`,
    '##SBATCH --partition=YOUR_PARTITION',
    '##SBATCH --account=YOUR_ACCOUNT',
    '',
    '# module load nodejs/20        # EDIT: what your site needs for `node` ≥ 20',
    '',
    ...editGradlab,
    `JOBS=${shellQuote(jobsFile)}`,
    '',
    '# The job\'s training threads: the cores Slurm gave the task.',
    'export GRADLAB_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
    'echo "gradlab: task ${SLURM_ARRAY_TASK_ID} of job ${SLURM_ARRAY_JOB_ID:-?} on $(hostname)"',
    '"${GRADLAB[@]}" run-job "$JOBS" "$SLURM_ARRAY_TASK_ID"',
    'status=$?',
    '# 3: the run diverged and its result is recorded (the table says "exploding"): a finished task.',
    'if [ "$status" -eq 3 ]; then exit 0; fi',
    'exit "$status"',
    '',
  ].join('\n');

  const parallel = [
    '#!/usr/bin/env bash',
    `# gradlab reproduce ${p.table}: ${n} training jobs for GNU parallel (written by \`gradlab reproduce … --emit\`).`,
    '#',
    `#   run all      ${join(out, 'parallel.sh')}`,
    `#   some         INDICES="3 7" ${join(out, 'parallel.sh')}`,
    `#   other hosts  ${join(out, 'parallel.sh')} --sshloginfile hosts.txt    (each host sees the results folder,`,
    '#                the data and gradlab at the same paths; extra arguments go to parallel)',
    `#   aggregate    ${reproduceLine}`,
    '#',
    `# JOBS_AT_ONCE (default ${throttle}) jobs at a time, each with GRADLAB_THREADS=${o.cpusPerJob} threads. Task i's`,
    `# output goes to ${join(logs, 'job-<i>.out')}, and parallel's own record of every task to ${join(logs, 'parallel.joblog')}.`,
    'set -u',
    '',
    ...editGradlab,
    `JOBS=${shellQuote(jobsFile)}`,
    `LOGS=${shellQuote(logs)}`,
    `N=${n}`,
    `JOBS_AT_ONCE="\${JOBS_AT_ONCE:-${throttle}}"`,
    '',
    'mkdir -p "$LOGS"',
    'INDICES="${INDICES:-$(seq 0 $((N - 1)))}"',
    '# One command per index; 3 (diverged and recorded) counts as done.',
    `CMD="GRADLAB_THREADS=${o.cpusPerJob} $(printf '%q ' "\${GRADLAB[@]}")run-job $(printf '%q' "$JOBS") {} > $(printf '%q' "$LOGS")/job-{}.out 2>&1; s=\\$?; if [ \\$s -eq 3 ]; then s=0; fi; exit \\$s"`,
    'printf \'%s\\n\' $INDICES | parallel --will-cite --jobs "$JOBS_AT_ONCE" --joblog "$LOGS/parallel.joblog" "$@" "$CMD"',
    '',
  ].join('\n');

  const mountNote = p.dataDir || p.trainFiles || p.testFiles ? '  and the data at the paths jobs.jsonl names' : '';
  const yaml = [
    `# gradlab reproduce ${p.table}: ${n} training jobs as a Kubernetes Indexed Job (written by \`gradlab reproduce … --emit\`).`,
    '#',
    `#   submit      kubectl apply -f ${join(out, 'k8s-job.yaml')}`,
    '#   resubmit    kubectl delete job ' + name + ' && kubectl apply -f k8s-job.yaml   (finished jobs are skipped in seconds)',
    `#   aggregate   ${reproduceLine}`,
    '#',
    '# EDIT: the image (one with Node 20 and gradlab), the command\'s gradlab, the claim of a ReadWriteMany',
    `# volume holding the results folder (mounted at ${out}, the path jobs.jsonl names)${mountNote},`,
    `# and the resources. activeDeadlineSeconds is ${o.timeNote}.`,
    'apiVersion: batch/v1',
    'kind: Job',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  completionMode: Indexed',
    `  completions: ${n}`,
    `  parallelism: ${throttle}`,
    `  backoffLimit: ${Math.max(6, 2 * n)}`,
    '  template:',
    '    spec:',
    '      restartPolicy: Never',
    `      activeDeadlineSeconds: ${Math.ceil(o.timeLimitSeconds)}`,
    '      containers:',
    '        - name: gradlab',
    '          image: node:20-bookworm          # EDIT: an image with gradlab installed (or your clone)',
    '          command: ["bash", "-c"]',
    '          args:',
    '            - |',
    `              ${gradlabArray}   # EDIT: how the container runs gradlab`,
    `              "\${GRADLAB[@]}" run-job ${shellQuote(jobsFile)} "$JOB_COMPLETION_INDEX"; s=$?`,
    '              if [ "$s" -eq 3 ]; then s=0; fi   # 3: diverged and recorded, a finished job',
    '              exit "$s"',
    '          env:',
    '            - name: GRADLAB_THREADS',
    `              value: "${o.cpusPerJob}"`,
    '          resources:',
    `            requests: { cpu: "${o.cpusPerJob}", memory: "${o.memPerJobMiB}Mi" }`,
    `            limits: { cpu: "${o.cpusPerJob}", memory: "${o.memPerJobMiB}Mi" }`,
    '          volumeMounts:',
    '            - name: results',
    `              mountPath: ${out}`,
    '      volumes:',
    '        - name: results',
    '          persistentVolumeClaim:',
    '            claimName: gradlab-results     # EDIT: a ReadWriteMany claim shared by every pod',
    '',
  ].join('\n');

  const devs = deviations(p);
  const readme = [
    `gradlab reproduce ${p.table}: ${n} training jobs, ready for a scheduler`,
    '',
    `Results folder: ${out}`,
    devs.length ? `Reduced protocol — not comparable to the paper: ${devs.join('; ')}.` : 'The paper\'s protocol.',
    `Per job: ${o.cpusPerJob} core(s), ${o.memPerJobMiB} MiB, at most ${formatSeconds(o.timeLimitSeconds)} (${o.timeNote}).`,
    '',
    'Each job is one `gradlab train` run in its own folder of the results folder; task i runs',
    `  gradlab run-job ${jobsFile} i`,
    'which skips a finished job, resumes an interrupted one from its checkpoint, refuses a job that',
    'another process is running (the lock file in its folder), and exits 0 (done), 3 (diverged, and',
    'recorded as "exploding") or 1 (error). Every file lands atomically in the job\'s own folder, so',
    'tasks on different nodes never write the same file. Every path is absolute: nodes must see the',
    'results folder (and the data) at the same paths. How a node runs gradlab is the GRADLAB line',
    'at the top of each script; edit it where gradlab lives elsewhere.',
    '',
    'Slurm',
    `  sbatch ${join(out, 'slurm.sbatch')}`,
    '  Edit first: --partition, --account, module loads; check --time, --mem, --cpus-per-task.',
    `  Logs: ${join(logs, 'slurm-<job>_<task>.out')}. Watch: squeue -u $USER.`,
    '',
    'GNU parallel',
    `  ${join(out, 'parallel.sh')}                          this machine, ${throttle} at a time (JOBS_AT_ONCE=…)`,
    `  ${join(out, 'parallel.sh')} --sshloginfile hosts.txt  several machines over ssh`,
    '',
    'Kubernetes',
    `  kubectl apply -f ${join(out, 'k8s-job.yaml')}`,
    '  Edit first: image, volume claim (ReadWriteMany), resources.',
    '',
    'Aggregate (any time; unfinished jobs are listed with their index):',
    `  ${reproduceLine}`,
    '',
    'Resubmit only what is missing: --report-only prints the indices, e.g.',
    `  sbatch --array=3,7 ${join(out, 'slurm.sbatch')}`,
    `  INDICES="3 7" ${join(out, 'parallel.sh')}`,
    '',
  ].join('\n');

  return { [JOBS_FILE]: lines, 'slurm.sbatch': sbatch, 'parallel.sh': parallel, 'k8s-job.yaml': yaml, 'README.txt': readme };
}

/** Writes the emitted files (atomically) and the logs folder; returns the paths written. */
export function writeEmitted(p: Protocol, jobs: readonly Job[], o: EmitOptions): string[] {
  const files = emittedFiles(p, jobs, o);
  makeFolder(join(p.out, 'logs'), `reproduce: cannot create the output folder ${join(p.out, 'logs')}`);
  const paths: string[] = [];
  writeJsonAtomic(join(p.out, 'protocol.json'), { ...p, deviations: deviations(p) });
  paths.push(join(p.out, 'protocol.json'));
  for (const [name, text] of Object.entries(files)) {
    const path = join(p.out, name);
    writeFileAtomic(path, text);
    if (name.endsWith('.sh') || name.endsWith('.sbatch')) chmodSync(path, 0o755);
    paths.push(path);
  }
  return paths;
}
