/**
 * `npm run lab` without a browser: --build writes the page as static files, the server answers on
 * 127.0.0.1 with the cross-origin-isolation headers (so the page may use SharedArrayBuffer), serves
 * ./data, and refuses paths that leave its folders. (test/browser.test.ts loads the page in Chromium.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../src/node/lab/bundle.js';
import { serveStatic } from '../src/node/lab/server.js';

test('npm run lab -- --build DIR writes index.html, page.js and worker.js', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'gradlab-lab-build-')), 'site');
  const r = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), ['src/node/lab/main.ts', '--build', dir], { cwd: ROOT, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  for (const f of ['index.html', 'page.js', 'worker.js']) assert.ok(existsSync(join(dir, f)), `${f} written`);
  assert.ok(r.stdout.includes('wrote the page to'), r.stdout);
});

test('npm run lab: a bad option is one clear error', () => {
  const r = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), ['src/node/lab/main.ts', '--port', 'eighty'], { cwd: ROOT, encoding: 'utf8' });
  assert.is(r.status, 1);
  assert.ok(r.stderr.includes('--port must be a port number'), r.stderr);
});

test('the lab server: 127.0.0.1, COOP/COEP headers, ./data served, nothing outside its folders', async () => {
  const root = mkdtempSync(join(tmpdir(), 'gradlab-lab-serve-'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>x</title>');
  const data = join(root, 'data-dir');
  mkdirSync(join(data, 'cifar-10-batches-bin'), { recursive: true });
  writeFileSync(join(data, 'cifar-10-batches-bin', 'data_batch_1.bin'), new Uint8Array([1, 2, 3]));
  const server = await serveStatic(root, { dataDir: data });
  try {
    assert.ok(server.url.startsWith('http://127.0.0.1:'), server.url);
    const page = await fetch(server.url);
    assert.is(page.status, 200);
    assert.is(page.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.is(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
    const bin = await fetch(`${server.url}data/cifar-10-batches-bin/data_batch_1.bin`);
    assert.equal([...new Uint8Array(await bin.arrayBuffer())], [1, 2, 3]);
    assert.is((await fetch(`${server.url}..%2f..%2fetc%2fpasswd`)).status, 404);
    assert.is((await fetch(`${server.url}data/..%2f..%2fetc%2fpasswd`)).status, 404);
    assert.is((await fetch(`${server.url}nothing.js`)).status, 404);
  } finally {
    await server.close();
  }
});

test.run();
