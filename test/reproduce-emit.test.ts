/**
 * `gradlab reproduce … --emit`, `gradlab run-job` and `gradlab export` without a cluster: what the
 * emitted files say (jobs.jsonl in jobList's order, the Slurm array with its throttle and
 * resources, GNU parallel, the Kubernetes Indexed Job, the README), run-job's exit codes (0 done,
 * 3 diverged and recorded, 1 refused or failed) and its skip/refuse rules, --report-only's list of
 * unfinished jobs with their indices, and the weights a run leaves for PyTorch (model.safetensors,
 * export of a checkpoint, old BN key names).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as g from '../src/index.js';
import { arrayList, jobList, readJobLines, resolveProtocol, runJob, slurmTime, trainArgs, type RunJobRecord } from '../src/experiments/reproduce/index.js';
import { decodeCheckpoint, encodeCheckpoint, readTrainCheckpoint, train, type CheckpointValue, type TrainSummary } from '../src/experiments/train/index.js';
import { command as reproduce } from '../src/cli/reproduce.js';
import { command as exportCommand } from '../src/cli/export.js';
import { loadSafetensors, readSafetensorsFile } from '../src/node/safetensors.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'gradlab-emit-'));
  dirs.push(d);
  return d;
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TINY = ['table1', '--dataset', 'synthetic', '--epochs', '1', '--limit-train', '4', '--limit-test', '4', '--rows', 'relu,bn-frelu', '--lrs', '0.01', '--seeds', '2', '--backend', 'reference'];
const EMIT = ['--emit', '--cpus-per-job', '3', '--mem-per-job', '2048', '--time-per-job', '90', '--throttle', '2'];

/** Runs a command quietly; returns its exit code and what it printed. */
async function quiet(run: () => Promise<number>): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.map(String).join(' '));
  try {
    return { code: await run(), output: lines.join('\n') };
  } finally {
    console.log = log;
  }
}

/** Asserts that `p` rejects with a message matching `pattern`. */
async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.match(e instanceof Error ? e.message : String(e), pattern);
    return;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
}

