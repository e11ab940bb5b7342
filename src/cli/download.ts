/**
 * `gradlab download cifar10|cifar100` fetches an official archive, checks its MD5 and unpacks it;
 * `gradlab download synthetic` writes a small synthetic set in the same format, for offline demos.
 */
import { relative } from 'node:path';
import { CIFAR_ARCHIVES, downloadCifar } from '../node/download.js';
import { defaultDataDir } from '../node/cifar-files.js';
import { writeSyntheticCifar } from '../node/synthetic-files.js';
import type { CifarName } from '../data/cifar.js';
import { ProgressBar } from '../util/progress.js';
import { numberOption, parse, type Command } from './command.js';

const HELP = `usage: gradlab download cifar10|cifar100 [options]
       gradlab download synthetic [options]

cifar10 / cifar100: fetch the official binary archive, verify its published MD5, unpack it.
  --dir DIR          data directory (default $GRADLAB_DATA or ./data); the files land in
                     DIR/${CIFAR_ARCHIVES.cifar10.folder} or DIR/${CIFAR_ARCHIVES.cifar100.folder}
  --url URL          fetch the archive from URL instead of the official address (a mirror;
                     the MD5 must still match)
  --retries N        resume an interrupted transfer up to N times (default 3)
  --keep-archive     keep the .tar.gz after unpacking
  Nothing is fetched when the files are already there with the right sizes. An interrupted
  download leaves DIR/<archive>.part, which the next run resumes; a download whose MD5 is wrong
  is deleted, while an archive you copied there yourself is kept and named with both sums. Official archives: ${CIFAR_ARCHIVES.cifar10.url} (${CIFAR_ARCHIVES.cifar10.bytes} bytes),
  ${CIFAR_ARCHIVES.cifar100.url} (${CIFAR_ARCHIVES.cifar100.bytes} bytes).

synthetic: write a small learnable data set in the official layout and format, no network needed
(each class is a blocky colour prototype plus noise).
  --like cifar10|cifar100   which format and class count (default cifar10)
  --dir DIR          data directory (default ./data/synthetic); use it as --data DIR when training
  --train N          training images (default 5000)
  --test N           test images (default 1000)
  --seed S           seed of the generator (default 0)
  --force            overwrite an existing folder`;

export const command: Command = {
  name: 'download',
  help: HELP,
  async run(argv) {
    const args = parse(this, argv, {
      dir: { type: 'string' },
      url: { type: 'string' },
      retries: { type: 'string' },
      'keep-archive': { type: 'boolean' },
      like: { type: 'string' },
      train: { type: 'string' },
      test: { type: 'string' },
      seed: { type: 'string' },
      force: { type: 'boolean' },
    }, true);
    if (args === null) return 0;
    const { values, positionals } = args;
    const what = positionals[0];
    if (positionals.length !== 1 || (what !== 'cifar10' && what !== 'cifar100' && what !== 'synthetic')) {
      console.error(`download: name one data set: cifar10, cifar100 or synthetic; got ${positionals.length ? positionals.map((p) => `'${p}'`).join(' ') : 'none'}\n\n${HELP}`);
      return 2;
    }

    if (what === 'synthetic') {
      const like = values.like ?? 'cifar10';
      if (like !== 'cifar10' && like !== 'cifar100') throw new Error(`download: --like must be cifar10 or cifar100; got '${like}'`);
      const count = (name: string, v: string | undefined, d: number) => numberOption('download', name, v, d, (n) => Number.isInteger(n) && n >= 5, 'an integer ≥ 5');
      const dir = values.dir ?? 'data/synthetic';
      const { folder, files } = writeSyntheticCifar({
        dataset: like,
        dir,
        train: count('train', values.train, 5000),
        test: count('test', values.test, 1000),
        seed: values.seed ?? 0,
        force: values.force ?? false,
      });
      console.log(`synthetic ${like}: wrote ${files.length} files to ${relative('.', folder) || '.'} (train with --data ${dir})`);
      return 0;
    }

    const dataset: CifarName = what;
    const spec = CIFAR_ARCHIVES[dataset];
    let bar: ProgressBar | null = null;
    const mb = (bytes: number) => Math.floor(bytes / 1e6);
    const result = await downloadCifar(dataset, {
      dir: values.dir ?? defaultDataDir(),
      url: values.url,
      keepArchive: values['keep-archive'] ?? false,
      retries: numberOption('download', 'retries', values.retries, 3, (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0'),
      log: (m) => console.error(m),
      onProgress: (done, total) => {
        bar ??= new ProgressBar({ label: spec.fileName, total: mb(total || spec.bytes || 1), unit: 'MB' });
        bar.update(mb(done));
      },
    });
    const where = relative('.', result.folder) || '.';
    if (result.status === 'present') console.log(`${dataset}: already present in ${where}; nothing to do`);
    else console.log(`${dataset}: ${result.status === 'downloaded' ? `fetched ${mb(result.fetchedBytes)} MB, ` : ''}verified and unpacked into ${where}`);
    return 0;
  },
};
