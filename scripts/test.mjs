#!/usr/bin/env node
/**
 * `npm test`: the whole check, in the order a reader would want it.
 *
 *   1. typecheck        tsc --noEmit over src, test and bench; and the browser wing (tsconfig.browser.json)
 *   2. every test file  uvu, with the gpu backend in `webasm` mode (runs on any machine), but the browser pass;
 *                       the memory test (RSS readings) in a process of its own, in this pass and in pass 3
 *   3. the gpu files    test/gpu-*.test.ts again with the gpu backend in `headlessgl` mode (GL:
 *                       Mesa llvmpipe, or a real GPU) under `xvfb-run`, when xvfb-run exists and the
 *                       `gl` package is built; otherwise one line says the GL mode was skipped and why
 *   4. the browser pass test/browser.test.ts: the op table in Chromium (WebGL2; SwiftShader without a
 *                       GPU), the lab page and its training; without Chromium one line says why and
 *                       none of its tests runs (GRADLAB_SKIP_BROWSER=1 skips it too)
 *
 * It ends with a line `N passed, N failed` (tests of both passes, plus the typecheck as one check)
 * and exits non-zero on any failure. GRADLAB_SKIP_GL=1 skips pass 3.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const ALL_TESTS = '\\.test\\.ts$';
const GPU_TESTS = '^gpu-.*\\.test\\.ts$';
const BROWSER_TESTS = '^browser.*\\.test\\.ts$';
// The memory test reads the process's RSS: it runs in a process of its own, so what earlier test
// files left for the garbage collector and glibc to return does not move its readings.
const MEMORY_TESTS = '^gpu-memory\\.test\\.ts$';

/** Runs a command with its output shown as it comes, and returns the exit code and the output. */
function run(command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (stream) => (chunk) => {
      out += chunk;
      stream.write(chunk);
    };
    child.stdout.on('data', take(process.stdout));
    child.stderr.on('data', take(process.stderr));
    child.on('error', (e) => {
      out += String(e);
      resolve({ code: 127, out });
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out }));
  });
}

/** uvu's closing lines as counts: "Total" counts the tests that ran (skipped ones are apart). */
function uvuCounts(label, { code, out }) {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const count = (word) => {
    const m = [...plain.matchAll(new RegExp(`^\\s*${word}:\\s+(\\d+)`, 'gm'))].pop();
    return m ? Number(m[1]) : null;
  };
  const total = count('Total');
  const passed = count('Passed');
  const skipped = count('Skipped') ?? 0;
  if (total === null || passed === null) {
    console.log(`${label}: the test runner stopped before its summary (exit code ${code}); counted as 1 failure`);
    return { passed: 0, failed: 1, skipped: 0 };
  }
  let failed = total - passed;
  if (code !== 0 && failed === 0) {
    console.log(`${label}: the test runner exited with code ${code} although every test passed (a file failed to load?); counted as 1 failure`);
    failed = 1;
  }
  return { passed, failed, skipped };
}

/** Two runs' counts as one. */
function sumCounts(a, b) {
  return { passed: a.passed + b.passed, failed: a.failed + b.failed, skipped: a.skipped + b.skipped };
}

/** Why the GL pass cannot run here, or null when it can. */
function glUnavailable() {
  if (process.env.GRADLAB_SKIP_GL === '1') return 'GRADLAB_SKIP_GL=1';
  if (spawnSync('sh', ['-c', 'command -v xvfb-run'], { stdio: 'ignore' }).status !== 0) return 'xvfb-run is not installed (apt-get install xvfb xauth)';
  try {
    createRequire(join(root, 'package.json'))('gl');
  } catch (e) {
    return `the gl package is not built (${String(e instanceof Error ? e.message : e).split('\n')[0]}); its build needs libxi-dev libglu1-mesa-dev libglew-dev pkg-config, python3, make, g++`;
  }
  return null;
}

const results = [];

console.log('── typecheck (tsc --noEmit) ──');
const tscNode = await run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit'], {});
const tscBrowser = await run(bin('tsc'), ['-p', 'tsconfig.browser.json'], {});
const tsc = { code: tscNode.code || tscBrowser.code };
console.log(tsc.code === 0 ? 'typecheck: ok' : 'typecheck: FAILED');
results.push({ label: 'typecheck', passed: tsc.code === 0 ? 1 : 0, failed: tsc.code === 0 ? 0 : 1, skipped: 0 });

console.log('\n── tests, gpu backend in webasm mode ──');
const webasm = await run(bin('uvu'), ['-r', 'tsx', 'test', ALL_TESTS, '-i', 'browser', '-i', 'gpu-memory'], { GRADLAB_GPU_MODE: 'webasm' });
const webasmMemory = await run(bin('uvu'), ['-r', 'tsx', 'test', MEMORY_TESTS], { GRADLAB_GPU_MODE: 'webasm' });
results.push({ label: 'tests (webasm)', ...sumCounts(uvuCounts('tests (webasm)', webasm), uvuCounts('memory test (webasm)', webasmMemory)) });

const whyNot = glUnavailable();
if (whyNot === null) {
  console.log('\n── gpu tests again, gpu backend in headlessgl mode (xvfb-run) ──');
  // glibc keeps llvmpipe's freed texture buffers unless large blocks are mmap'd (GPUJS.md §8.1.5).
  const glEnv = { GRADLAB_GPU_MODE: 'headlessgl', MALLOC_MMAP_THRESHOLD_: '131072' };
  const xvfb = ['-a', '-s', '-screen 0 1280x1024x24', bin('uvu'), '-r', 'tsx', 'test'];
  const gl = await run('xvfb-run', [...xvfb, GPU_TESTS, '-i', 'gpu-memory'], glEnv);
  const glMemory = await run('xvfb-run', [...xvfb, MEMORY_TESTS], glEnv);
  results.push({ label: 'gpu tests (headlessgl)', ...sumCounts(uvuCounts('gpu tests (headlessgl)', gl), uvuCounts('memory test (headlessgl)', glMemory)) });
} else {
  console.log(`\nGL mode skipped: ${whyNot}; the gpu tests ran in webasm mode only`);
}

console.log('\n── browser pass: Chromium (WebGL2), the op table and the lab page ──');
const browser = await run(bin('uvu'), ['-r', 'tsx', 'test', BROWSER_TESTS], {});
results.push({ label: 'browser tests (Chromium)', ...uvuCounts('browser tests (Chromium)', browser) });

console.log('');
for (const r of results) console.log(`${r.label}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`);
const passed = results.reduce((s, r) => s + r.passed, 0);
const failed = results.reduce((s, r) => s + r.failed, 0);
const skipped = results.reduce((s, r) => s + r.skipped, 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);
