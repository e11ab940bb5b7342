/**
 * The package installs: `npm pack` on a fresh copy of the repository (its files as git lists
 * them, tracked and new, without dist/ — a clone of the working tree; node_modules linked in)
 * builds dist/ in its prepack and gives a tarball with dist/, README and LICENSE; a consumer in an empty folder installs it, imports it, runs `npx gradlab
 * --help`, and typechecks under strict tsc *without* skipLibCheck and without any @types package
 * (so no public type needs a dev-only @types/*). Slow (a build and an install): one test.
 *
 * The install resolves gradlab's runtime dependencies (gpu.js, seedrandom, tar) from the npm cache
 * where it can (--prefer-offline) and from the registry otherwise; install scripts are skipped
 * (gpu.js's optional `gl` then stays unbuilt, and gradlab runs its other modes).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve('.');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cmd: string, args: string[], cwd: string): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', npm_config_update_notifier: 'false' } });

test('npm pack → install in an empty folder → import gradlab, npx gradlab --help, strict tsc without skipLibCheck', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradlab-package-'));
  try {
    // A fresh copy, so the pack neither depends on nor disturbs this tree's dist/.
    const clone = join(dir, 'clone');
    const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root).split('\0').filter((f) => f !== '' && existsSync(join(root, f))); // a tracked file deleted here is not copied
    for (const f of files) {
      mkdirSync(join(clone, f, '..'), { recursive: true });
      cpSync(join(root, f), join(clone, f), { errorOnExist: false, force: true });
    }
    symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
    // stdout holds the prepack build's messages, then npm's JSON report.
    const out = run(npm, ['pack', '--json', '--pack-destination', dir], clone);
    const packed = JSON.parse(out.slice(out.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
    const paths = packed[0].files.map((f) => f.path);
    for (const want of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'README.md', 'LICENSE', 'package.json']) {
      assert.ok(paths.includes(want), `the tarball holds ${want}`);
    }
    assert.not.ok(paths.some((p) => p.startsWith('src/') || p.startsWith('test/')), 'no sources or tests in the tarball');

    const consumer = join(dir, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, packed[0].filename)], consumer);

    const main = [
      "import * as g from 'gradlab';",
      "const x = g.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });",
      'g.sum(g.mul(x, x)).backward();',
      'const grad: Float32Array | Float64Array | undefined = x.grad?.toArray();',
      "const opt: g.optim.Adam = new g.optim.Adam([x], { lr: 0.1 });",
      "console.log('grad', Array.from(grad ?? []).join(','), opt.lr, g.toDot(x).startsWith('digraph'));",
      '',
    ].join('\n');
    writeFileSync(join(consumer, 'main.ts'), main);
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true, types: [] },
        files: ['main.ts'],
      }),
    );
    try {
      run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], consumer);
    } catch (e) {
      const out = e instanceof Error && 'stdout' in e ? String(e.stdout) : String(e);
      assert.unreachable(`strict tsc without skipLibCheck failed in the consumer:\n${out}`);
    }

    // The same program as plain JavaScript (types stripped), run by node from the consumer folder.
    writeFileSync(join(consumer, 'main.mjs'), main.replace(': Float32Array | Float64Array | undefined', '').replace(': g.optim.Adam', ''));
    assert.match(run(process.execPath, ['main.mjs'], consumer), /^grad 2,4,6 0\.1 true$/m);
    assert.match(run('npx', ['--no-install', 'gradlab', '--help'], consumer), /^usage: gradlab <command>/);
    assert.is(JSON.parse(readFileSync(join(consumer, 'node_modules', 'gradlab', 'package.json'), 'utf8')).name, 'gradlab');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
