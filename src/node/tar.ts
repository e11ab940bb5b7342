/**
 * A small tar reader (and writer) over node:zlib — enough for the CIFAR archives, no dependency.
 *
 * A tar file is a sequence of 512-byte blocks. Each entry is one header block followed by its
 * data, padded with zeros to a whole number of blocks; two zero blocks end the archive. The
 * header fields used here (POSIX ustar; GNU tar writes the same offsets):
 *
 *   offset  size  field
 *        0   100  name (NUL-terminated)
 *      124    12  size, octal ASCII (or GNU base-256 when the top bit of the first byte is set)
 *      148     8  checksum: the sum of all 512 header bytes, with this field counted as 8 spaces
 *      156     1  type: '0' or NUL = file, '5' = directory, 'x' = pax header for the next entry,
 *                 'g' = global pax header, 'L' = GNU long name for the next entry
 *      257     6  magic "ustar"
 *      345   155  prefix: the name is prefix + '/' + name when prefix is not empty
 *
 * `extractTarGz` streams: it never holds more than one chunk of a file in memory, so a 180 MB
 * archive unpacks in constant memory. It writes only regular files and directories, and refuses
 * names that would land outside the target directory (absolute paths, '..').
 */
import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { createGunzip } from 'node:zlib';

const BLOCK = 512;

/** Reads exact byte counts from an async stream of chunks. */
class ByteReader {
  private rest: Buffer = Buffer.alloc(0);
  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  /** The next `n` bytes, or null when the stream ends before any byte; a short read is an error. */
  async read(n: number, what: string): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    let have = 0;
    for await (const part of this.stream(n)) {
      parts.push(part);
      have += part.length;
    }
    if (have === 0) return null;
    if (have < n) throw new Error(`the archive ends in the middle of ${what} (${have} of ${n} bytes)`);
    return Buffer.concat(parts);
  }

  /** Yields the next `n` bytes in pieces as they arrive; stops early only at the end of the stream. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.rest.length === 0) {
        const next = await this.chunks.next();
        if (next.done) return;
        this.rest = next.value;
      }
      const take = Math.min(left, this.rest.length);
      yield this.rest.subarray(0, take);
      this.rest = this.rest.subarray(take);
      left -= take;
    }
  }
}

function field(header: Buffer, offset: number, size: number): string {
  const raw = header.subarray(offset, offset + size);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? size : end).toString('utf8');
}

function sizeField(header: Buffer): number {
  const raw = header.subarray(124, 136);
  if (raw[0] & 0x80) {
    // GNU base-256: the remaining bits, big-endian.
    let v = raw[0] & 0x7f;
    for (let i = 1; i < raw.length; i++) v = v * 256 + raw[i];
    return v;
  }
  const text = field(header, 124, 12).trim();
  const v = text === '' ? 0 : parseInt(text, 8);
  if (!Number.isFinite(v)) throw new Error(`bad size field '${text}' in a tar header`);
  return v;
}

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum === parseInt(field(header, 148, 8).trim(), 8);
}

/** pax records: "<length> <key>=<value>\n" repeated. */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const len = parseInt(data.subarray(at, space).toString('ascii'), 10);
    if (!(len > 0)) break;
    const record = data.subarray(space + 1, at + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}

/** A relative path inside the target, or an error for a name that would escape it. */
function safeName(name: string): string {
  const normal = posix.normalize(name.replace(/\\/g, '/')).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (normal === '' || normal === '.') return '';
  if (posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../')) {
    throw new Error(`refusing the archive entry '${name}': it would be written outside the target directory`);
  }
  return normal;
}

export interface ExtractedFile {
  /** Path inside the archive (posix separators). */
  name: string;
  bytes: number;
}

/** Unpacks a .tar.gz file into `destDir`; returns the regular files written. */
export async function extractTarGz(archivePath: string, destDir: string): Promise<ExtractedFile[]> {
  const gunzip = createReadStream(archivePath).pipe(createGunzip());
  const reader = new ByteReader(gunzip[Symbol.asyncIterator]());
  const files: ExtractedFile[] = [];
  let nextName: string | null = null; // from a pax 'x' header or a GNU 'L' entry
  let nextSize: number | null = null;
  try {
    for (;;) {
      const header = await reader.read(BLOCK, 'a header');
      if (header === null || header.every((b) => b === 0)) break; // end of archive
      if (!checksumOk(header)) throw new Error(`bad tar header checksum after ${files.length} files: the archive is corrupt or not a tar file`);
      const type = String.fromCharCode(header[156] || 0x30);
      const size = nextSize ?? sizeField(header);
      const prefix = field(header, 345, 155);
      const name = nextName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      const padded = Math.ceil(size / BLOCK) * BLOCK;

      if (type === 'x' || type === 'g' || type === 'L') {
        const data = (await reader.read(padded, `the metadata of '${name}'`)) ?? Buffer.alloc(0);
        if (type === 'L') nextName = field(data, 0, size);
        if (type === 'x') {
          const pax = parsePax(data.subarray(0, size));
          if (pax.path !== undefined) nextName = pax.path;
          if (pax.size !== undefined) nextSize = Number(pax.size);
        }
        continue;
      }
      nextName = null;
      nextSize = null;
      const rel = safeName(name);
      if (type === '5') {
        if (rel) await mkdir(join(destDir, rel), { recursive: true });
      } else if (type === '0' || type === '7') {
        if (!rel) throw new Error(`a file entry in the archive has an empty name`);
        const target = join(destDir, rel);
        await mkdir(dirname(target), { recursive: true });
        const out = await open(target, 'w');
        let written = 0;
        try {
          for await (const piece of reader.stream(size)) {
            await out.write(piece);
            written += piece.length;
          }
        } finally {
          await out.close();
        }
        if (written < size) throw new Error(`the archive ends in the middle of '${name}' (${written} of ${size} bytes)`);
        files.push({ name: rel, bytes: size });
        for await (const _ of reader.stream(padded - size)) void _; // padding to the block boundary
      } else {
        // Links, devices, fifos: not part of a data archive; skip their data (usually none).
        for await (const _ of reader.stream(padded)) void _;
      }
    }
  } finally {
    gunzip.destroy();
  }
  return files;
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
