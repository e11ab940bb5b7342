/**
 * Files gradlab writes (checkpoints, logs, results, reports) are written atomically: to a temporary
 * file in the same folder, flushed, then renamed over the target. A run killed mid-write leaves
 * the previous complete file, never a torn one.
 */
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, basename, join, resolve } from 'node:path';

/**
 * Creates `folder` and its missing parents, one level at a time. Node's recursive mkdir loops at
 * full CPU under a path like /proc/x instead of failing, so it is never used here; `what` starts the
 * error (e.g. 'train: cannot create the output folder runs/a'), which names the level that failed.
 */
export function makeFolder(folder: string, what = `cannot create the folder ${folder}`): void {
  const missing: string[] = [];
  let existing = resolve(folder);
  while (!existsSync(existing)) {
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  if (!statSync(existing).isDirectory()) throw new Error(`${what}: ${existing} is a file, not a folder`);
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (e) {
      if (!(e instanceof Error && Reflect.get(e, 'code') === 'EEXIST')) throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** Temporary files this process is writing now: removed at exit if a write is cut short. */
const writing = new Set<string>();
let exitHookSet = false;

/** `.<name>.<pid>.tmp`: the temporary file of an atomic write by process `pid`. */
const TEMP_NAME = /^\..+\.(\d+)\.tmp$/;

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  makeFolder(dirname(path), `cannot write ${path}`);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  if (!exitHookSet) {
    exitHookSet = true;
    process.on('exit', () => {
      for (const t of writing) rmSync(t, { force: true });
    });
  }
  writing.add(tmp);
  try {
    const fd = openSync(tmp, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    writing.delete(tmp);
  }
}

/**
 * Removes the temporary files (`.<name>.<pid>.tmp`) that atomic writes of processes no longer
 * running left in `folder` (killed mid-write); returns their names. Call it holding the folder's lock.
 */
export function removeStaleTemps(folder: string): string[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (m === null || name.startsWith(`${LOCK_FILE}.`)) continue;
    const pid = Number(m[1]);
    if (pid === process.pid ? writing.has(join(folder, name)) : isRunning(pid)) continue;
    rmSync(join(folder, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** JSON, pretty-printed, written atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** The lock file a run holds in its output folder (see `lockFolder`). */
export const LOCK_FILE = '.gradlab.lock';

/** A lock younger than this whose content cannot be read (being written, or torn) counts as held. */
const YOUNG_LOCK_MS = 30_000;

/** Who holds a lock: process id, the process's start time (Linux: clock ticks after boot; '' elsewhere) and host. */
export interface LockHolder {
  pid: number;
  start: string;
  host: string;
}

/** A process's start time as /proc/<pid>/stat gives it (field 22), or '' when there is no such process or no /proc. */
function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (e) {
    return e instanceof Error && Reflect.get(e, 'code') === 'EPERM'; // exists, owned by someone else
  }
}

/** Reads a lock file: its holder, 'unreadable' (empty, torn, foreign), or null when there is no lock. */
function readLock(path: string): LockHolder | 'unreadable' | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof Error && Reflect.get(e, 'code') === 'ENOENT') return null;
    throw e;
  }
  if (/^\d+\s*$/.test(text)) return { pid: Number.parseInt(text, 10), start: '', host: hostname() }; // written by gradlab before round 2
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === 'object' && 'pid' in v && 'start' in v && 'host' in v) {
      const { pid, start, host } = v;
      if (typeof pid === 'number' && Number.isInteger(pid) && typeof start === 'string' && typeof host === 'string') return { pid, start, host };
    }
  } catch {
    // not JSON: unreadable
  }
  return 'unreadable';
}

/**
 * Whether a lock's holder still runs: same host, its pid alive and (where /proc tells) started at
 * the recorded time — a pid reused by an unrelated process is not the owner. A lock of another host
 * (a shared file system) cannot be checked and counts as held.
 */
function holderAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  if (!isRunning(h.pid)) return false;
  if (h.start === '') return true;
  const now = processStart(h.pid);
  return now === '' || now === h.start;
}

