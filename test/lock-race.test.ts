/**
 * The output-folder lock under a real race (issue 15 §3): six processes try to lock the same folder
 * at the same moment, round after round — on a free folder, over a stale lock of a dead process
 * (old format: a bare pid), and over a lock whose pid is alive but belongs to a process started at
 * another time (a reused pid). Exactly one of them holds it, every round. Also: a lock still being
 * written (empty and young) counts as held.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LOCK_FILE, folderHolder, lockFolder } from '../src/node/files.js';

const root = mkdtempSync(join(tmpdir(), 'gradlab-lock-race-'));
const CONTENDERS = 6;
const ROUNDS = 9;
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** What lies in round r's folder before the race: nothing, a dead process's lock, or a live pid with another start time. */
function prepare(r: number): string {
  const dir = join(root, `round-${r}`);
  mkdirSync(dir, { recursive: true });
  const kind = ['free', 'stale pid', 'reused pid'][r % 3];
  if (kind === 'stale pid') writeFileSync(join(dir, LOCK_FILE), '99999999\n');
  if (kind === 'reused pid') writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, start: '1', host: hostname() }) + '\n');
  return kind;
}

test(`${CONTENDERS} processes lock one folder at once: exactly one holder in each of ${ROUNDS} rounds (free, stale, reused pid)`, async () => {
  const kinds = Array.from({ length: ROUNDS }, (_, r) => prepare(r));
  const results: string[][] = Array.from({ length: ROUNDS }, () => []);
  const ready = new Array<number>(ROUNDS).fill(0);
  const children: ChildProcess[] = [];
  const done = new Promise<void>((resolve, reject) => {
    for (let i = 0; i < CONTENDERS; i++) {
      const child = spawn(process.execPath, ['--import', tsx, join('test', 'fixtures', 'lock-racer.ts'), root, String(ROUNDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      let buffered = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const [word, round, ...rest] = line.split(' ');
          const r = Number(round);
          if (word === 'ready' && ++ready[r] === CONTENDERS) writeFileSync(join(root, `go-${r}`), ''); // all wait: start them together
          if (word === 'got' || word === 'busy') results[r].push(word === 'got' ? 'got' : rest.join(' '));
          if (results.every((x) => x.length === CONTENDERS)) resolve();
        }
      });
      child.on('exit', (code) => code !== null && code !== 0 && reject(new Error(`a contender exited with ${code}`)));
    }
  });
  const timeout = setTimeout(() => children.forEach((c) => c.kill('SIGKILL')), 90_000);
  try {
    await done;
  } finally {
    clearTimeout(timeout);
    for (const c of children) c.kill('SIGKILL');
  }
  results.forEach((res, r) => {
    const holders = res.filter((x) => x === 'got').length;
    assert.is(holders, 1, `round ${r} (${kinds[r]}): ${holders} holders; answers: ${res.join(' | ')}`);
    for (const x of res.filter((x) => x !== 'got')) assert.ok(/is in use by another gradlab run/.test(x), `round ${r} (${kinds[r]}): ${x}`);
  });
});

test('a lock being written (empty, young) is held; an old unreadable one is stale; release leaves a successor alone', () => {
  const dir = join(root, 'young');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, LOCK_FILE), '');
  assert.throws(() => lockFolder(dir, 'test'), /is being written/);
  const old = (Date.now() - 120_000) / 1000;
  utimesSync(join(dir, LOCK_FILE), old, old);
  const release = lockFolder(dir, 'test');
  assert.is(folderHolder(dir)?.pid, process.pid);
  release();
  assert.is(folderHolder(dir), null);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
