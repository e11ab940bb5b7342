/**
 * The tar.gz reader (node-tar under gradlab's rules): exact round trips at block boundaries, GNU/pax
 * long names, an archive made by GNU tar in the official CIFAR layout, refusals, and truncated or
 * corrupt archives.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { x as tarExtract } from 'tar';
import { extractTarGz, loadCifar, packTar, writeSyntheticCifar } from '../src/node/data.js';
import { randomStream } from '../src/tensor/random.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradlab-data-tar-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function bytes(n: number, seed: string): Uint8Array {
  const rng = randomStream(seed);
  return Uint8Array.from({ length: n }, () => rng.int(256));
}

async function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    assert.ok(pattern.test(message), `error message ${JSON.stringify(message)} does not match ${pattern}`);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

test('files of 0, 1, 511, 512, 513 and 70 000 bytes round-trip exactly, in nested folders', async () => {
  const entries = [0, 1, 511, 512, 513, 70_000].map((n, i) => ({ name: `top/sub${i % 2}/f${n}.bin`, data: bytes(n, `f${n}`) }));
  const archive = join(tmp, 'a.tar.gz');
  writeFileSync(archive, gzipSync(packTar(entries)));
  const out = join(tmp, 'a');
  const files = await extractTarGz(archive, out);
  assert.equal(files, entries.map((e) => ({ name: e.name, bytes: e.data.length })));
  for (const e of entries) assert.equal(new Uint8Array(readFileSync(join(out, e.name))), e.data);
});

/** A raw ustar header block (the writer above only makes plain files). */
function header(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'utf8');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0' + '00', 257, 'ascii');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}
const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

test('GNU long names (L), pax paths (x) and directory entries (5) are honoured', async () => {
  const longName = 'cifar-10-batches-bin/' + 'n'.repeat(120) + '.bin';
  const paxPath = 'cifar-10-batches-bin/from-pax.bin';
  const paxRecord = ` path=${paxPath}\n`;
  const paxText = `${paxRecord.length + String(paxRecord.length + 2).length}${paxRecord}`;
  const archive = Buffer.concat([
    header('cifar-10-batches-bin/', 0, '5'),
    header('././@LongLink', longName.length, 'L'), pad(Buffer.from(longName)),
    header('short', 3, '0'), pad(Buffer.from('abc')),
    header('PaxHeaders/x', paxText.length, 'x'), pad(Buffer.from(paxText)),
    header('truncated-name', 2, '0'), pad(Buffer.from('hi')),
    Buffer.alloc(1024),
  ]);
  writeFileSync(join(tmp, 'b.tar.gz'), gzipSync(archive));
  const files = await extractTarGz(join(tmp, 'b.tar.gz'), join(tmp, 'b'));
  assert.equal(files, [{ name: longName, bytes: 3 }, { name: paxPath, bytes: 2 }]);
  assert.is(readFileSync(join(tmp, 'b', longName), 'utf8'), 'abc');
  assert.is(readFileSync(join(tmp, 'b', paxPath), 'utf8'), 'hi');
});

test('names escaping the target are refused; corrupt and truncated archives are errors', async () => {
  writeFileSync(join(tmp, 'evil.tar.gz'), gzipSync(packTar([{ name: '../evil.txt', data: Buffer.from('x') }])));
  await rejectsWith(extractTarGz(join(tmp, 'evil.tar.gz'), join(tmp, 'evil')), /refusing the archive entry '\.\.\/evil\.txt'/);
  assert.not.ok(existsSync(join(tmp, 'evil.txt')));
  writeFileSync(join(tmp, 'abs.tar.gz'), gzipSync(packTar([{ name: '/tmp/abs.txt', data: Buffer.from('x') }])));
  await rejectsWith(extractTarGz(join(tmp, 'abs.tar.gz'), join(tmp, 'abs')), /refusing the archive entry '\/tmp\/abs\.txt'/);

  const tar = Buffer.from(packTar([{ name: 'a.bin', data: bytes(2000, 'c') }]));
  const corrupt = Buffer.from(tar);
  corrupt[10] ^= 0xff; // inside the name field: the checksum no longer matches
  writeFileSync(join(tmp, 'corrupt.tar.gz'), gzipSync(corrupt));
  await rejectsWith(extractTarGz(join(tmp, 'corrupt.tar.gz'), join(tmp, 'corrupt')), /bad tar header checksum after 0 files/);
  writeFileSync(join(tmp, 'short.tar.gz'), gzipSync(tar.subarray(0, 512 + 1000)));
  await rejectsWith(extractTarGz(join(tmp, 'short.tar.gz'), join(tmp, 'short')), /ends in the middle of 'a\.bin' \(1000 of 2000 bytes\)/);
  writeFileSync(join(tmp, 'notgz.tar.gz'), tar);
  await rejectsWith(extractTarGz(join(tmp, 'notgz.tar.gz'), join(tmp, 'notgz')), /incorrect header check/);
});

