/** The CIFAR binary reader: exact round trips, label ranges, every bad-file case, the synthetic generator. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CIFAR_IMAGE_BYTES,
  classCounts,
  decodeCifarRecords,
  encodeCifarRecords,
  loadCifar,
  readCifarFile,
  syntheticCifar,
  writeSyntheticCifar,
} from '../src/node/data.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradlab-data-cifar-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function throwsWith(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    assert.match(message, pattern);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

test('CIFAR-10 records round-trip exactly through a file', () => {
  const records = syntheticCifar({ dataset: 'cifar10', split: 'train', count: 37, seed: 3 });
  const path = join(tmp, 'rt10.bin');
  const bytes = encodeCifarRecords('cifar10', records);
  assert.is(bytes.length, 37 * 3073);
  // byte layout: label first, then the 3072 pixels of the record
  assert.is(bytes[3073 * 5], records.labels[5]);
  assert.is(bytes[3073 * 5 + 1 + 1000], records.images[5 * 3072 + 1000]);
  writeFileSync(path, bytes);
  const back = readCifarFile('cifar10', path);
  assert.equal(back.labels, records.labels);
  assert.equal(back.images, records.images);
  assert.is(back.coarseLabels, undefined);
});

test('CIFAR-100 records round-trip exactly, coarse byte first then fine', () => {
  const records = syntheticCifar({ dataset: 'cifar100', split: 'test', count: 203, seed: 'x' });
  const bytes = encodeCifarRecords('cifar100', records);
  assert.is(bytes.length, 203 * 3074);
  assert.is(bytes[3074 * 7], records.coarseLabels?.[7]);
  assert.is(bytes[3074 * 7 + 1], records.labels[7]);
  const back = decodeCifarRecords('cifar100', bytes, 'mem');
  assert.equal(back.labels, records.labels);
  assert.equal(back.coarseLabels, records.coarseLabels);
  assert.equal(back.images, records.images);
});

test('synthetic sets are balanced, in range, and a function of the seed', () => {
  const a = syntheticCifar({ dataset: 'cifar10', split: 'train', count: 1003, seed: 1 });
  const b = syntheticCifar({ dataset: 'cifar10', split: 'train', count: 1003, seed: 1 });
  const c = syntheticCifar({ dataset: 'cifar10', split: 'train', count: 1003, seed: 2 });
  assert.equal(a.images, b.images);
  assert.equal(a.labels, b.labels);
  assert.not.equal(a.images, c.images);
  assert.equal(classCounts({ labels: a.labels, classes: 10 }), [101, 101, 101, 100, 100, 100, 100, 100, 100, 100]);
  const fine = syntheticCifar({ dataset: 'cifar100', split: 'train', count: 500, seed: 1 });
  assert.ok(fine.labels.every((l) => l < 100));
  assert.ok(fine.coarseLabels?.every((cl, i) => cl === Math.floor(fine.labels[i] / 5)));
  assert.equal(classCounts({ labels: fine.labels, classes: 100 }), new Array(100).fill(5));
});

test('writeSyntheticCifar writes the official layout; loadCifar reads it from the data dir or the folder', () => {
  const dir = join(tmp, 'official10');
  const { folder, files } = writeSyntheticCifar({ dataset: 'cifar10', dir, train: 52, test: 11, seed: 4 });
  assert.is(folder, join(dir, 'cifar-10-batches-bin'));
  assert.equal(files.map((f) => f.slice(folder.length + 1)), [
    'data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin', 'batches.meta.txt',
  ]);
  const train = loadCifar({ dataset: 'cifar10', split: 'train', dir });
  assert.is(train.length, 52);
  assert.is(train.images.length, 52 * CIFAR_IMAGE_BYTES);
  assert.equal(train.imageShape, [3, 32, 32]);
  assert.is(train.classes, 10);
  assert.is(train.labelNames?.[3], 'synthetic_3');
  const expected = syntheticCifar({ dataset: 'cifar10', split: 'train', count: 52, seed: 4 });
  assert.equal(train.images, expected.images); // five files concatenated in the official order
  assert.equal(train.labels, expected.labels);
  const test10 = loadCifar({ dataset: 'cifar10', split: 'test', dir: folder });
  assert.is(test10.length, 11);
  throwsWith(() => writeSyntheticCifar({ dataset: 'cifar10', dir }), /already exists; choose another directory or pass force/);
});

test('CIFAR-100: fine labels by default, coarse on request, both kept', () => {
  const dir = join(tmp, 'official100');
  writeSyntheticCifar({ dataset: 'cifar100', dir, train: 300, test: 100, seed: 5 });
  const fine = loadCifar({ dataset: 'cifar100', split: 'train', dir });
  assert.is(fine.classes, 100);
  assert.is(fine.labelKind, 'fine');
  assert.is(fine.labelNames?.length, 100);
  assert.is(fine.coarseLabelNames?.length, 20);
  assert.ok(fine.labels.every((l) => l < 100));
  const coarse = loadCifar({ dataset: 'cifar100', split: 'train', dir, label: 'coarse' });
  assert.is(coarse.classes, 20);
  assert.is(coarse.labelNames?.[0], 'synthetic_group_0');
  assert.equal(coarse.labels, fine.coarseLabels);
  assert.equal(coarse.fineLabels, fine.labels);
  throwsWith(() => loadCifar({ dataset: 'cifar10', split: 'train', dir, label: 'coarse' }), /label 'coarse' exists only in CIFAR-100/);
});

test('explicit files load in the order given, whatever their names', () => {
  const a = syntheticCifar({ dataset: 'cifar10', split: 'train', count: 3, seed: 'a' });
  const b = syntheticCifar({ dataset: 'cifar10', split: 'train', count: 5, seed: 'b' });
  writeFileSync(join(tmp, 'part_a.bin'), encodeCifarRecords('cifar10', a));
  writeFileSync(join(tmp, 'part_b.bin'), encodeCifarRecords('cifar10', b));
  const ds = loadCifar({ dataset: 'cifar10', split: 'test', files: [join(tmp, 'part_b.bin'), join(tmp, 'part_a.bin')] });
  assert.is(ds.length, 8);
  assert.equal(Array.from(ds.labels), [...b.labels, ...a.labels]);
  assert.equal(ds.images.subarray(5 * 3072), a.images);
  assert.is(ds.labelNames, undefined); // no batches.meta.txt beside them
});

test('bad files: size not a whole number of records, empty, labels out of range, missing', () => {
  const good = encodeCifarRecords('cifar10', syntheticCifar({ dataset: 'cifar10', split: 'train', count: 2, seed: 0 }));
  const truncated = join(tmp, 'truncated.bin');
  writeFileSync(truncated, good.subarray(0, 2 * 3073 - 7));
  throwsWith(() => readCifarFile('cifar10', truncated), /truncated\.bin: 6139 bytes is not a whole number of 3073-byte CIFAR-10 records \(1 records \+ 3066 bytes\)/);
  // a CIFAR-10 file read as CIFAR-100 has the wrong record size too
  const ten = join(tmp, 'ten.bin');
  writeFileSync(ten, good);
  throwsWith(() => readCifarFile('cifar100', ten), /ten\.bin: 6146 bytes is not a whole number of 3074-byte CIFAR-100 records/);

  const empty = join(tmp, 'empty.bin');
  writeFileSync(empty, new Uint8Array(0));
  throwsWith(() => readCifarFile('cifar10', empty), /empty\.bin: the file is empty/);

  const badLabel = Uint8Array.from(good);
  badLabel[3073] = 10; // record 1's label
  const badPath = join(tmp, 'label10.bin');
  writeFileSync(badPath, badLabel);
  throwsWith(() => readCifarFile('cifar10', badPath), /label10\.bin: record 1 \(byte 3073\) has label 10; CIFAR-10 labels are 0\.\.9/);

  const hundred = encodeCifarRecords('cifar100', syntheticCifar({ dataset: 'cifar100', split: 'train', count: 3, seed: 0 }));
  const badFine = Uint8Array.from(hundred);
  badFine[2 * 3074 + 1] = 100;
  throwsWith(() => decodeCifarRecords('cifar100', badFine, 'f.bin'), /f\.bin: record 2 \(byte 6149\) has fine label 100; CIFAR-100 labels are 0\.\.99/);
  const badCoarse = Uint8Array.from(hundred);
  badCoarse[3074] = 20;
  throwsWith(() => decodeCifarRecords('cifar100', badCoarse, 'c.bin'), /c\.bin: record 1 \(byte 3074\) has coarse label 20; CIFAR-100 coarse labels are 0\.\.19/);

  throwsWith(() => readCifarFile('cifar10', join(tmp, 'nope.bin')), /nope\.bin: cannot read CIFAR-10 file: no such file/);
  throwsWith(() => loadCifar({ dataset: 'cifar10', split: 'train', files: [ten, join(tmp, 'nope.bin')] }), /nope\.bin: cannot read/);
});

test('nothing half-loaded: one bad file among good ones fails the whole load', () => {
  const dir = join(tmp, 'broken');
  const { folder } = writeSyntheticCifar({ dataset: 'cifar10', dir, train: 10, test: 2, seed: 6 });
  writeFileSync(join(folder, 'data_batch_4.bin'), new Uint8Array(3073 + 1));
  throwsWith(() => loadCifar({ dataset: 'cifar10', split: 'train', dir }), /data_batch_4\.bin: 3074 bytes is not a whole number/);
  assert.is(loadCifar({ dataset: 'cifar10', split: 'test', dir }).length, 2); // the test split is unaffected
  unlinkSync(join(folder, 'data_batch_3.bin'));
  unlinkSync(join(folder, 'data_batch_4.bin'));
  throwsWith(
    () => loadCifar({ dataset: 'cifar10', split: 'train', dir }),
    /CIFAR-10 train files missing: .*data_batch_3\.bin, .*data_batch_4\.bin\. Download the data set with 'gradlab download cifar10'/,
  );
  throwsWith(() => loadCifar({ dataset: 'cifar10', split: 'test', dir: join(tmp, 'no-such-dir') }), /test file missing: .*cifar-10-batches-bin[/\\]test_batch\.bin/);
});

test('argument errors name the option', () => {
  throwsWith(() => loadCifar({ dataset: 'cifar1000' as 'cifar10', split: 'train' }), /loadCifar: dataset must be 'cifar10' or 'cifar100'; got "cifar1000"/);
  throwsWith(() => loadCifar({ dataset: 'cifar10', split: 'val' as 'train' }), /loadCifar: split must be 'train' or 'test'; got "val"/);
  throwsWith(() => loadCifar({ dataset: 'cifar10', split: 'train', files: [] }), /files is empty/);
  throwsWith(() => encodeCifarRecords('cifar100', { images: new Uint8Array(3072), labels: new Uint8Array(1) }), /needs 1 coarse labels; got none/);
});

test.run();
