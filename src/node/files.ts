/**
 * Files gradlab writes (checkpoints, logs, results, reports) are written atomically: to a temporary
 * file in the same folder, flushed, then renamed over the target. A run killed mid-write leaves
 * the previous complete file, never a torn one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** JSON, pretty-printed, written atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** The lock file a run holds in its output folder (see `lockFolder`). */
export const LOCK_FILE = '.gradlab.lock';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (e) {
    return e instanceof Error && Reflect.get(e, 'code') === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Claims `folder` for one run: creates its lock file (exclusively) holding this process's id, and
 * returns the function that releases it. A second run on the same folder — two `gradlab train` or
 * `reproduce` commands writing one job's checkpoint in turn — gets a clear error instead. A lock
 * left by a process that no longer runs (killed, machine restarted) is taken over.
 */
export function lockFolder(folder: string, what: string): () => void {
  mkdirSync(folder, { recursive: true });
  const path = join(folder, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if (!(e instanceof Error && Reflect.get(e, 'code') === 'EEXIST')) throw e;
      const holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isRunning(holder)) {
        throw new Error(`${what}: ${folder} is in use by another gradlab run (process ${holder}, see ${path}); wait for it to finish, or choose another folder`);
      }
      if (holder === process.pid) throw new Error(`${what}: ${folder} is already in use by this process (a run inside a run?)`);
      rmSync(path, { force: true }); // a stale lock: its process is gone
    }
  }
  throw new Error(`${what}: could not lock ${folder} (${path} keeps reappearing)`);
}
