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
    // The tour's comments claim numbers; print them so the test holds the README to them.
    const claims = [
      "console.log('tour ok', report.ok, model.numParameters());",
      "console.log('retainGrad', Array.from(v.grad!.toArray()).join(','), Array.from(u.grad!.toArray()).join(','), String(v).split(' [')[0]);",
      "console.log('toDot', g.toDot(loss).startsWith('digraph gradlab {'), 'customGrad', Array.from(q.grad!.toArray()).join(','));",
      "let threw = ''; try { saved.backward(); } catch (e) { threw = (e as Error).message.slice(0, 40); } console.log('version', threw);",
      "console.log('adam', Array.from(theta.toArray(), (t) => t.toFixed(6)).join(','));",
      "console.log('bn keys', ['features.1.running_mean', 'features.1.running_var', 'features.1.num_batches_tracked'].every((k) => model.namedBuffers().some(([n]) => n === k)));",
    ];
    writeFileSync(file, source + '\n' + claims.join('\n') + '\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', GRADLAB_GPU_MODE: process.env.GRADLAB_GPU_MODE ?? 'webasm' } });
    assert.match(out, /tour ok true 1194888/, out);
    assert.match(out, /retainGrad 4,8,12 8,16,24 Tensor\(\[3\], float64, reference, gradFn: mul\)/, out);
    assert.match(out, /toDot true customGrad 1,1/, out);
    assert.match(out, /version backward: 'mul' saved its input 'a'/, out);
    assert.match(out, /adam 0\.900000,-1\.900000/, out);
    assert.match(out, /bn keys true/, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
