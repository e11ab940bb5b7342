/**
 * The GPU run (bench/device/) prepared and run here, in its CPU fallback: prepare.ts bundles the app
 * into a temporary folder, run.sh starts it with this machine's node and no display, and the run
 * must find no GL context, say so, fall back to webasm, pass the op table's first rows against the
 * reference backend and time each training step at batch 2 — all read back from device.json. The
 * probe's decision (GL only on a GPU vendor's driver) is checked on its own, on given inputs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseMode, drawsOnGpu, loadedGLLibraries, type DeviceResult, type GlProbe } from '../bench/device/main.js';
import { prepareApp } from '../bench/device/prepare.js';
import { OP_ROWS } from './op-table/index.js';
import { rowLabel } from './op-table/row.js';

const probe = (over: Partial<GlProbe>): GlProbe => ({
  ok: true, renderer: 'ANGLE', glLibraries: [], gpuMemoryMiB: { before: null, during: null }, hardware: false, kernelClass: 'HeadlessGLKernel', error: null, ...over,
});

test('the GL probe names the GL driver libraries a process has mapped', () => {
  const maps = [
    '7f00-7f01 r-xp 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.550.54.15',
    '7f01-7f02 r-xp 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libnvidia-glcore.so.550.54.15',
    '7f02-7f03 r-xp 00000000 08:01 3 /usr/lib/x86_64-linux-gnu/libGLX.so.0.0.0',
    '7f03-7f04 r-xp 00000000 08:01 4 /usr/lib/x86_64-linux-gnu/dri/swrast_dri.so',
    '7f04-7f05 rw-p 00000000 00:00 0',
    '7f05-7f06 r-xp 00000000 08:01 5 /work/node_modules/gl/build/Release/webgl.node',
  ].join('\n');
  assert.equal(loadedGLLibraries(maps), ['libGLX_nvidia.so.550.54.15', 'libnvidia-glcore.so.550.54.15', 'swrast_dri.so']);
});

test('GL draws on the GPU only with NVIDIA\'s driver loaded and GPU memory taken (where nvidia-smi tells)', () => {
  const unknown = { before: null, during: null };
  assert.is(drawsOnGpu(['libGLX_nvidia.so.0', 'libnvidia-glcore.so.550'], { before: 0, during: 130 }), true);
  assert.is(drawsOnGpu(['libGLX_nvidia.so.0'], unknown), true, 'no nvidia-smi: the driver decides');
  assert.is(drawsOnGpu(['libGLX_nvidia.so.0'], { before: 130, during: 130 }), false, 'no memory taken: not on the GPU');
  assert.is(drawsOnGpu(['libGLX_mesa.so.0', 'swrast_dri.so'], { before: 0, during: 130 }), false, 'Mesa');
  assert.is(drawsOnGpu([], unknown), false);
});

test('auto mode: GL on an NVIDIA driver; webasm, with the reason, on no context or on Mesa unless software GL is allowed', () => {
  assert.equal(chooseMode(probe({ glLibraries: ['libGLX_nvidia.so.0'], hardware: true }), false), { mode: 'headlessgl', fallbackReason: null });
  const noContext = chooseMode(probe({ ok: false, error: 'no display' }), true);
  assert.equal(noContext, { mode: 'webasm', fallbackReason: 'no GL context: no display' });
  const mesa = chooseMode(probe({ glLibraries: ['libGLX_mesa.so.0', 'swrast_dri.so'] }), false);
  assert.is(mesa.mode, 'webasm');
  assert.match(mesa.fallbackReason ?? '', /libGLX_mesa\.so\.0, swrast_dri\.so/);
  assert.equal(chooseMode(probe({ glLibraries: ['libGLX_mesa.so.0'] }), true), { mode: 'headlessgl', fallbackReason: null });
  const indirect = chooseMode(probe({ glLibraries: ['libGLX_nvidia.so.0'], gpuMemoryMiB: { before: 512, during: 512 } }), false);
  assert.equal(indirect, { mode: 'webasm', fallbackReason: "GL runs on NVIDIA's client library, but its context took no GPU memory (512 → 512 MiB): it draws elsewhere (the X server's software GLX?)" });
});

test('bench/device: the prepared bundle, started by run.sh without a display, falls back to webasm, passes 4 op rows and times each step at batch 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-device-'));
  try {
    await prepareApp(dir);
    const out = join(dir, 'out');
    const env: NodeJS.ProcessEnv = { ...process.env, OUT: out, GRADLAB_DEVICE_DIR: dir, GRADLAB_DEVICE_NODE: process.execPath, TMPDIR: dir };
    delete env.DISPLAY;
    const run = spawnSync('bash', ['bench/device/run.sh', '--rows', '4', '--batch', '2', '--quick', '--only', 'step'], { env, encoding: 'utf8', timeout: 120_000 });
    assert.is(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const result = JSON.parse(readFileSync(join(out, 'device.json'), 'utf8')) as DeviceResult;

    assert.is(result.requestedMode, 'auto');
    assert.is(result.mode, 'webasm');
    assert.is(result.fallback, true);
    assert.match(result.fallbackReason ?? '', /^no GL context: /);
    assert.is(result.glProbe?.ok, false);
    assert.is(result.gpu.mode, 'webasm');
    assert.is(result.gpu.kernelClass, 'WebAssemblyKernel');
    assert.is(result.environment.DISPLAY, null);

    assert.equal(result.opRows.rows.map((r) => r.row), OP_ROWS.slice(0, 4).map(rowLabel), 'the op table\'s first four rows, by label');
    assert.is(result.opRows.passed, 4, JSON.stringify(result.opRows.rows.filter((r) => !r.ok)));
    assert.is(result.opRows.failed, 0);

    assert.is(result.bench.target, 'webasm');
    assert.is(result.bench.batch, 2);
    assert.equal(result.bench.results.map((w) => w.id), ['step smallnet', 'step smallnet-frelu', 'step resnet20']);
    for (const w of result.bench.results) {
      assert.is(w.work, 2, `${w.id}: images per step`);
      assert.ok(Number.isFinite(w.rate.wall) && w.rate.wall > 0, `${w.id}: a rate`);
    }
    // No CUDA here: PyTorch's GPU figures are absent, and the note says why (no torch, or no GPU for it).
    assert.is(result.torchCuda, null);
    assert.match(result.torchCudaNote, /no Python with torch|sees no CUDA GPU/);
    assert.ok(existsSync(join(out, 'log.txt')), 'run.sh keeps the log');
    assert.match(readFileSync(join(out, 'log.txt'), 'utf8'), /FALLBACK to webasm: no GL context/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
