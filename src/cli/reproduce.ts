/**
 * `gradlab reproduce table1|table2`: the paper's Table 1 or Table 2 protocol as independent training
 * jobs (src/experiments/reproduce/), run or resumed in child processes, then the paper-style
 * tables beside the paper's numbers, JSON/CSV and error-curve figures.
 */
import { join } from 'node:path';
import { writeJsonAtomic } from '../node/files.js';
import { formatSeconds, plural } from '../util/format.js';
import { DATASETS, type DatasetName } from '../experiments/train/index.js';
import { TABLE1_ROW_KEYS, TABLE2_DEPTHS, TABLE2_ROW_KEYS } from '../experiments/paper-tables.js';
import { existsSync } from 'node:fs';
import {
  arrayList, buildReport, describeProgress, deviations, estimate, gradlabEntry, jobList, jobProgress, jobState, markdownTable, resolveProtocol, outcomeSummary, runJobs, TABLES, writeEmitted, writeReport,
  type Job, type ReproduceOptions,
} from '../experiments/reproduce/index.js';
import { GPU_MODES } from '../tensor/backends/gpu.js';
import { numberOption, parse, shortPath, type Command } from './command.js';

const HELP = `usage: gradlab reproduce table1|table2 [options]

table1  SmallNet on CIFAR-100: ReLU / ELU / FReLU, without and with BN, base lr 0.01 and 0.1
        (rows ${TABLE1_ROW_KEYS.join(', ')})
table2  ResNet-${TABLE2_DEPTHS.join('/')} on CIFAR-10 and CIFAR-100 (rows ${TABLE2_ROW_KEYS.join(', ')}:
        activation + block variant of the paper's Fig. 4; CIFAR-100 has the paper's rows relu-a, elu-c, frelu-b)

Each (data set, row, column, seed) is one 'gradlab train' job in its own folder of --out; a rerun
skips finished jobs and resumes interrupted ones from their checkpoints. Defaults are the paper's
protocol (5 seeds, 164 epochs, lr ×0.1 at epochs 81 and 122, all 50 000 / 10 000 images); every
option below that shrinks it is stated in the report, which then reads "reduced protocol — not
comparable to the paper".

  --out DIR            results directory (default results/table1 or results/table2)
  --epochs N           epochs per run (default 164; the authors' scripts ran 200)
  --milestones E,…     epochs at whose start lr ×0.1 ('none': constant); default 81,122, or for
                       fewer than 164 epochs the same fractions of the run (e.g. 10 epochs: 6,8)
  --seeds N | S,S,…    N seeds (1 … N), or the seeds themselves (default 5)
  --rows K,…           a subset of the rows (default: the paper's rows)
  --lrs X,…            table1: base learning rates (default 0.01,0.1)
  --depths D,…         table2: depths (default ${TABLE2_DEPTHS.join(',')})
  --dataset D,…        ${DATASETS.join(' | ')} (default cifar100 for table1, cifar10,cifar100 for
                       table2); synthetic: gradlab's generated 10-class set, for trying things out
  --dataset-dir DIR    data directory with the official layout (default $GRADLAB_DATA or ./data;
                       --data is the same)
  --train-files F,…    explicit training files in the binary record format (one data set only)
  --test-files F,…     explicit test files
  --limit-train N      only the first N training images of each run
  --limit-test N       only the first N test images
  --frelu-b-grad-scale X
                       post-paper (authors' later code): FReLU b's gradient × X (default 1 = the
                       paper); the report's title and protocol say so
  --frelu-b-nonpositive
                       post-paper (authors' later code): a FReLU b that turns positive in a step
                       returns to its previous value (default off = the paper)
  --backend B          reference | gpu (default gpu)
  --gpu-mode M         auto | ${GPU_MODES.join(' | ')} (default auto)
  --jobs N             training processes at once (default 1); each process uses one core (or the GL device)
  --dry-run            list the jobs and estimate the time from measured training steps (two
                       one-batch epochs of each distinct network on --backend); runs nothing
  --report-only        aggregate what the results directory holds; runs nothing. Lists every
                       unfinished job with its index (not started / running / interrupted /
                       failed) and the --array= list of those to resubmit
  --emit               write the jobs for a cluster's scheduler into --out and run nothing:
                       jobs.jsonl (one job per line), slurm.sbatch (a Slurm job array),
                       parallel.sh (GNU parallel), k8s-job.yaml (a Kubernetes Indexed Job),
                       README.txt (how to submit, resubmit and aggregate); each task runs
                       'gradlab run-job jobs.jsonl INDEX'. The time limit per job comes from the
                       dry run's estimate (2×, at least 10 minutes) unless --time-per-job is given
  --cpus-per-job N     --emit: cores per job (default 2; GRADLAB_THREADS in each task)
  --mem-per-job MIB    --emit: memory per job in MiB (default 4096)
  --time-per-job MIN   --emit: wall-time limit per job in minutes (default: from the estimate)
  --throttle K         --emit: at most K jobs at once (Slurm's %K; default: all)

Writes to --out: report.md (the tables in the paper's layout — best epoch, then final epoch — with
the paper's values beside them, the protocol, every run), results.json, results.csv (per cell),
runs.csv (per run), figure-*.svg (training and test error per epoch, mean over seeds, band min–max),
protocol.json. Errors are in %. Exit status 0 when every job finished (a diverged run counts as
finished: it is reported as "exploding"), 1 when a job failed or on a bad option.`;

