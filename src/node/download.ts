/**
 * Downloading and unpacking the official CIFAR archives (`gradlab download cifar10|cifar100`).
 *
 * The steps, each safe to interrupt:
 *
 *   1. present?  every expected file exists in <dir>/<folder> with its exact size → nothing to do.
 *   2. fetch     stream the archive to <dir>/<archive>.part. When a .part is already there, ask
 *                for the rest with `Range: bytes=<size>-`; a server that answers 200 instead of
 *                206 sends the whole file, so the .part is restarted from zero. An interrupted
 *                transfer is resumed the same way (`retries` times, and again on the next run).
 *   3. verify    the MD5 of the complete .part must equal the published one; if not, the .part
 *                is deleted and the error says expected vs got. Only then is it renamed to
 *                <dir>/<archive>, so a file under the final name is always complete and checked.
 *   4. unpack    into a scratch folder <dir>/.<archive>.unpack, check the expected files and sizes,
 *                then rename each file into <dir>/<folder>. The archive is deleted afterwards
 *                unless `keepArchive`.
 *
 * An archive already at <dir>/<archive> (say, copied there by hand) is verified and unpacked
 * without fetching. Progress is reported through `onProgress(done, total)`; the CLI draws a bar.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CIFAR_FORMATS, type CifarName } from '../data/cifar.js';
import { defaultDataDir } from './cifar-files.js';
import { ArchiveError, extractTarGz } from './tar.js';
import { makeFolder } from './files.js';
import { checkKeys } from '../util/options.js';
import { shown } from '../util/format.js';

/** One downloadable archive: where it is, its checksum, and what it must unpack to. */
export interface ArchiveSpec {
  /** File name of the archive, e.g. 'cifar-10-binary.tar.gz'. */
  fileName: string;
  url: string;
  /** The published MD5, lowercase hex. */
  md5: string;
  /** The archive's size in bytes, when known (used for progress and to spot a finished .part). */
  bytes?: number;
  /** The folder the archive unpacks to, relative to the data directory. */
  folder: string;
  /** Files that must be in `folder` after unpacking, with their exact sizes. */
  files: readonly { name: string; bytes: number }[];
}

function cifarFiles(name: CifarName): { name: string; bytes: number }[] {
  const f = CIFAR_FORMATS[name];
  return (['train', 'test'] as const).flatMap((split) =>
    f.files[split].map((file) => ({ name: file, bytes: f.recordsPerFile[split] * f.recordBytes })),
  );
}

/** The official archives (URLs, sizes and MD5s as published on https://www.cs.toronto.edu/~kriz/cifar.html). */
export const CIFAR_ARCHIVES: Readonly<Record<CifarName, ArchiveSpec>> = {
  cifar10: {
    fileName: 'cifar-10-binary.tar.gz',
    url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    md5: 'c32a1d4ab5d03f1284b67883e8d87530',
    bytes: 170_052_171,
    folder: CIFAR_FORMATS.cifar10.folder,
    files: cifarFiles('cifar10'),
  },
  cifar100: {
    fileName: 'cifar-100-binary.tar.gz',
    url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
    md5: '03b5dce01913d631647c71ecec9e9cb8',
    bytes: 168_513_733,
    folder: CIFAR_FORMATS.cifar100.folder,
    files: cifarFiles('cifar100'),
  },
};

/** Options of the CIFAR download. */
export interface DownloadOptions {
  /** The data directory. Default $GRADLAB_DATA or ./data. */
  dir?: string;
  /** Fetch from here instead of `spec.url` (a mirror, or a local server in tests). */
  url?: string;
  /** Keep the verified archive after unpacking. Default false. */
  keepArchive?: boolean;
  /** How many times an interrupted transfer is resumed within this call. Default 3. */
  retries?: number;
  /** Called as bytes arrive: bytes on disk so far, and the total when known (else 0). */
  onProgress?: (done: number, total: number) => void;
  /** Called with one-line messages about what is happening (resuming, verifying, unpacking). */
  log?: (message: string) => void;
  /** A transfer that receives nothing for this long (ms; headers included) is cut and resumed. Default 60 000. */
  stallMs?: number;
}

/** What a download did: the archive, whether it was fetched, and what was unpacked. */
export interface DownloadResult {
  /** 'present': nothing to do; 'downloaded': fetched (possibly resuming) and unpacked; 'unpacked': an archive already on disk was unpacked. */
  status: 'present' | 'downloaded' | 'unpacked';
  /** The folder holding the files. */
  folder: string;
  /** Bytes fetched over the network in this call. */
  fetchedBytes: number;
}

