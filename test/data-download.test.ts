/**
 * The download path against a local HTTP server (127.0.0.1 only) serving a small archive in the
 * official layout: good archive, already present, wrong MD5, interrupted transfer and resume,
 * a server that ignores Range, HTTP errors, no server at all, and the CLI.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { downloadArchive, encodeCifarRecords, loadCifar, packTar, syntheticCifar, type ArchiveSpec } from '../src/node/data.js';
import { command } from '../src/cli/download.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradlab-data-download-'));
const FOLDER = 'cifar-10-batches-bin';
const NAMES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];

// The archive: 6 files of 8 synthetic records each (noisy pixels, so gzip leaves it large: ~140 kB).
const records = NAMES.map((_, i) => syntheticCifar({ dataset: 'cifar10', split: 'train', count: 8, seed: `file${i}`, noise: 80 }));
const fileBytes = records.map((r) => encodeCifarRecords('cifar10', r));
const ARCHIVE = gzipSync(
  packTar([
    ...NAMES.map((name, i) => ({ name: `${FOLDER}/${name}`, data: fileBytes[i] })),
    { name: `${FOLDER}/batches.meta.txt`, data: Buffer.from('a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n') },
  ]),
);
const MD5 = createHash('md5').update(ARCHIVE).digest('hex');

/** What the server does with the next requests (reset per test). */
const behaviour = { cutFirstAfter: 0, ignoreRange: false, status: 200 };
const requests: { range: string | undefined }[] = [];

let server: Server;
let base = '';

function handle(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  requests.push({ range: req.headers.range });
  if (behaviour.status !== 200) {
    res.writeHead(behaviour.status);
    res.end('no');
    return;
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range && !behaviour.ignoreRange) {
    const start = Number(range[1]);
    if (start >= ARCHIVE.length) {
      res.writeHead(416, { 'Content-Range': `bytes */${ARCHIVE.length}` });
      res.end();
      return;
    }
    res.writeHead(206, { 'Content-Length': ARCHIVE.length - start, 'Content-Range': `bytes ${start}-${ARCHIVE.length - 1}/${ARCHIVE.length}` });
    res.end(ARCHIVE.subarray(start));
    return;
  }
  res.writeHead(200, { 'Content-Length': ARCHIVE.length });
  if (behaviour.cutFirstAfter > 0) {
    const n = behaviour.cutFirstAfter;
    behaviour.cutFirstAfter = 0; // only the first transfer is cut
    // Send n bytes, wait, then close the connection early. (fetch's web stream drops chunks it has
    // received but not yet handed out when the connection fails, so the wait lets the client write
    // what arrived; the assertions below use the bytes actually kept, whatever they are.)
    res.write(ARCHIVE.subarray(0, n), () => setTimeout(() => res.socket?.end(), 150));
    return;
  }
  res.end(ARCHIVE);
}

