/**
 * `gradlab reproduce … --emit` on real schedulers: a one-node Slurm on localhost (test/slurm-fixture.ts)
 * runs the emitted slurm.sbatch of a tiny Table 1 (synthetic data, 1 epoch, 256 training and 128
 * test images, 4 jobs); one task is cancelled mid-run with scancel; the aggregation (the README's
 * own command line) lists it as unfinished with its index and the --array= list; resubmitting that
 * index alone completes the report. Then the same jobs under GNU parallel (the emitted
 * parallel.sh). Without Slurm (no apt, not root) or GNU parallel, the part says so and is skipped.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command as reproduce } from '../src/cli/reproduce.js';
import { readJobLines } from '../src/experiments/reproduce/index.js';
import { startSlurm, type SlurmCluster } from './slurm-fixture.js';

const dirs: string[] = [];
let cluster: SlurmCluster | null = null;
test.after(() => {
  cluster?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TINY = ['table1', '--dataset', 'synthetic', '--epochs', '1', '--limit-train', '256', '--limit-test', '128', '--rows', 'relu,bn-frelu', '--lrs', '0.01', '--seeds', '2', '--backend', 'gpu'];
const EMIT = ['--emit', '--cpus-per-job', '1', '--mem-per-job', '1024', '--time-per-job', '10', '--throttle', '4'];

async function emit(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'gradlab-cluster-'));
  dirs.push(out);
  const quiet = console.log;
  console.log = () => {};
  try {
    assert.is(await reproduce.run([...TINY, '--out', out, ...EMIT]), 0);
  } finally {
    console.log = quiet;
  }
  return out;
}

/** The README's aggregation line, run through bash as a user would paste it. */
function aggregate(out: string, env?: NodeJS.ProcessEnv): { status: number | null; output: string } {
  const readme = readFileSync(join(out, 'README.txt'), 'utf8').split('\n');
  const line = readme[readme.findIndex((l) => l.startsWith('Aggregate')) + 1].trim();
  assert.match(line, / reproduce table1 .* --report-only$/);
  const r = spawnSync('bash', ['-c', line], { encoding: 'utf8', env: env ?? process.env, timeout: 120_000 });
  return { status: r.status, output: r.stdout + r.stderr };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('Slurm: the emitted job array runs all 4 jobs; a cancelled task is listed by index, resubmitted alone, and the report completes', async () => {
  const started = await startSlurm();
  if (typeof started === 'string') {
    console.log(`      skipped: no Slurm cluster can start here: ${started.split('\n')[0]}`);
    return;
  }
  cluster = started;
  const out = await emit();
  const lines = readJobLines(join(out, 'jobs.jsonl'));
  assert.is(lines.length, 4);
  const sbatch = readFileSync(join(out, 'slurm.sbatch'), 'utf8');
  assert.match(sbatch, /^#SBATCH --array=0-3%4$/m);

  // Submit; cancel task 1 as soon as its training has started (its folder's lock file appears).
  const t0 = performance.now();
  const submitted = cluster.run('sbatch', ['--parsable', join(out, 'slurm.sbatch')]);
  assert.is(submitted.status, 0, submitted.stderr);
  const jobId = submitted.stdout.trim().split(';')[0];
  const victim = lines[1];
  let cancelled = false;
  for (let i = 0; i < 600 && !cancelled; i++) {
    if (existsSync(join(victim.out, 'summary.json'))) break;
    if (existsSync(join(victim.out, '.gradlab.lock'))) {
      assert.is(cluster.run('scancel', [`${jobId}_1`]).status, 0);
      cancelled = true;
    } else await sleep(100);
  }
  assert.ok(cancelled, 'task 1 was cancelled while it ran');
  await cluster.waitFor(jobId, 150);
  const allDone = (performance.now() - t0) / 1000;
  const states = cluster.completions().map((c) => c.JobState).sort();
  assert.equal(states, ['CANCELLED', 'COMPLETED', 'COMPLETED', 'COMPLETED'], JSON.stringify(cluster.completions()));

  const t1 = performance.now();
  const partial = aggregate(out, cluster.env);
  const reportSeconds = (performance.now() - t1) / 1000;
  assert.is(partial.status, 0, partial.output);
  assert.match(partial.output, /1 of 4 jobs unfinished/);
  assert.match(partial.output, new RegExp(`\\[1\\] ${victim.id}: (failed|interrupted)`));
  assert.match(partial.output, /missing: --array=1\n/);
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /runs: 3 of 4 finished/);

  // Resubmit only the missing index.
  const t2 = performance.now();
  const again = cluster.run('sbatch', ['--parsable', '--array=1', join(out, 'slurm.sbatch')]);
  assert.is(again.status, 0, again.stderr);
  await cluster.waitFor(again.stdout.trim().split(';')[0], 120);
  const resubmitted = (performance.now() - t2) / 1000;
  const full = aggregate(out, cluster.env);
  assert.is(full.status, 0, full.output);
  assert.match(full.output, /all 4 jobs finished/);
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /runs: 4 of 4 finished/);
  const log = readFileSync(join(out, 'logs', `slurm-${again.stdout.trim().split(';')[0]}_1.out`), 'utf8');
  assert.match(log, /run-job 1 \(.*\): finished/);
  console.log(`      Slurm: submit → all 4 tasks ended (one cancelled) ${allDone.toFixed(1)} s; report ${reportSeconds.toFixed(1)} s; resubmit of index 1 → done ${resubmitted.toFixed(1)} s`);
});

test('GNU parallel: the emitted parallel.sh runs the same 4 jobs and the report has all 4', async () => {
  if (spawnSync('bash', ['-c', 'command -v parallel']).status !== 0) {
    console.log('      skipped: GNU parallel is not installed (Debian: apt-get install parallel; .ci/run does)');
    return;
  }
  const out = await emit();
  const t0 = performance.now();
  const r = spawnSync('bash', [join(out, 'parallel.sh')], { encoding: 'utf8', env: { ...process.env, JOBS_AT_ONCE: '2' }, timeout: 240_000 });
  const seconds = (performance.now() - t0) / 1000;
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}\n${readFileSync(join(out, 'logs', 'parallel.joblog'), 'utf8')}`);
  const joblog = readFileSync(join(out, 'logs', 'parallel.joblog'), 'utf8').trim().split('\n');
  assert.is(joblog.length, 5, 'a header and one line per job');
  assert.match(readFileSync(join(out, 'logs', 'job-3.out'), 'utf8'), /run-job 3 \(.*\): finished/);
  const report = aggregate(out);
  assert.match(report.output, /all 4 jobs finished/);
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /runs: 4 of 4 finished/);
  // Running it again skips every finished job.
  const rerun = spawnSync('bash', [join(out, 'parallel.sh')], { encoding: 'utf8', env: { ...process.env, JOBS_AT_ONCE: '2', INDICES: '0 2' }, timeout: 120_000 });
  assert.is(rerun.status, 0);
  assert.match(readFileSync(join(out, 'logs', 'job-2.out'), 'utf8'), /finished already/);
  console.log(`      GNU parallel: 4 jobs, 2 at a time, ${seconds.toFixed(1)} s`);
});

test.run();