/** Whether every file of `spec` is in `<dir>/<folder>` with its exact size. */
export function archivePresent(spec: ArchiveSpec, dir: string = defaultDataDir()): boolean {
  const folder = join(dir, spec.folder);
  return spec.files.every((f) => {
    const p = join(folder, f.name);
    return existsSync(p) && statSync(p).isFile() && statSync(p).size === f.bytes;
  });
}

/** The MD5 of a file, lowercase hex (streamed). */
export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Thrown when the connection drops mid-body; what arrived so far stays in the .part file. */
class Interrupted extends Error {
  constructor(message: string, readonly fetched: number) {
    super(message);
  }
}

function describeFetchError(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
  const code = cause?.code ?? (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = cause?.message ?? (err instanceof Error ? err.message : String(err));
  const hint =
    code === 'ENOTFOUND' || code === 'EAI_AGAIN'
      ? ' (the host name could not be resolved: no network?)'
      : code === 'ECONNREFUSED'
        ? ' (nothing is listening there)'
        : code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT'
          ? ' (the connection timed out: no network, or a firewall?)'
          : '';
  return `${code ? code + ': ' : ''}${reason}${hint}`;
}

/**
 * Fetches `url` into `part`, continuing from the bytes already there. Returns the bytes fetched.
 * Throws `Interrupted` when the body stops early, a plain Error for HTTP or network failures.
 */
async function fetchInto(url: string, part: string, expected: number | undefined, options: DownloadOptions, log: (m: string) => void): Promise<number> {
  const onProgress = options.onProgress;
  const stallMs = options.stallMs ?? 60_000;
  const have = existsSync(part) ? (await stat(part)).size : 0;
  if (expected !== undefined && have === expected) return 0; // a finished .part from an earlier run
  if (expected !== undefined && have > expected) {
    log(`${part} is larger than the archive (${have} > ${expected} bytes); starting over`);
    await rm(part, { force: true });
    return fetchInto(url, part, expected, options, log);
  }
  // One timer watches for silence: no headers, or no bytes, for stallMs aborts the request.
  const abort = new AbortController();
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const watch = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      abort.abort();
    }, stallMs);
  };
  const stallMessage = (done: number, total: number): string =>
    `the transfer from ${url} stalled: nothing arrived for ${stallMs / 1000} s after ${done} of ${total || '?'} bytes`;
  let response: Response;
  watch();
  try {
    response = await fetch(url, { signal: abort.signal, ...(have > 0 ? { headers: { Range: `bytes=${have}-` } } : {}) });
  } catch (err) {
    clearTimeout(timer);
    if (stalled) throw new Interrupted(`${stallMessage(have, expected ?? 0)} (no answer to the request)`, 0);
    throw new Error(`download: cannot reach ${url}: ${describeFetchError(err)}. ` + `Use --url to fetch from a mirror, or copy the archive into the data directory by hand.`);
  }
  try {
    let offset = 0;
    if (have > 0 && response.status === 206) {
      const range = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
      if (!range || Number(range[1]) !== have) {
        await response.body?.cancel();
        throw new Error(`download: ${url} answered a range request for bytes ${have}- with '${response.headers.get('content-range')}'; delete ${part} and try again`);
      }
      offset = have;
      log(`resuming ${part} at byte ${have}`);
    } else if (have > 0 && response.status === 416) {
      await response.body?.cancel();
      log(`the server cannot continue ${part} (416 Range Not Satisfiable); starting over`);
      await rm(part, { force: true });
      clearTimeout(timer);
      return await fetchInto(url, part, expected, options, log);
    } else if (response.status === 200) {
      if (have > 0) log(`the server ignored the range request; restarting ${part} from the beginning`);
    } else {
      await response.body?.cancel();
      throw new Error(`download: ${url} answered HTTP ${response.status} ${response.statusText}`);
    }
    if (!response.body) throw new Error(`download: ${url} answered ${response.status} with no body`);

    const length = Number(response.headers.get('content-length') ?? NaN);
    const total = expected ?? (Number.isFinite(length) ? offset + length : 0);
    // Never more than the archive's size (or the announced length): a server sending on forever, or a
    // body without Content-Length longer than the archive, must not fill the disk.
    const cap = expected ?? (Number.isFinite(length) ? offset + length : Infinity);
    const file = await open(part, offset > 0 ? 'a' : 'w');
    let done = offset;
    let overflow = false;
    const reader = response.body.getReader();
    try {
      onProgress?.(done, total);
      watch();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        watch();
        const room = cap - done;
        const chunk = r.value.length > room ? r.value.subarray(0, room) : r.value;
        await file.write(chunk);
        done += chunk.length;
        onProgress?.(done, total);
        if (r.value.length > room) {
          overflow = true;
          await reader.cancel();
          break;
        }
      }
    } catch (err) {
      if (stalled) throw new Interrupted(stallMessage(done, total), done - offset);
      throw new Interrupted(`the transfer from ${url} stopped after ${done} of ${total || '?'} bytes (${describeFetchError(err)})`, done - offset);
    } finally {
      await file.close();
    }
    if (overflow) log(`${url} sent more than the ${cap} bytes expected; kept the first ${cap} (the MD5 check decides)`);
    if (Number.isFinite(length) && done - offset < length && !overflow) {
      throw new Interrupted(`the transfer from ${url} ended after ${done} of ${offset + length} bytes`, done - offset);
    }
    return done - offset;
  } finally {
    clearTimeout(timer);
  }
}