test('--emit writes jobs.jsonl in jobList order and the Slurm, GNU parallel and Kubernetes files, and runs nothing', async () => {
  const out = tempDir();
  const { code, output } = await quiet(() => reproduce.run([...TINY, '--out', out, ...EMIT]));
  assert.is(code, 0);
  assert.match(output, /submit: sbatch /);
  const jobs = jobList(resolveProtocol({ table: 'table1', out, datasets: ['synthetic'], epochs: 1, limitTrain: 4, limitTest: 4, rows: ['relu', 'bn-frelu'], lrs: [0.01], seeds: 2, backend: 'reference' }));
  const lines = readJobLines(join(out, 'jobs.jsonl'));
  assert.equal(lines, jobs.map((j, index) => ({ index, id: j.id, argv: trainArgs(j, false), out: j.config.outDir })));
  for (const j of jobs) assert.not.ok(existsSync(j.config.outDir), 'nothing ran');
  // Stable: emitting again gives the same list.
  const first = readFileSync(join(out, 'jobs.jsonl'), 'utf8');
  await quiet(() => reproduce.run([...TINY, '--out', out, ...EMIT]));
  assert.is(readFileSync(join(out, 'jobs.jsonl'), 'utf8'), first);

  const sbatch = readFileSync(join(out, 'slurm.sbatch'), 'utf8');
  for (const line of ['#SBATCH --array=0-3%2', '#SBATCH --cpus-per-task=3', '#SBATCH --mem=2048M', '#SBATCH --time=0-01:30:00', `#SBATCH --output=${join(out, 'logs', 'slurm-%A_%a.out')}`, '##SBATCH --partition=YOUR_PARTITION', '##SBATCH --account=YOUR_ACCOUNT']) {
    assert.ok(sbatch.split('\n').includes(line), `slurm.sbatch has '${line}'`);
  }
  assert.match(sbatch, /^GRADLAB=\(.*node.* .*src\/cli\/main\.ts\)$/m);
  assert.match(sbatch, /"\$\{GRADLAB\[@\]\}" run-job "\$JOBS" "\$SLURM_ARRAY_TASK_ID"/);
  assert.match(sbatch, /module load/);
  const sbatchHead = sbatch.split('\n').findIndex((l) => !l.startsWith('#') && l.trim() !== '');
  assert.ok(sbatch.split('\n').slice(sbatchHead).every((l) => !l.startsWith('#SBATCH')), 'every #SBATCH line comes before the first command');

  const parallel = readFileSync(join(out, 'parallel.sh'), 'utf8');
  assert.match(parallel, /parallel --will-cite --jobs "\$JOBS_AT_ONCE" --joblog "\$LOGS\/parallel\.joblog" "\$@" "\$CMD"/);
  assert.match(parallel, /--sshloginfile hosts\.txt/);
  assert.match(parallel, /^N=4$/m);

  const yaml = readFileSync(join(out, 'k8s-job.yaml'), 'utf8');
  for (const s of ['completionMode: Indexed', 'completions: 4', 'parallelism: 2', '"$JOB_COMPLETION_INDEX"', `mountPath: ${out}`, 'activeDeadlineSeconds: 5400', 'memory: "2048Mi"', 'restartPolicy: Never']) {
    assert.ok(yaml.includes(s), `k8s-job.yaml has '${s}'`);
  }
  // The scripts parse as bash, and the YAML as a Kubernetes Job (with typedoc's `yaml`, a dev dependency's dependency).
  for (const script of ['slurm.sbatch', 'parallel.sh']) {
    const r = spawnSync('bash', ['-n', join(out, script)], { encoding: 'utf8' });
    assert.is(r.status, 0, `${script}: ${r.stderr}`);
  }
  const { parse } = await import('yaml');
  const job = parse(yaml) as { kind: string; spec: { completionMode: string; completions: number; template: { spec: { containers: { args: string[]; volumeMounts: { mountPath: string }[] }[] } } } };
  assert.is(job.kind, 'Job');
  assert.is(job.spec.completionMode, 'Indexed');
  assert.is(job.spec.completions, 4);
  const container = job.spec.template.spec.containers[0];
  assert.match(container.args[0], /run-job \S+jobs\.jsonl "\$JOB_COMPLETION_INDEX"/);
  assert.is(container.volumeMounts[0].mountPath, out);
  const readme = readFileSync(join(out, 'README.txt'), 'utf8');
  assert.match(readme, /sbatch .*slurm\.sbatch/);
  assert.match(readme, /kubectl apply -f/);
  assert.match(readme, / reproduce table1 --dataset synthetic .* --out \S+ --report-only/);
  assert.not.match(readme, /--emit|--throttle|--cpus-per-job/);
  assert.ok(existsSync(join(out, 'protocol.json')));
});

test('arrayList compresses indices for --array=; slurmTime writes D-HH:MM:SS', () => {
  assert.is(arrayList([7, 0, 1, 2, 5, 8]), '0-2,5,7-8');
  assert.is(arrayList([3]), '3');
  assert.is(slurmTime(90 * 60), '0-01:30:00');
  assert.is(slurmTime(26 * 3600 + 61), '1-02:01:01');
});