test.before(async () => {
  server = createServer(handle);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(async () => {
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
  rmSync(tmp, { recursive: true, force: true });
});
test.before.each(() => {
  Object.assign(behaviour, { cutFirstAfter: 0, ignoreRange: false, status: 200 });
  requests.length = 0;
});

let dirs = 0;
function freshDir(): string {
  return join(tmp, `d${dirs++}`);
}

function spec(md5 = MD5): ArchiveSpec {
  return {
    fileName: 'mini-cifar-10.tar.gz',
    url: `${base}/mini-cifar-10.tar.gz`,
    md5,
    bytes: ARCHIVE.length,
    folder: FOLDER,
    files: NAMES.map((name, i) => ({ name, bytes: fileBytes[i].length })),
  };
}

async function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<string> {
  try {
    await p;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    assert.ok(pattern.test(message), `error message ${JSON.stringify(message)} does not match ${pattern}`);
    return message;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
  return '';
}

function assertUnpacked(dir: string): void {
  const train = loadCifar({ dataset: 'cifar10', split: 'train', dir });
  assert.is(train.length, 40);
  assert.equal(train.images.subarray(0, 8 * 3072), records[0].images);
  assert.equal(Array.from(train.labels.subarray(32)), Array.from(records[4].labels));
  assert.equal(train.labelNames, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
  assert.equal(loadCifar({ dataset: 'cifar10', split: 'test', dir }).images, records[5].images);
  // nothing left besides the data folder: no .part, no archive, no scratch folder
  assert.equal(readdirSync(dir), [FOLDER]);
}

test('a good archive is fetched, verified, unpacked; a second run finds it present and fetches nothing', async () => {
  assert.ok(ARCHIVE.length > 100_000, `archive is ${ARCHIVE.length} bytes`);
  const dir = freshDir();
  const progress: number[] = [];
  const r = await downloadArchive(spec(), { dir, onProgress: (done, total) => { progress.push(done); assert.is(total, ARCHIVE.length); } });
  assert.is(r.status, 'downloaded');
  assert.is(r.fetchedBytes, ARCHIVE.length);
  assert.is(r.folder, join(dir, FOLDER));
  assert.is(progress[progress.length - 1], ARCHIVE.length);
  assert.equal(requests, [{ range: undefined }]);
  assertUnpacked(dir);

  const again = await downloadArchive(spec(), { dir });
  assert.is(again.status, 'present');
  assert.is(requests.length, 1);
});

test('wrong MD5: the error says expected vs got, and the bad file is deleted', async () => {
  const dir = freshDir();
  const wrong = '0123456789abcdef0123456789abcdef';
  await rejectsWith(
    downloadArchive(spec(wrong), { dir }),
    new RegExp(`MD5 mismatch for mini-cifar-10\\.tar\\.gz: expected ${wrong}, got ${MD5} .*The bad file .*mini-cifar-10\\.tar\\.gz\\.part was deleted`),
  );
  assert.equal(readdirSync(dir), []);
});

test('an interrupted transfer keeps its bytes in .part; the next run resumes with a Range request', async () => {
  const dir = freshDir();
  behaviour.cutFirstAfter = 50_000;
  const message = await rejectsWith(downloadArchive(spec(), { dir, retries: 0 }), /the transfer from .* (stopped|ended) after \d+ of \d+ bytes.*kept in .*\.part; run the command again to resume/);
  const kept = Number(/after (\d+) of/.exec(message)?.[1]);
  assert.ok(kept > 0 && kept <= 50_000, `kept ${kept} bytes`);
  assert.equal(readdirSync(dir), ['mini-cifar-10.tar.gz.part']);
  assert.is(statSync(join(dir, 'mini-cifar-10.tar.gz.part')).size, kept);

  const logs: string[] = [];
  const r = await downloadArchive(spec(), { dir, log: (m) => logs.push(m) });
  assert.is(r.status, 'downloaded');
  assert.is(r.fetchedBytes, ARCHIVE.length - kept);
  assert.equal(requests.map((q) => q.range), [undefined, `bytes=${kept}-`]);
  assert.ok(logs.some((m) => m.includes(`at byte ${kept}`)), logs.join('\n'));
  assertUnpacked(dir);
});

test('with retries, an interrupted transfer resumes within the same call', async () => {
  const dir = freshDir();
  behaviour.cutFirstAfter = 30_000;
  const logs: string[] = [];
  const r = await downloadArchive(spec(), { dir, retries: 1, log: (m) => logs.push(m) });
  assert.is(r.status, 'downloaded');
  assert.ok(logs.some((m) => /(stopped|ended) after \d+ of \d+ bytes.*; resuming \(retry 1 of 1\)/.test(m)), logs.join('\n'));
  const kept = Number(/resuming .* at byte (\d+)/.exec(logs.join('\n'))?.[1]);
  assert.ok(kept > 0 && kept <= 30_000, `kept ${kept} bytes`);
  assert.equal(requests.map((q) => q.range), [undefined, `bytes=${kept}-`]);
  assert.is(r.fetchedBytes, ARCHIVE.length);
  assertUnpacked(dir);
});

test('a server that ignores Range: the .part restarts from zero (stale bytes are not kept)', async () => {
  const dir = freshDir();
  behaviour.ignoreRange = true;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'mini-cifar-10.tar.gz.part'), Buffer.alloc(20_000, 0xab)); // wrong bytes
  const logs: string[] = [];
  const r = await downloadArchive(spec(), { dir, log: (m) => logs.push(m) });
  assert.is(r.fetchedBytes, ARCHIVE.length);
  assert.equal(requests.map((q) => q.range), ['bytes=20000-']);
  assert.ok(logs.some((m) => /ignored the range request; restarting/.test(m)), logs.join('\n'));
  assertUnpacked(dir);
});

test('a complete .part from an earlier run is verified without a request; an archive copied by hand is unpacked', async () => {
  const dir = freshDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'mini-cifar-10.tar.gz.part'), ARCHIVE);
  assert.is((await downloadArchive(spec(), { dir })).status, 'downloaded');
  assert.is(requests.length, 0);
  assertUnpacked(dir);

  const dir2 = freshDir();
  mkdirSync(dir2, { recursive: true });
  writeFileSync(join(dir2, 'mini-cifar-10.tar.gz'), ARCHIVE);
  const r = await downloadArchive(spec(), { dir: dir2, keepArchive: true });
  assert.is(r.status, 'unpacked');
  assert.is(requests.length, 0);
  assert.ok(existsSync(join(dir2, 'mini-cifar-10.tar.gz')));
});

