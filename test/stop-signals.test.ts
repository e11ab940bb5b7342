/**
 * A run stops when told (issue 15 §2), tested on the real CLI: `gradlab train` started as a child
 * process (which restarts itself with the malloc settings, so there are two processes), signalled
 * after its first epoch. SIGTERM and SIGINT to the visible parent reach the trainer, which stops
 * after the step in progress, says where, exits 143/130, and leaves the checkpoint of epoch 1
 * intact (no temporary files, no lock); --resume then continues. kill -9 of the parent does not
 * orphan the child: it notices and stops. A trainer killed with SIGKILL is named by the parent.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readTrainCheckpoint } from '../src/experiments/train/index.js';
import { LOCK_FILE } from '../src/node/files.js';

const root = mkdtempSync(join(tmpdir(), 'gradlab-stop-'));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SMALL = ['--dataset', 'synthetic', '--backend', 'reference', '--limit-train', '8', '--limit-test', '4', '--batch-size', '2', '--no-augment'];

/** The environment in which gradlab restarts itself with the malloc settings (none of them set yet). */
function restartingEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'GRADLAB_MALLOC', 'GRADLAB_PARENT_PID']) delete env[k];
  return env;
}

interface Run {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number>;
  /** Resolves when the output has matched `re`. */
  waitFor: (re: RegExp) => Promise<void>;
}

function start(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', tsx, 'src/cli/main.ts', 'train', ...args], { env: restartingEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const take = (chunk: Buffer): void => {
    text += chunk.toString();
    for (const w of waiters.splice(0)) (w.re.test(text) ? w.resolve() : waiters.push(w));
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const exit = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 0))));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  void exit.then(() => clearTimeout(timer));
  return {
    child,
    output: () => text,
    exit,
    waitFor: (re) => new Promise((resolve, reject) => {
      if (re.test(text)) return resolve();
      waiters.push({ re, resolve });
      void exit.then(() => (re.test(text) ? resolve() : reject(new Error(`the run ended before printing ${re}:\n${text}`))));
    }),
  };
}

/** The pid of the trainer: the child of the visible gradlab process. */
function trainerOf(parent: number): number {
  return Number(execFileSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' }).trim().split('\n')[0]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The folder holds epoch 1's checkpoint, readable, and no lock or temporary file. */
function intactAfterEpoch1(out: string): void {
  assert.is(readTrainCheckpoint(join(out, 'checkpoint.gckpt')).epoch, 1);
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.tmp') || f === LOCK_FILE), []);
}

const EPOCH1 = /epoch 1\/50 {2}lr/;

test('SIGTERM to gradlab train (the restarting parent): stops after the step, says where, exits 143, checkpoint intact; --resume continues', async () => {
  const out = join(root, 'term');
  const run = start([...SMALL, '--epochs', '50', '--out', out]);
  await run.waitFor(EPOCH1);
  run.child.kill('SIGTERM');
  assert.is(await run.exit, 143, run.output());
  assert.match(run.output(), /stopped at epoch 2 step \d+ \(SIGTERM\); the checkpoint holds epoch 1; --resume continues/);
  intactAfterEpoch1(out);
  const resumed = start([...SMALL, '--epochs', '2', '--out', out, '--resume']);
  assert.is(await resumed.exit, 0, resumed.output());
  assert.match(resumed.output(), /resumed .* after epoch 1/);
  assert.is(readTrainCheckpoint(join(out, 'checkpoint.gckpt')).epoch, 2);
});

for (const [signal, code] of [['SIGINT', 130], ['SIGHUP', 129]] as const) {
  test(`${signal} (${signal === 'SIGINT' ? 'Ctrl-C' : 'the terminal closed'}) to the parent: exit ${code} with the same message`, async () => {
    const out = join(root, signal);
    const run = start([...SMALL, '--epochs', '50', '--out', out]);
    await run.waitFor(EPOCH1);
    run.child.kill(signal);
    assert.is(await run.exit, code, run.output());
    assert.match(run.output(), new RegExp(`stopped at epoch 2 step \\d+ \\(${signal}\\); the checkpoint holds epoch 1; --resume continues`));
    intactAfterEpoch1(out);
  });
}

test('kill -9 of the parent: the trainer notices (its IPC channel closes), stops and leaves no lock', async () => {
  const out = join(root, 'orphan');
  const run = start([...SMALL, '--epochs', '50', '--out', out]);
  await run.waitFor(EPOCH1);
  const trainer = trainerOf(run.child.pid ?? 0);
  run.child.kill('SIGKILL');
  await run.exit;
  const t0 = Date.now();
  while (alive(trainer) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
  assert.not.ok(alive(trainer), 'the trainer still runs a minute after its parent was killed');
  intactAfterEpoch1(out);
});

test('a trainer killed with SIGKILL is named by the parent (exit 137), not a bare status', async () => {
  const out = join(root, 'killed');
  const run = start([...SMALL, '--epochs', '50', '--out', out]);
  await run.waitFor(/train smallnet/);
  process.kill(trainerOf(run.child.pid ?? 0), 'SIGKILL');
  assert.is(await run.exit, 137);
  assert.match(run.output(), /gradlab: the train process \(pid \d+\) was killed by SIGKILL \(out of memory, or kill -9\)/);
});

test("gradlab reproduce: kill -9 of its runner stops the training job too (the job's IPC channel closes)", async () => {
  const out = join(root, 'reproduce');
  const child = spawn(
    process.execPath,
    ['--import', tsx, 'src/cli/main.ts', 'reproduce', 'table1', '--rows', 'relu', '--lrs', '0.01', '--seeds', '1', '--dataset', 'synthetic', '--epochs', '50',
      '--limit-train', '8', '--limit-test', '4', '--backend', 'reference', '--out', out],
    { env: restartingEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout?.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (text += c.toString()));
  const exit = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  const log = (): string => {
    const job = readdirSync(out).find((d) => d.startsWith('smallnet-'));
    const path = job === undefined ? '' : join(out, job, 'train.log');
    return path !== '' && readdirSync(join(out, job ?? '')).includes('train.log') ? readFileSync(path, 'utf8') : '';
  };
  const t0 = Date.now();
  while (!/epoch 1\/50 {2}lr/.test(existsSync(out) ? log() : '') && Date.now() - t0 < 90_000) await new Promise((r) => setTimeout(r, 200));
  const runner = trainerOf(child.pid ?? 0);
  const job = trainerOf(runner);
  process.kill(runner, 'SIGKILL');
  assert.is(await exit, 137, text);
  assert.match(text, /the reproduce process \(pid \d+\) was killed by SIGKILL/);
  const t1 = Date.now();
  while (alive(job) && Date.now() - t1 < 60_000) await new Promise((r) => setTimeout(r, 100));
  assert.not.ok(alive(job), 'the training job still runs a minute after its runner was killed');
  assert.match(log(), /the parent process \d+ is gone; stopping as on SIGTERM/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
