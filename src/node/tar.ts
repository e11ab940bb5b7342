/**
 * Unpacking .tar.gz archives (the CIFAR downloads), and a small tar writer for tests.
 *
 * `extractTarGz` streams the archive through node:zlib's gunzip into node-tar's `Unpack` (the
 * reader npm itself uses), so a 170 MB archive unpacks in constant memory. On top of node-tar it
 * keeps gradlab's rules for a data archive:
 *
 *   - only regular files and directories are written; links, devices and fifos are skipped;
 *   - an entry whose name is absolute or holds '..' is refused before anything of it is written
 *     (node-tar alone would skip '..' and strip the leading '/'; refusing says what is wrong);
 *   - modes and owners in the archive are ignored: files are created as this user, 0666 & ~umask;
 *   - anything node-tar only warns about (a bad header checksum, a truncated entry, a missing
 *     end-of-archive marker) is an error, as is a damaged gzip stream. Every error is an
 *     `ArchiveError` whose message names the archive.
 *
 * A tar file is a sequence of 512-byte blocks: each entry is one header block (name, size, type,
 * checksum …) followed by its data padded to a whole number of blocks; two zero blocks end the
 * archive. `packTar` writes the simplest form of that (POSIX ustar), which lets the tests build
 * archives GNU tar would refuse to make (names with '..', absolute names).
 */
import { createReadStream } from 'node:fs';
import { makeFolder } from './files.js';
import { posix } from 'node:path';
import { createGunzip } from 'node:zlib';
import { Header, ReadEntry, Unpack } from 'tar';

const BLOCK = 512;

/** An archive that cannot be unpacked; the message says 'cannot unpack <archive>: <why>'. */
export class ArchiveError extends Error {
  constructor(readonly archive: string, why: string) {
    super(`cannot unpack ${archive}: ${why}`);
    this.name = 'ArchiveError';
  }
}

/** One file unpacked from an archive. */
export interface ExtractedFile {
  /** Path inside the archive (posix separators). */
  name: string;
  bytes: number;
}

/** The entry's name as a relative path inside the target, or null when it would land outside it. */
function insideName(name: string): string | null {
  const normal = posix.normalize(name.replace(/\\/g, '/')).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (posix.isAbsolute(normal) || /^[a-zA-Z]:/.test(normal) || normal === '..' || normal.startsWith('../')) return null;
  return normal === '.' ? '' : normal;
}

/** Words for a zlib error: a gzip stream that ends early is truncated, anything else damaged. */
function gzipProblem(err: Error): string {
  return Reflect.get(err, 'code') === 'Z_BUF_ERROR'
    ? `the gzip stream ends early (${err.message}): the archive is truncated, e.g. by an interrupted download`
    : `the gzip stream is damaged or this is not a .tar.gz file (${err.message})`;
}

/** Words for what node-tar reported (a warning, or an error with the same fields), given the files done so far. */
function tarProblem(message: string, data: Readonly<Record<string, unknown>>, filesDone: number): string {
  const { tarCode, header, entry } = data;
  if (header instanceof Header && !header.cksumValid) {
    return `bad tar header checksum after ${filesDone} files: the archive is corrupt or not a tar file`;
  }
  if (tarCode === 'TAR_BAD_ARCHIVE' && entry instanceof ReadEntry && entry.remain > 0) {
    return `the archive ends in the middle of '${entry.path}' (${entry.size - entry.remain} of ${entry.size} bytes)`;
  }
  return entry instanceof ReadEntry ? `${message} (entry '${entry.path}')` : message;
}

/**
 * Unpacks a .tar.gz file into `destDir` (created if needed); returns the regular files written,
 * in archive order. Rejects with an `ArchiveError` on the first problem.
 */
export async function extractTarGz(archivePath: string, destDir: string): Promise<ExtractedFile[]> {
  makeFolder(destDir, `cannot unpack ${archivePath} into ${destDir}`);
  const files: ExtractedFile[] = [];
  return new Promise((resolve, reject) => {
    let failed = false;
    let sawEnd = false; // tar's two zero blocks
    const source = createReadStream(archivePath);
    const gunzip = createGunzip();
    const fail = (why: string): void => {
      if (failed) return;
      failed = true;
      source.destroy();
      gunzip.destroy();
      reject(new ArchiveError(archivePath, why));
    };
    const unpack = new Unpack({
      cwd: destDir,
      preserveOwner: false, // node-tar's default as root is to chown to the archive's uid/gid
      filter: (name, entry) => {
        if (failed || !(entry instanceof ReadEntry)) return false;
        const isFile = entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile';
        if (!isFile && entry.type !== 'Directory') return false;
        const rel = insideName(name);
        if (rel === null) {
          fail(`refusing the archive entry '${name}': it would be written outside the target directory`);
          unpack.abort(new ArchiveError(archivePath, `refused '${name}'`));
          return false;
        }
        if (isFile && rel === '') {
          fail(`a file entry in the archive has an empty name ('${name}')`);
          return false;
        }
        entry.mode = undefined; // use the default modes, as for any file this program writes
        if (isFile) files.push({ name: rel, bytes: entry.size });
        return true;
      },
      onwarn: (_code, message, data) => fail(tarProblem(message, data, files.length)),
    });
    unpack.on('eof', () => (sawEnd = true));
    unpack.on('error', (err: Error) => {
      const data = { tarCode: Reflect.get(err, 'tarCode'), header: Reflect.get(err, 'header'), entry: Reflect.get(err, 'entry') };
      fail(tarProblem(err.message, data, files.length));
    });
    unpack.on('close', () => {
      if (!sawEnd) fail(`the archive ends without tar's end-of-archive blocks, after ${files.length} files: it is truncated`);
      if (!failed) resolve(files);
    });
    source.on('error', (err) => fail(`cannot read it: ${err.message}`));
    gunzip.on('error', (err) => fail(gzipProblem(err)));
    source.pipe(gunzip).pipe(unpack);
  });
}

/** Writes a ustar archive of regular files (names up to 100 bytes). The inverse of the reader above. */
export function packTar(entries: readonly { name: string; data: Uint8Array }[]): Uint8Array {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    if (name.length > 100) throw new Error(`packTar: name '${e.name}' is longer than 100 bytes`);
    const h = Buffer.alloc(BLOCK);
    name.copy(h, 0);
    h.write('0000644\0', 100, 'ascii'); // mode
    h.write('0000000\0', 108, 'ascii'); // uid
    h.write('0000000\0', 116, 'ascii'); // gid
    h.write(e.data.length.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
    h.write('00000000000\0', 136, 'ascii'); // mtime
    h.write('0', 156, 'ascii');
    h.write('ustar\0' + '00', 257, 'ascii');
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
    blocks.push(h, Buffer.from(e.data), Buffer.alloc((BLOCK - (e.data.length % BLOCK)) % BLOCK));
  }
  blocks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(blocks);
}