export const command: Command = {
  name: 'reproduce',
  help: HELP,
  async run(argv) {
    const args = parse(
      this,
      argv,
      {
        out: { type: 'string' },
        epochs: { type: 'string' },
        milestones: { type: 'string' },
        seeds: { type: 'string' },
        rows: { type: 'string' },
        lrs: { type: 'string' },
        depths: { type: 'string' },
        dataset: { type: 'string' },
        'dataset-dir': { type: 'string' },
        data: { type: 'string' },
        'train-files': { type: 'string', multiple: true },
        'test-files': { type: 'string', multiple: true },
        'limit-train': { type: 'string' },
        'limit-test': { type: 'string' },
        'frelu-b-grad-scale': { type: 'string' },
        'frelu-b-nonpositive': { type: 'boolean' },
        backend: { type: 'string' },
        'gpu-mode': { type: 'string' },
        jobs: { type: 'string' },
        'dry-run': { type: 'boolean' },
        'report-only': { type: 'boolean' },
        emit: { type: 'boolean' },
        'cpus-per-job': { type: 'string' },
        'mem-per-job': { type: 'string' },
        'time-per-job': { type: 'string' },
        throttle: { type: 'string' },
      },
      true,
    );
    if (args === null) return 0;
    const { values: v, positionals } = args;
    const table = positionals[0];
    if (positionals.length !== 1 || !TABLES.some((t) => t === table)) {
      console.error(`reproduce: name one table: ${TABLES.join(' or ')}; got ${positionals.length ? positionals.map((p) => `'${p}'`).join(' ') : 'none'}\n\n${HELP}`);
      return 2;
    }
    if (v['dataset-dir'] !== undefined && v.data !== undefined) throw new Error('reproduce: --dataset-dir and --data are the same option; give one');
    if (v['dry-run'] && v['report-only']) throw new Error('reproduce: --dry-run and --report-only contradict each other; give one');
    if (v.emit && (v['dry-run'] || v['report-only'])) throw new Error(`reproduce: --emit writes the job files and runs nothing; it does not go with --${v['dry-run'] ? 'dry-run' : 'report-only'}`);
    for (const name of ['cpus-per-job', 'mem-per-job', 'time-per-job', 'throttle'] as const) {
      if (v[name] !== undefined && !v.emit) throw new Error(`reproduce: --${name} is an option of --emit`);
    }

    const integer = (name: string, value: string | undefined, min: number) =>
      value === undefined ? undefined : numberOption('reproduce', name, value, 0, (n) => Number.isInteger(n) && n >= min, `an integer ≥ ${min}`);
    const list = (name: string, value: string | undefined, check: (s: string) => boolean, what: string): string[] | undefined => {
      if (value === undefined) return undefined;
      const parts = value.split(',').map((s) => s.trim());
      if (parts.some((s) => s === '' || !check(s))) throw new Error(`reproduce: --${name} must be ${what} separated by commas; got '${value}'`);
      return parts;
    };
    const numbers = (name: string, value: string | undefined, what: string) => list(name, value, (s) => Number.isFinite(Number(s)), what)?.map(Number);
    const fileList = (values: string[] | undefined) => values?.flatMap((s) => s.split(',')).filter((s) => s !== '');

    let seeds: number | number[] | undefined;
    if (v.seeds !== undefined) {
      seeds = v.seeds.includes(',') ? numbers('seeds', v.seeds, 'integers') : integer('seeds', v.seeds, 1);
    }
    const options: ReproduceOptions = {
      table: table as ReproduceOptions['table'],
      out: v.out,
      epochs: integer('epochs', v.epochs, 1),
      milestones: v.milestones === undefined ? undefined : v.milestones.trim() === 'none' ? [] : numbers('milestones', v.milestones, '1-based epochs'),
      seeds,
      rows: list('rows', v.rows, () => true, 'row keys'),
      lrs: numbers('lrs', v.lrs, 'numbers'),
      depths: numbers('depths', v.depths, 'integers'),
      datasets: list('dataset', v.dataset, (s) => DATASETS.some((d) => d === s), DATASETS.join(' | ')) as DatasetName[] | undefined,
      dataDir: v['dataset-dir'] ?? v.data,
      trainFiles: fileList(v['train-files']),
      testFiles: fileList(v['test-files']),
      limitTrain: integer('limit-train', v['limit-train'], 1),
      limitTest: integer('limit-test', v['limit-test'], 1),
      backend: v.backend as ReproduceOptions['backend'],
      gpuMode: v['gpu-mode'] as ReproduceOptions['gpuMode'],
      freluBGradScale: v['frelu-b-grad-scale'] === undefined ? undefined : numberOption('reproduce', 'frelu-b-grad-scale', v['frelu-b-grad-scale'], 0, (n) => Number.isFinite(n) && n >= 0, 'a finite number ≥ 0'),
      freluBKeepNonPositive: v['frelu-b-nonpositive'],
    };
    for (const key of Object.keys(options) as (keyof ReproduceOptions)[]) if (options[key] === undefined) delete options[key];
    const parallel = integer('jobs', v.jobs, 1) ?? 1;

    const protocol = resolveProtocol(options);
    const jobs = jobList(protocol);
    const states = jobs.map((j) => jobState(j));
    const count = (k: string) => states.filter((s) => s.kind === k).length;
    const rows = new Set(jobs.map((j) => `${j.dataset}|${j.row}`)).size;
    console.log(
      `reproduce ${protocol.table}: ${plural(jobs.length, 'job')} (${plural(rows, 'row')} × ${plural(protocol.columns.length, protocol.table === 'table1' ? 'learning rate' : 'depth')} × ${plural(protocol.seeds.length, 'seed')}) ` +
        `in ${shortPath(protocol.out)}: ${count('done')} finished, ${count('resume')} to resume, ${count('new')} new; backend ${protocol.backend}`,
    );
    const devs = deviations(protocol);
    if (devs.length > 0) console.log(`reduced protocol — not comparable to the paper: ${devs.join('; ')}`);

    if (v['dry-run']) {
      const est = await estimate(jobs, parallel, (line) => console.log(line));
      console.log('');
      for (const j of est.jobs) console.log(`  ${j.id.padEnd(52)} ${j.state.padEnd(6)} ${plural(j.epochsLeft, 'epoch').padStart(10)} left  ~${formatSeconds(j.seconds)}`);
      console.log(
        `\nestimate: ${formatSeconds(est.totalSeconds)} of training in all; ~${formatSeconds(est.wallSeconds)} with --jobs ${parallel} ` +
          '(if each process gets a core or device of its own; child start-up and data loading not included)',
      );
      return 0;
    }

    if (v.emit) {
      const cpusPerJob = integer('cpus-per-job', v['cpus-per-job'], 1) ?? 2;
      const memPerJobMiB = integer('mem-per-job', v['mem-per-job'], 1) ?? 4096;
      const throttle = integer('throttle', v.throttle, 1) ?? jobs.length;
      let timeLimitSeconds: number;
      let timeNote: string;
      if (v['time-per-job'] !== undefined) {
        timeLimitSeconds = 60 * numberOption('reproduce', 'time-per-job', v['time-per-job'], 0, (n) => Number.isFinite(n) && n > 0, 'a number of minutes > 0');
        timeNote = 'as given (--time-per-job)';
      } else {
        const est = await estimate(jobs, 1, (line) => console.log(line));
        const longest = Math.max(0, ...est.jobs.map((j) => j.seconds));
        timeLimitSeconds = Math.max(600, 2 * longest);
        timeNote = `2 × the dry run's estimate of the longest job (${formatSeconds(longest)}; measured on this machine with --backend ${protocol.backend}), at least 10 minutes`;
      }
      const reproduceArgs = protocolArgs(argv);
      const paths = writeEmitted(protocol, jobs, {
        gradlab: [process.execPath, ...gradlabEntry()],
        reproduceArgs: [...reproduceArgs, '--out', protocol.out],
        cpusPerJob,
        memPerJobMiB,
        timeLimitSeconds,
        throttle,
        timeNote,
      });
      console.log(`\nwrote ${paths.map(shortPath).join(', ')}`);
      console.log(`submit: sbatch ${join(protocol.out, 'slurm.sbatch')}   (or parallel.sh, k8s-job.yaml; see ${join(protocol.out, 'README.txt')})`);
      return 0;
    }

    const started = performance.now();
    let failed = 0;
    if (!v['report-only']) {
      writeJsonAtomic(join(protocol.out, 'protocol.json'), { ...protocol, deviations: devs });
      const outcomes = await runJobs(jobs, { parallel, log: (line) => console.log(line) });
      const summary = outcomeSummary(outcomes);
      failed = summary.failed;
      console.log(`${summary.line}; ${formatSeconds((performance.now() - started) / 1000)}`);
    }
    const report = buildReport(protocol, jobs);
    const paths = writeReport(report);
    for (const dataset of protocol.datasets) console.log(`\nbest epoch, ${dataset} (error %, mean (std) over seeds; paper beside):\n${markdownTable(report, 'best', dataset)}`);
    console.log(`\nwrote ${paths.map(shortPath).join(', ')}`);
    if (v['report-only']) printUnfinished(protocol.out, jobs);
    return failed > 0 ? 1 : 0;
  },
};