test('HTTP errors, no server, and an archive that lacks an expected file are clear errors', async () => {
  behaviour.status = 404;
  await rejectsWith(downloadArchive(spec(), { dir: freshDir() }), /mini-cifar-10\.tar\.gz answered HTTP 404 Not Found/);

  // A port nobody listens on: open a server, note its port, close it.
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((done) => probe.close(() => done()));
  await rejectsWith(
    downloadArchive(spec(), { dir: freshDir(), url: `http://127.0.0.1:${port}/x.tar.gz` }),
    /cannot reach http:\/\/127\.0\.0\.1:\d+\/x\.tar\.gz: ECONNREFUSED.*Use --url to fetch from a mirror/,
  );

  const dir = freshDir();
  const expectsMore = { ...spec(), files: [...spec().files, { name: 'data_batch_6.bin', bytes: 3073 }] };
  behaviour.status = 200;
  await rejectsWith(downloadArchive(expectsMore, { dir }), /cannot unpack .*: mini-cifar-10\.tar\.gz has no cifar-10-batches-bin\/data_batch_6\.bin; the archive is not the expected one/);
  assert.not.ok(existsSync(join(dir, FOLDER)));
});

test('an archive with the right MD5 that cannot be unpacked: one error naming it once, nothing left behind', async () => {
  const dir = freshDir();
  mkdirSync(dir, { recursive: true });
  const cut = ARCHIVE.subarray(0, ARCHIVE.length >> 1); // as if the published file itself were truncated
  writeFileSync(join(dir, 'mini-cifar-10.tar.gz'), cut);
  const message = await rejectsWith(
    downloadArchive(spec(createHash('md5').update(cut).digest('hex')), { dir }),
    /^download: cannot unpack .*mini-cifar-10\.tar\.gz: the gzip stream ends early .*truncated/,
  );
  assert.is(message.split('mini-cifar-10.tar.gz').length, 2, message); // the archive is named once
  assert.equal(readdirSync(dir), ['mini-cifar-10.tar.gz']); // no scratch folder, no half-filled data folder
});

async function quietly<T>(fn: () => Promise<T>): Promise<{ result: T; out: string }> {
  const out: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void out.push(a.join(' '));
  try {
    return { result: await fn(), out: out.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('CLI: --help, a bad name, synthetic, and the official MD5 checked against what a --url serves', async () => {
  const help = await quietly(() => command.run(['--help']));
  assert.is(help.result, 0);
  assert.match(help.out, /gradlab download cifar10\|cifar100/);
  assert.is((await quietly(() => command.run(['imagenet']))).result, 2);

  const dir = freshDir();
  const synth = await quietly(() => command.run(['synthetic', '--dir', dir, '--train', '20', '--test', '10', '--seed', '3']));
  assert.is(synth.result, 0);
  assert.is(loadCifar({ dataset: 'cifar10', split: 'train', dir }).length, 20);
  assert.match(synth.out, /wrote 7 files/);

  // The official spec's MD5 does not match the mini archive: the CLI fails and removes the download.
  const dir2 = freshDir();
  await quietly(() => rejectsWith(command.run(['cifar10', '--dir', dir2, '--url', `${base}/c10.tar.gz`]), /MD5 mismatch for cifar-10-binary\.tar\.gz: expected c32a1d4ab5d03f1284b67883e8d87530/));
  assert.equal(readdirSync(dir2), []);
});

test.run();