/** Downloads (or resumes), verifies and unpacks one archive. See the steps at the top of the file. */
export async function downloadArchive(spec: ArchiveSpec, options: DownloadOptions = {}): Promise<DownloadResult> {
  checkKeys('download', options, ['dir', 'url', 'keepArchive', 'retries', 'onProgress', 'log', 'stallMs']);
  const dir = resolve(options.dir ?? defaultDataDir());
  const folder = join(dir, spec.folder);
  const log = options.log ?? (() => {});
  if (archivePresent(spec, dir)) return { status: 'present', folder, fetchedBytes: 0 };
  makeFolder(dir, `download: cannot create the data folder ${dir}`);

  const archive = join(dir, spec.fileName);
  const part = `${archive}.part`;
  const url = options.url ?? spec.url;
  let fetchedBytes = 0;
  const fetched = !existsSync(archive);
  if (fetched) {
    const retries = options.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        fetchedBytes += await fetchInto(url, part, spec.bytes, options, log);
        break;
      } catch (err) {
        if (!(err instanceof Interrupted)) throw err;
        fetchedBytes += err.fetched;
        if (attempt >= retries) {
          throw new Error(`download: ${err.message}. The bytes received are kept in ${part}; run the command again to resume.`);
        }
        log(`${err.message}; resuming (retry ${attempt + 1} of ${retries})`);
      }
    }
  }

  const candidate = fetched ? part : archive;
  log(`verifying the MD5 of ${candidate}`);
  const got = await md5File(candidate);
  if (got !== spec.md5.toLowerCase()) {
    if (!fetched) {
      // Not ours to delete: someone put it there (copied by hand, or another tool).
      throw new Error(
        `download: ${candidate} is not the expected ${spec.fileName}: its MD5 is ${got}, the published one is ${spec.md5}. ` +
          'It was found there, not fetched, so it is left as it is: replace it with a good copy, or move it away to download the archive.',
      );
    }
    await rm(candidate, { force: true });
    throw new Error(
      `download: MD5 mismatch for ${spec.fileName}: expected ${spec.md5}, got ${got} ` +
        `(${url}). The bad file ${candidate} was deleted; run the command again to fetch it anew.`,
    );
  }
  if (fetched) await rename(part, archive);

  log(`unpacking ${archive}`);
  const scratch = join(dir, `.${spec.fileName}.unpack`);
  await rm(scratch, { recursive: true, force: true });
  try {
    await extractTarGz(archive, scratch);
    const unpacked = join(scratch, spec.folder);
    for (const f of spec.files) {
      const p = join(unpacked, f.name);
      const size = existsSync(p) ? (await stat(p)).size : -1;
      if (size !== f.bytes) {
        throw new Error(
          `${spec.fileName} ${size < 0 ? `has no ${spec.folder}/${f.name}` : `holds ${spec.folder}/${f.name} with ${size} bytes, not ${f.bytes}`}; the archive is not the expected one`,
        );
      }
    }
    makeFolder(folder);
    for (const entry of await readdir(unpacked, { withFileTypes: true })) {
      if (entry.isFile()) await rename(join(unpacked, entry.name), join(folder, entry.name));
    }
  } catch (err) {
    // An ArchiveError already says 'cannot unpack <archive>: …'.
    throw new Error(`download: ${err instanceof ArchiveError ? '' : `cannot unpack ${archive}: `}${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  if (!options.keepArchive) await rm(archive, { force: true });
  return { status: fetched ? 'downloaded' : 'unpacked', folder, fetchedBytes };
}

/** `downloadArchive` for the official CIFAR-10 or CIFAR-100 archive. */
export function downloadCifar(dataset: CifarName, options: DownloadOptions = {}): Promise<DownloadResult> {
  const spec = CIFAR_ARCHIVES[dataset];
  if (!spec) throw new Error(`downloadCifar: dataset must be 'cifar10' or 'cifar100'; got ${shown(dataset)}`);
  return downloadArchive(spec, options);
}