test('run-job: runs a job (exit 0), skips it when finished, refuses a job another process holds, and --report-only lists the rest by index', async () => {
  const out = tempDir();
  await quiet(() => reproduce.run([...TINY, '--out', out, ...EMIT]));
  const jobsFile = join(out, 'jobs.jsonl');
  const lines = readJobLines(jobsFile);
  const log: string[] = [];
  const code = await runJob(jobsFile, 0, { log: (l) => log.push(l), echo: false });
  assert.is(code, 0, log.join('\n'));
  const summary = JSON.parse(readFileSync(join(lines[0].out, 'summary.json'), 'utf8')) as TrainSummary;
  assert.is(summary.epochsCompleted, 1);
  const record = JSON.parse(readFileSync(join(lines[0].out, 'run-job.json'), 'utf8')) as RunJobRecord;
  assert.is(record.exitCode, 0);
  assert.is(record.index, 0);
  assert.ok(existsSync(join(lines[0].out, 'job.json')));
  assert.match(readFileSync(join(lines[0].out, 'train.log'), 'utf8'), /best test error/);
  assert.is(await runJob(jobsFile, 0, { log: (l) => log.push(l), echo: false }), 0);
  assert.match(log.at(-1) ?? '', /finished already/);

  // Job 2 is held by a live process (its lock file): refused, exit 1, nothing written there.
  mkdirSync(lines[2].out, { recursive: true });
  writeFileSync(join(lines[2].out, '.gradlab.lock'), `${process.ppid}\n`);
  assert.is(await runJob(jobsFile, 2, { log: (l) => log.push(l), echo: false }), 1);
  assert.match(log.at(-1) ?? '', new RegExp(`refused — process ${process.ppid} on .* is running this job`));
  assert.not.ok(existsSync(join(lines[2].out, 'run-job.json')));

  const { output } = await quiet(() => reproduce.run([...TINY, '--out', out, '--report-only']));
  assert.match(output, /3 of 4 jobs unfinished/);
  assert.match(output, new RegExp(`\\[1\\] ${lines[1].id}: not started`));
  assert.match(output, new RegExp(`\\[2\\] ${lines[2].id}: running \\(process ${process.ppid}`));
  assert.match(output, /missing: --array=1,3\n/);
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /runs: 1 of 4 finished/);
  rmSync(join(lines[2].out, '.gradlab.lock'));

  await rejects(runJob(jobsFile, 4, { echo: false }), /INDEX must be an integer from 0 to 3/);
  writeFileSync(join(out, 'bad.jsonl'), '{"index":0,"id":"x","argv":[],"out":"/tmp/x"}\nnot json\n');
  await rejects(runJob(join(out, 'bad.jsonl'), 0, { echo: false }), /bad\.jsonl line 2 is not JSON/);
});

test('run-job exits 3 for a run that diverged (lr 1e20: the loss stops being finite; recorded), also when asked again', async () => {
  const out = tempDir();
  const args = ['table1', '--dataset', 'synthetic', '--rows', 'relu', '--lrs', '1e20', '--seeds', '1', '--epochs', '1', '--limit-train', '4', '--limit-test', '4', '--backend', 'reference', '--out', out, '--emit', '--time-per-job', '5'];
  await quiet(() => reproduce.run(args));
  const jobsFile = join(out, 'jobs.jsonl');
  assert.is(await runJob(jobsFile, 0, { log: () => {}, echo: false }), 3);
  assert.is(await runJob(jobsFile, 0, { log: () => {}, echo: false }), 3);
});

test('gradlab train leaves model.safetensors; gradlab export converts a checkpoint; both load into the model with PyTorch names', async () => {
  const out = tempDir();
  await quiet(() => reproduce.run([...TINY, '--out', out, ...EMIT]));
  const line = readJobLines(join(out, 'jobs.jsonl'))[2]; // BN + FReLU
  assert.is(await runJob(join(out, 'jobs.jsonl'), 2, { log: () => {}, echo: false }), 0);
  const weights = readSafetensorsFile(join(line.out, 'model.safetensors'));
  assert.is(weights.metadata.format, 'pt');
  const names = Object.keys(weights.tensors);
  for (const k of ['features.0.weight', 'features.1.weight', 'features.1.bias', 'features.1.running_mean', 'features.1.running_var', 'features.2.b', 'classifier.0.weight', 'classifier.4.bias']) {
    assert.ok(names.includes(k), `model.safetensors has ${k}`);
  }
  assert.equal(weights.tensors['features.0.weight'].shape, [32, 3, 3, 3]);
  assert.equal(weights.tensors['classifier.0.weight'].shape, [512, 2048]);

  const exported = join(out, 'exported.safetensors');
  const { code } = await quiet(() => exportCommand.run([line.out, '--out', exported]));
  assert.is(code, 0);
  const ckpt = readTrainCheckpoint(join(line.out, 'checkpoint.gckpt'));
  const fromExport = readSafetensorsFile(exported).tensors;
  assert.equal(Object.keys(fromExport).sort(), names.sort());
  for (const [k, t] of Object.entries(weights.tensors)) assert.equal(Array.from(fromExport[k].data), Array.from(t.data), k);
  for (const [k, t] of Object.entries(ckpt.model)) assert.equal(Array.from(fromExport[k.replace('runningMean', 'running_mean').replace('runningVar', 'running_var')].data), Array.from(t.values), k);

  const net = g.models.smallNet({ activation: 'frelu', batchNorm: true, classes: 10, seed: 42, backend: 'reference' });
  net.loadStateDict(loadSafetensors(exported, { backend: 'reference' }));
  assert.equal(Array.from(net.stateDict()['features.2.b'].toArray()), Array.from(fromExport['features.2.b'].data));
  await rejects(exportCommand.run([join(out, 'nowhere'), '--out', exported]), /does not exist/);
});