/** --emit's own options: not part of the protocol, so left out of the aggregation command line. */
const EMIT_ONLY = new Set(['--emit', '--dry-run', '--report-only']);
const EMIT_VALUED = new Set(['--cpus-per-job', '--mem-per-job', '--time-per-job', '--throttle', '--jobs']);

/** The arguments that describe the protocol: argv without --emit's options and --out (given again, absolute). */
function protocolArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].split('=')[0];
    if (EMIT_ONLY.has(name)) continue;
    if (EMIT_VALUED.has(name) || name === '--out') {
      if (!argv[i].includes('=')) i++; // and its value
      continue;
    }
    out.push(argv[i]);
  }
  return out;
}

/**
 * Every unfinished job with its index in jobs.jsonl (jobList's order), and the --array= list of
 * those to resubmit (all but the running ones).
 */
function printUnfinished(out: string, jobs: readonly Job[]): void {
  const states = jobs.map((j, index) => ({ index, id: j.id, progress: jobProgress(j.config.outDir) }));
  const open = states.filter((s) => s.progress.kind !== 'done');
  if (open.length === 0) {
    console.log(`\nall ${jobs.length} jobs finished`);
    return;
  }
  console.log(`\n${open.length} of ${jobs.length} jobs unfinished (index in jobs.jsonl):`);
  for (const s of open) console.log(`  [${s.index}] ${s.id}: ${describeProgress(s.progress)}`);
  const resubmit = open.filter((s) => s.progress.kind !== 'running').map((s) => s.index);
  if (resubmit.length === 0) return;
  const list = arrayList(resubmit);
  console.log(`missing: --array=${list}`);
  const sbatch = join(out, 'slurm.sbatch');
  if (existsSync(sbatch)) console.log(`resubmit: sbatch --array=${list} ${sbatch}   or   INDICES="${resubmit.join(' ')}" ${join(out, 'parallel.sh')}`);
}
