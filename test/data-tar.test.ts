/** The tar.gz reader: exact round trips at block boundaries, GNU/pax long names, and refusals. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { extractTarGz, packTar } from '../src/node/data.js';
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

test.run();