/** The live process holding `folder`'s lock, or null when it is free or its lock is stale. */
export function folderHolder(folder: string): LockHolder | null {
  const lock = readLock(join(folder, LOCK_FILE));
  if (lock === null) return null;
  if (lock === 'unreadable') return null;
  return holderAlive(lock) ? lock : null;
}

/** Creates `path` holding `content`, atomically and only if it does not exist: the content is complete the moment the name appears. */
function linkNew(path: string, content: string): boolean {
  const tmp = `${path}.${process.pid}.${performance.now().toString(36).replace('.', '')}.tmp`;
  writeFileSync(tmp, content);
  try {
    linkSync(tmp, path); // link(2) fails with EEXIST when the name is taken: the one atomic "create with content"
    return true;
  } catch (e) {
    if (e instanceof Error && Reflect.get(e, 'code') === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Age of a file in ms (Infinity when it is gone). */
function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Infinity;
  }
}

/**
 * Claims `folder` for one run and returns the function that releases it. A second run on the same
 * folder — two `gradlab train` or `reproduce` commands writing one job's checkpoint in turn — gets a
 * clear error instead.
 *
 * The lock file is made with its content in one step (written to a temporary file, then link(2)ed to
 * its name, which fails if the name exists), so a rival never reads a half-made lock. It holds
 * { pid, start, host }; a lock whose process is gone, or whose pid now belongs to a process started
 * at another time, is stale and taken over. Taking over happens under a second, short-lived lock
 * (`.gradlab.lock.break`) and only after reading the stale content again, so two rivals that both
 * found the same stale lock cannot delete each other's fresh one. An unreadable lock younger than
 * 30 s counts as held.
 */
export function lockFolder(folder: string, what: string): () => void {
  makeFolder(folder, `${what}: cannot create ${folder}`);
  const path = join(folder, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, start: processStart(process.pid), host: hostname() };
  const content = JSON.stringify(me) + '\n';
  const release = (): void => {
    const lock = readLock(path);
    if (lock !== null && lock !== 'unreadable' && lock.pid === me.pid && lock.start === me.start && lock.host === me.host) rmSync(path, { force: true });
  };
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; attempt < 200; attempt++) {
    if (attempt > 0) Atomics.wait(pause, 0, 0, 5); // a rival is taking over a stale lock: let it finish
    if (linkNew(path, content)) return release;
    const lock = readLock(path);
    if (lock === null) continue; // released between our two looks: try again
    if (lock === 'unreadable') {
      if (ageMs(path) < YOUNG_LOCK_MS) throw new Error(`${what}: ${folder} is in use by another gradlab run (${path} is being written); wait for it to finish, or choose another folder`);
    } else if (lock.pid === me.pid && lock.host === me.host) {
      throw new Error(`${what}: ${folder} is already in use by this process (a run inside a run?)`);
    } else if (holderAlive(lock)) {
      const where = lock.host === me.host ? '' : ` on host ${lock.host}`;
      throw new Error(`${what}: ${folder} is in use by another gradlab run (process ${lock.pid}${where}, see ${path}); wait for it to finish, or choose another folder`);
    }
    removeStale(path, lock);
  }
  throw new Error(`${what}: could not lock ${folder} (${path} keeps reappearing)`);
}

/** Removes the stale lock at `path` if it still holds what was read (`seen`), under the short-lived break lock. */
function removeStale(path: string, seen: LockHolder | 'unreadable'): void {
  const breaker = `${path}.break`;
  if (!linkNew(breaker, `${process.pid}\n`)) {
    if (ageMs(breaker) > YOUNG_LOCK_MS) rmSync(breaker, { force: true }); // its taker died in the microseconds it holds it
    return; // a rival is removing it: look again
  }
  try {
    const now = readLock(path);
    const same = now === 'unreadable' ? seen === 'unreadable' : now !== null && seen !== 'unreadable' && now.pid === seen.pid && now.start === seen.start && now.host === seen.host;
    if (same) rmSync(path, { force: true });
  } finally {
    rmSync(breaker, { force: true });
  }
}
