/** The README's API tour runs as written (the TypeScript blocks that need no data files). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';

test('the README tour (tensors, autograd, gradcheck, gpu, nn, models, optim) runs', () => {
  const readme = readFileSync('README.md', 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => !b.includes('g.data.'));
  assert.ok(blocks.length >= 2, 'the README has TypeScript examples');
  const source = blocks.join('\n').replace("from 'gradlab'", `from '${resolve('src/index.ts')}'`);
  const dir = mkdtempSync(join(tmpdir(), 'gradlab-readme-'));
  try {
    const file = join(dir, 'tour.ts');
    writeFileSync(file, source + "\nconsole.log('tour ok', report.ok, model.numParameters());\n");
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', GRADLAB_GPU_MODE: process.env.GRADLAB_GPU_MODE ?? 'webasm' } });
    assert.match(out, /tour ok true 1194888/, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