test('old BN key names (runningMean, runningVar, no num_batches_tracked) still load: checkpoints from before the rename', () => {
  const ref = { backend: 'reference' as const };
  const a = g.models.smallNet({ activation: 'relu', batchNorm: true, classes: 10, seed: 1, ...ref });
  const b = g.models.smallNet({ activation: 'relu', batchNorm: true, classes: 10, seed: 2, ...ref });
  const old: Record<string, g.Tensor> = {};
  for (const [k, t] of Object.entries(a.stateDict())) {
    if (k.endsWith('num_batches_tracked') || k.endsWith('numBatchesTracked')) continue;
    old[k.replace(/running_mean$/, 'runningMean').replace(/running_var$/, 'runningVar')] = g.add(t, 0.5);
  }
  b.loadStateDict(old);
  const loaded = b.stateDict();
  for (const [k, t] of Object.entries(old)) {
    const current = k in loaded ? k : k.replace(/runningMean$/, 'running_mean').replace(/runningVar$/, 'running_var');
    assert.equal(Array.from(loaded[current].toArray()), Array.from(t.toArray()), k);
  }
  // A key that is neither name of a pair is still unexpected.
  assert.throws(() => b.loadStateDict({ ...old, 'features.1.runningMeen': g.zeros([32], ref) }), /unexpected key 'features\.1\.runningMeen'/);
});

test('a checkpoint written with the old BN names (runningMean, runningVar, no num_batches_tracked) resumes, and exports with PyTorch names', async () => {
  const out = tempDir();
  const base = { model: 'smallnet' as const, activation: 'frelu' as const, batchNorm: true, dataset: 'synthetic' as const, limitTrain: 4, limitTest: 4, backend: 'reference' as const, lr: 0.01, seed: 1, outDir: out };
  await train({ ...base, epochs: 1 });
  // Rewrite the checkpoint as gradlab wrote it before the rename.
  const path = join(out, 'checkpoint.gckpt');
  const value = decodeCheckpoint(readFileSync(path), path) as { model: Record<string, CheckpointValue> } & Record<string, CheckpointValue>;
  const model: Record<string, CheckpointValue> = {};
  for (const [k, v] of Object.entries(value.model)) {
    if (k.endsWith('num_batches_tracked')) continue;
    model[k.replace(/running_mean$/, 'runningMean').replace(/running_var$/, 'runningVar')] = v;
  }
  assert.ok(Object.keys(model).includes('features.1.runningMean'));
  writeFileSync(path, encodeCheckpoint({ ...value, model }));
  const exported = join(out, 'old.safetensors');
  assert.is((await quiet(() => exportCommand.run([path, '--out', exported]))).code, 0);
  const keys = Object.keys(readSafetensorsFile(exported).tensors);
  assert.ok(keys.includes('features.1.running_mean') && !keys.includes('features.1.runningMean'), keys.join(', '));
  const summary = await train({ ...base, epochs: 2, resume: true });
  assert.is(summary.epochsCompleted, 2);
});

test.run();
