/**
 * A one-node Slurm cluster on localhost for a test (see /work/shared/SLURM.md for what was checked
 * on this kind of machine): its own munged (own key, socket, pid file), slurmctld and slurmd, with
 * a slurm.conf and every state, spool, log and pid file in a temporary folder, on free ports.
 * `stop()` cancels what is still queued and stops exactly the three daemons it started, by the
 * pids in their pid files. Needs root (slurmd runs jobs as their user) and Debian's slurm-wlm and
 * munge; `startSlurm` returns the reason instead when it cannot start.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

const DAEMONS = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'sinfo'] as const;

export interface SlurmCluster {
  dir: string;
  /** The environment every Slurm command and job of this cluster needs (SLURM_CONF). */
  env: NodeJS.ProcessEnv;
  /** Runs a Slurm command (sbatch, squeue, …) against this cluster. */
  run(command: string, args: readonly string[]): SpawnSyncReturns<string>;
  /** Waits until none of `jobId`'s tasks is queued or running; returns the seconds waited. */
  waitFor(jobId: string, timeoutSeconds: number): Promise<number>;
  /** The completion records (jobcomp/filetxt) of finished tasks: JobId, JobState, ExitCode, … */
  completions(): Record<string, string>[];
  stop(): void;
}

function which(name: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the cluster, or returns why it cannot. */
export async function startSlurm(): Promise<SlurmCluster | string> {
  const missing = DAEMONS.filter((d) => !which(d));
  if (missing.length > 0) return `no ${missing.join(', ')} here (Debian: apt-get install slurm-wlm munge; .ci/run does)`;
  if (process.getuid?.() !== 0) return 'not root (slurmd and munged run as root in this test)';
  const dir = mkdtempSync(join(tmpdir(), 'gradlab-slurm-'));
  const started: string[] = [];
  const pidOf = (name: string): number | null => {
    const file = join(dir, `${name}.pid`);
    if (!existsSync(file)) return null;
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const conf = join(dir, 'slurm.conf');
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  const run = (command: string, args: readonly string[]) => spawnSync(command, [...args], { env, encoding: 'utf8', timeout: 30_000 });
  const stop = () => {
    if (existsSync(conf) && started.includes('slurmctld')) run('scancel', ['--user', 'root']);
    for (const name of ['slurmd', 'slurmctld', 'munged']) {
      const pid = started.includes(name) ? pidOf(name) : null;
      if (pid === null) continue;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      for (let i = 0; i < 50 && alive(pid); i++) spawnSync('sleep', ['0.1']);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const fail = (why: string): string => {
    const logs = ['munged.log', 'slurmctld.log', 'slurmd.log'].filter((f) => existsSync(join(dir, f))).map((f) => `--- ${f}\n${readFileSync(join(dir, f), 'utf8').split('\n').slice(-8).join('\n')}`);
    stop();
    return `${why}\n${logs.join('\n')}`;
  };

  // munge: a key and a socket of our own, so nothing else on the machine is touched.
  const key = join(dir, 'munge.key');
  const socket = join(dir, 'munge.sock');
  if (spawnSync('mungekey', ['--create', `--keyfile=${key}`]).status !== 0) return fail('mungekey could not create a key');
  const munged = spawnSync('munged', ['--force', `--socket=${socket}`, `--key-file=${key}`, `--log-file=${join(dir, 'munged.log')}`, `--pid-file=${join(dir, 'munged.pid')}`, `--seed-file=${join(dir, 'munged.seed')}`], { encoding: 'utf8' });
  if (munged.status !== 0) return fail(`munged did not start: ${munged.stderr.trim()}`);
  started.push('munged');

  const host = hostname().split('.')[0];
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  mkdirSync(join(dir, 'state'));
  mkdirSync(join(dir, 'spool'));
  writeFileSync(
    conf,
    [
      'ClusterName=gradlabtest',
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'JobAcctGatherType=jobacct_gather/none',
      'JobCompType=jobcomp/filetxt',
      `JobCompLoc=${join(dir, 'jobcomp.txt')}`,
      'MpiDefault=none',
      'ReturnToService=2',
      'KillWait=10',
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus().length} RealMemory=4000 State=UNKNOWN`,
      `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  for (const daemon of ['slurmctld', 'slurmd']) {
    const r = run(daemon, ['-f', conf]);
    if (r.status !== 0) return fail(`${daemon} did not start (exit ${r.status}): ${r.stderr.trim()}`);
    started.push(daemon);
  }
  let state = '';
  for (let i = 0; i < 100 && state !== 'idle'; i++) {
    await sleep(200);
    state = run('sinfo', ['-h', '-o', '%t']).stdout?.trim() ?? '';
  }
  if (state !== 'idle') return fail(`the node did not become idle within 20 s (sinfo: '${state}')`);

  return {
    dir,
    env,
    run,
    async waitFor(jobId, timeoutSeconds) {
      const t0 = performance.now();
      while ((performance.now() - t0) / 1000 < timeoutSeconds) {
        const q = run('squeue', ['-h', '-j', jobId]);
        if (q.status === 0 && q.stdout.trim() === '') return (performance.now() - t0) / 1000;
        await sleep(500);
      }
      throw new Error(`slurm job ${jobId} still queued or running after ${timeoutSeconds} s:\n${run('squeue', []).stdout}`);
    },
    completions() {
      const file = join(dir, 'jobcomp.txt');
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => Object.fromEntries(l.split(' ').filter((f) => f.includes('=')).map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)])));
    },
    stop,
  };
}