const hasTar = spawnSync('tar', ['--version'], { stdio: 'ignore' }).status === 0;
const withTar = hasTar ? test : test.skip;
if (!hasTar) console.log('data-tar: no tar command on this machine; skipping the tests on archives made by tar');

/**
 * An archive as `tar -czf` makes it: the official cifar-10-batches-bin folder (a small synthetic
 * set), plus an extras folder with a name over 100 bytes (GNU tar writes an 'L' entry for it) and
 * a symbolic link pointing out of the target (which must not be created).
 */
function gnuArchive(): { archive: string; source: string; longName: string } {
  const source = join(tmp, 'gnu-src');
  writeSyntheticCifar({ dataset: 'cifar10', dir: source, train: 12, test: 4, seed: 'gnu' });
  const longName = `extras/${'x'.repeat(110)}.txt`;
  mkdirSync(join(source, 'extras'));
  writeFileSync(join(source, longName), 'long name\n');
  symlinkSync('../../outside.txt', join(source, 'extras', 'escape-link'));
  const archive = join(tmp, 'gnu.tar.gz');
  execFileSync('tar', ['-czf', archive, '-C', source, 'cifar-10-batches-bin', 'extras']);
  return { archive, source, longName };
}
let gnu: ReturnType<typeof gnuArchive> | undefined;
const gnuOnce = (): ReturnType<typeof gnuArchive> => (gnu ??= gnuArchive());

withTar('an archive made by tar -czf in the official layout unpacks byte for byte; links are not created', async () => {
  const { archive, source, longName } = gnuOnce();
  const out = join(tmp, 'gnu-out');
  const files = await extractTarGz(archive, out);
  const folder = 'cifar-10-batches-bin';
  const official = ['batches.meta.txt', 'data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
  const expected = [...official.map((name) => `${folder}/${name}`), longName].sort();
  assert.equal(files.map((f) => f.name).sort(), expected);
  for (const f of files) {
    const want = readFileSync(join(source, f.name));
    assert.is(f.bytes, want.length, f.name);
    assert.equal(readFileSync(join(out, f.name)), want, f.name);
  }
  assert.equal(readdirSync(join(out, 'extras')), ['x'.repeat(110) + '.txt']); // no escape-link
  const unpacked = loadCifar({ dataset: 'cifar10', split: 'train', dir: out });
  const original = loadCifar({ dataset: 'cifar10', split: 'train', dir: source });
  assert.is(unpacked.length, 12);
  assert.equal(unpacked.images, original.images);
  assert.equal(unpacked.labels, original.labels);
});

withTar('a truncated and a corrupt .tar.gz are errors naming the archive', async () => {
  const { archive } = gnuOnce();
  const whole = readFileSync(archive);
  assert.ok(whole.length > 20_000, `archive is ${whole.length} bytes`);

  const cut = join(tmp, 'gnu-cut.tar.gz');
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
  await rejectsWith(extractTarGz(cut, join(tmp, 'cut')), /^cannot unpack .*gnu-cut\.tar\.gz: the gzip stream ends early .*the archive is truncated/);

  const corrupt = join(tmp, 'gnu-corrupt.tar.gz');
  const bad = Buffer.from(whole);
  for (let i = 0; i < 16; i++) bad[Math.floor(bad.length / 2) + i] ^= 0x5a;
  writeFileSync(corrupt, bad);
  await rejectsWith(extractTarGz(corrupt, join(tmp, 'corrupt-gnu')), /^cannot unpack .*gnu-corrupt\.tar\.gz: .*(damaged|corrupt)/);
});

test("node-tar's own default, under gradlab's check: '..' entries are skipped and a leading '/' is stripped", async () => {
  writeFileSync(join(tmp, 'raw.tar.gz'), gzipSync(packTar([
    { name: '../escaped.txt', data: Buffer.from('x') },
    { name: '/rooted.txt', data: Buffer.from('y') },
    { name: 'plain.txt', data: Buffer.from('z') },
  ])));
  const cwd = join(tmp, 'raw');
  mkdirSync(cwd);
  const warnings: string[] = [];
  await tarExtract({ file: join(tmp, 'raw.tar.gz'), cwd, onwarn: (code, _message, data) => void warnings.push(`${code} ${String(data.path)}`) });
  assert.not.ok(existsSync(join(tmp, 'escaped.txt')));
  assert.equal(readdirSync(cwd).sort(), ['plain.txt', 'rooted.txt']);
  assert.equal(warnings, ['TAR_ENTRY_ERROR ../escaped.txt', 'TAR_ENTRY_INFO /rooted.txt']);
});

test.run();
