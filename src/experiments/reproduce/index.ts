/**
 * `gradlab reproduce table1|table2`: the paper's comparison as a list of independent training
 * jobs, run (or resumed) in child processes, then aggregated into tables laid out like the paper's
 * with the paper's numbers beside ours, and error-curve figures.
 *
 * Results directory (`out`):
 *
 *   protocol.json                 the resolved protocol of the last invocation
 *   <job id>/                     one per job, e.g. smallnet-frelu-bn-lr0.1-cifar100-seed3
 *     job.json                    the job and its full training config (written before it starts)
 *     train.log                   the child process's output, appended on every (re)start
 *     metrics.json, metrics.csv, checkpoint.gckpt, summary.json    written by `gradlab train`
 *   report.md                     the tables (best epoch, then final epoch), protocol, runs
 *   results.json, results.csv     per cell: mean (std) over seeds; runs.csv: per job
 *   figure-*.svg                  training and test error per epoch (cf. the paper's Fig. 3)
 *
 * Rerunning is safe: a job with summary.json is finished and skipped; a job with a checkpoint but
 * no summary was interrupted and continues from its last completed epoch (`gradlab train --resume`);
 * a job directory whose job.json describes a different setup stops the run with an error rather
 * than mixing two protocols in one table.
 *
 * The folder, in the order a run goes: protocol.ts (the options, the paper's defaults, deviations)
 * → jobs.ts (the job list, each job's state) → runner.ts (child processes) or estimate.ts (the dry
 * run's time estimate) or emit.ts (the list for a cluster's scheduler: jobs.jsonl, Slurm, GNU
 * parallel, Kubernetes) with run-job.ts (one job of that list; where each job stands) → aggregate.ts (the numbers: run status, mean and std per cell) →
 * report.ts (Markdown and CSV) and figures.ts (SVG).
 */
export { TABLES, PAPER_PROTOCOL, scaledMilestones, resolveProtocol, deviations, imagesOf, type TableName, type ReproduceOptions, type Protocol } from './protocol.js';
export { jobList, jobId, jobState, rowLabel, rowsOf, trainArgs, type Job, type JobState } from './jobs.js';
export { runJobs, gradlabEntry, launchTrain, outcomeSummary, type JobOutcome, type RunOptions } from './runner.js';
export { estimate, timeSteps, type Estimate, type StepTiming } from './estimate.js';
export {
  EXPLODE_FACTOR, NOT_CONVERGED_CLASSES, aggregate, buildReport, classesOf, classifyRun, readRunResult, runResult,
  type Cell, type EpochPoint, type Report, type RunResult, type RunStatus,
} from './aggregate.js';
export type { Stat } from '../../util/stats.js';
export { cellsCsv, formatCell, markdownReport, markdownTable, runsCsv, writeReport } from './report.js';
export { figures, type Figure } from './figures.js';
export { EMITTED_FILES, JOBS_FILE, arrayList, emittedFiles, jobLines, shellQuote, slurmTime, writeEmitted, type EmitOptions, type JobLine } from './emit.js';
export { RUN_JOB_FILE, describeProgress, jobProgress, lockHolder, readJobLines, readProtocol, runJob, type JobProgress, type RunJobOptions, type RunJobRecord } from './run-job.js';
