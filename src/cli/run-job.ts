/**
 * `gradlab run-job JOBS.jsonl INDEX`: one job of a list written by `gradlab reproduce … --emit`,
 * as a Slurm array task, a GNU parallel job or a Kubernetes Indexed Job pod runs it
 * (src/experiments/reproduce/run-job.ts).
 */
import { runJob } from '../experiments/reproduce/run-job.js';
import { parse, type Command } from './command.js';

const HELP = `usage: gradlab run-job JOBS.jsonl INDEX

Runs job INDEX (0-based) of a job list written by 'gradlab reproduce table1|table2 … --emit' — what
each task of the emitted slurm.sbatch, parallel.sh and k8s-job.yaml runs:

  - a finished job (summary.json) is skipped;
  - an interrupted job (a checkpoint, no summary) resumes from its checkpoint;
  - a job that another live process is running (the lock file in its folder) is refused;
  - otherwise 'gradlab train' runs with the job's arguments; its output goes to the job's
    train.log and to stdout (the scheduler's log), and run-job.json records the attempt.

With the protocol.json that --emit wrote beside the list, the job is checked against it first (a
folder holding a different setup is an error) and job.json is written for the report.

Exit status: 0 the job is finished; 3 the run diverged and its result is recorded (the report
says "exploding"; the emitted scripts count it as done); 1 an error (bad list or index, job held
by another process, training failed); 143 stopped by SIGTERM (scancel), 130 by Ctrl-C — the last
checkpoint stays, and running the same index again resumes.`;

export const command: Command = {
  name: 'run-job',
  help: HELP,
  async run(argv) {
    const args = parse(this, argv, {}, true);
    if (args === null) return 0;
    const [file, index, ...extra] = args.positionals;
    if (file === undefined || index === undefined || extra.length > 0) {
      console.error(`run-job: give the job list and one index; got ${args.positionals.length ? args.positionals.map((p) => `'${p}'`).join(' ') : 'nothing'}\n\n${HELP}`);
      return 2;
    }
    const n = Number(index);
    if (index.trim() === '' || !Number.isInteger(n) || n < 0) throw new Error(`run-job: INDEX must be an integer ≥ 0; got '${index}'`);
    return runJob(file, n);
  },
};
