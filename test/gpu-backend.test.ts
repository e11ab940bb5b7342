/**
 * The gpu backend itself (src/tensor/backends/gpu.ts and its parts in gpu/): which gpu.js mode runs
 * and why, values going up and down unchanged, device memory freed exactly once, the rules an op's
 * gpu implementation must keep, and tensors at the sizes SmallNet and the paper's wide layers need. Runs in the mode
 * GRADLAB_GPU_MODE selects (`npm test` runs this file in webasm, then in headlessgl under xvfb-run).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as g from '../src/index.js';
import { defineOp } from '../src/autograd/op.js';
import { add } from '../src/autograd/ops/add.js';
import { release, resolveGpuMode } from '../src/tensor/backends/gpu.js';
import type { Flat, Thread } from '../src/tensor/op-def.js';

const mode = process.env.GRADLAB_GPU_MODE ?? 'webasm';
g.setGpuMode(mode === 'headlessgl' || mode === 'cpu' ? mode : 'webasm');
const isGL = mode === 'headlessgl';
const gpu = { backend: 'gpu' } as const;

function throwsWith(fn: () => unknown, ...parts: string[]): void {
  try {
    fn();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    for (const p of parts) assert.ok(message.includes(p), `expected the error to mention ${JSON.stringify(p)}; got: ${message}`);
    return;
  }
  assert.unreachable(`expected an error mentioning ${parts.map((p) => JSON.stringify(p)).join(', ')}`);
}

// ── mode selection ──

test('resolveGpuMode: setGpuMode wins over GRADLAB_GPU_MODE, which wins over auto', () => {
  const gl = () => true;
  const noGl = () => false;
  assert.equal(resolveGpuMode({ fromCall: 'cpu', fromEnv: 'webasm' }, gl), { mode: 'cpu', reason: "setGpuMode('cpu')" });
  assert.equal(resolveGpuMode({ fromCall: null, fromEnv: ' WebAsm ' }, gl), { mode: 'webasm', reason: 'GRADLAB_GPU_MODE=webasm' });
  assert.is(resolveGpuMode({ fromCall: null, fromEnv: undefined }, gl).mode, 'headlessgl');
  assert.is(resolveGpuMode({ fromCall: null, fromEnv: '' }, noGl).mode, 'webasm');
  assert.is(resolveGpuMode({ fromCall: 'auto', fromEnv: 'cpu' }, noGl).mode, 'webasm');
  assert.is(resolveGpuMode({ fromCall: null, fromEnv: 'auto' }, gl).reason, 'GRADLAB_GPU_MODE=auto: a GL context works');
});

test('resolveGpuMode: an unknown GRADLAB_GPU_MODE, or headlessgl without a GL context, is a clear error', () => {
  throwsWith(() => resolveGpuMode({ fromCall: null, fromEnv: 'webgl9' }, () => true), 'GRADLAB_GPU_MODE', "'auto'", 'webasm, headlessgl, cpu', '"webgl9"');
  throwsWith(() => resolveGpuMode({ fromCall: 'headlessgl', fromEnv: undefined }, () => false), "'headlessgl'", 'xvfb-run', 'GRADLAB_GPU_MODE=webasm');
  // The probe is not run for a mode that does not need GL.
  const probe = (): boolean => {
    throw new Error('probed');
  };
  assert.is(resolveGpuMode({ fromCall: 'webasm', fromEnv: undefined }, probe).mode, 'webasm');
});

test('gpuInfo reports the mode that ran, its reason and the gpu.js kernel class', () => {
  g.sum(g.tensor([1, 2, 3], gpu)).item();
  const info = g.gpuInfo();
  assert.is(info.mode, mode);
  assert.is(info.kernelClass, { webasm: 'WebAssemblyKernel', headlessgl: 'HeadlessGLKernel', webgl2: 'WebGL2Kernel', webgl: 'WebGLKernel', cpu: 'CPUKernel' }[info.mode ?? 'webasm']);
  // The GL renderer is read after the first kernel (llvmpipe under xvfb-run); the CPU modes have none.
  if (isGL) assert.ok(info.renderer !== null && info.summary?.startsWith('headless-gl on '), JSON.stringify(info));
  else assert.is(info.renderer, null);
  // This file calls setGpuMode; another test file in the same process may have started the backend from the env.
  assert.ok([`setGpuMode('${mode}')`, `GRADLAB_GPU_MODE=${mode}`].includes(info.reason ?? ''), info.reason ?? 'no reason');
  assert.ok(info.compiledKernels >= 1 && info.kernelCalls >= info.compiledKernels && info.compileMs > 0);
});

test('setGpuMode: a different mode once the backend runs, or an unknown mode, is a clear error', () => {
  const other = mode === 'webasm' ? 'cpu' : 'webasm';
  throwsWith(() => g.setGpuMode(other), `already runs in '${mode}'`, 'before the first gpu op');
  throwsWith(() => g.setGpuMode('webgl'), 'setGpuMode', "'webasm', 'headlessgl', 'cpu'", "'webgl' runs in a browser, not in Node", '"webgl"');
  throwsWith(() => g.setGpuMode('webgl9' as g.GpuMode), 'setGpuMode', '"webgl9"');
  g.setGpuMode(mode === 'headlessgl' || mode === 'cpu' ? mode : 'webasm'); // the running mode is accepted
});

/** Runs a fresh process that sums [1, 2, 3] on the gpu backend and prints gpuInfo(). */
function child(env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const code = `const g = await import('./src/index.ts');
    const s = g.sum(g.tensor([1, 2, 3], { backend: 'gpu' })).item();
    console.log(JSON.stringify({ s, info: g.gpuInfo() }));`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, env, timeout: 60_000 }, (error, out, err) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out, err });
    });
  });
}

test('a fresh process picks its mode by itself: auto follows the GL probe; headlessgl without a display fails clearly', async () => {
  const { GPU } = createRequire(import.meta.url)('gpu.js');
  const glWorks: boolean = GPU.isHeadlessGLSupported;
  const base = { ...process.env };
  delete base.GRADLAB_GPU_MODE;
  const noDisplay: NodeJS.ProcessEnv = { ...base, GRADLAB_GPU_MODE: 'headlessgl' };
  delete noDisplay.DISPLAY;
  const [auto, forced] = await Promise.all([child(base), child(noDisplay)]);
  assert.is(auto.code, 0, auto.err);
  const { s, info } = JSON.parse(auto.out);
  assert.is(s, 6);
  assert.is(info.mode, glWorks ? 'headlessgl' : 'webasm');
  assert.is(info.kernelClass, glWorks ? 'HeadlessGLKernel' : 'WebAssemblyKernel');
  assert.ok(info.reason.startsWith('auto: '), info.reason);
  assert.is.not(forced.code, 0);
  assert.ok(forced.err.includes("mode 'headlessgl' was asked for (GRADLAB_GPU_MODE=headlessgl)") && forced.err.includes('xvfb-run'), forced.err);
});

// ── values up and down ──

test('values round-trip unchanged, special values included, at sizes that do not fill a square texture', () => {
  const special = [0, -0, 1, -1.5, Math.fround(0.1), 3.4e38, -3.4e38, 1e-30, Infinity, -Infinity, NaN];
  for (const n of [1, 5, 11, 1000, 4097, 65537]) {
    const values = Float32Array.from({ length: n }, (_, i) => special[i % special.length] * (1 + (i >> 4)));
    const back = g.tensor(values, gpu).toArray();
    assert.instance(back, Float32Array);
    assert.is(back.length, n);
    for (let i = 0; i < n; i++) assert.ok(Object.is(back[i], values[i]), `n=${n} element ${i}: sent ${values[i]}, got ${back[i]}`);
  }
});

test('a kernel result reads back as a flat Float32Array of the tensor size (1-D kernel output)', () => {
  const x = g.tensor([[1, 2, 3], [4, 5, 6]], gpu);
  const y = g.mul(x, 2);
  const back = y.toArray();
  assert.instance(back, Float32Array);
  assert.equal(Array.from(back), [2, 4, 6, 8, 10, 12]);
  assert.equal(y.shape, [2, 3]);
  assert.is(g.sum(y).item(), 42);
});

test('float64 on the gpu backend is a clear error that points to reference', () => {
  throwsWith(() => g.tensor([1, 2], { backend: 'gpu', dtype: 'float64' }), 'float32 only', 'float64', "'reference'");
});

// ── memory: dispose, tidy, and use after free ──

test('dispose frees a tensor once; a disposed tensor cannot be used', () => {
  const before = g.gpuInfo().liveTextures;
  const t = g.tensor([1, 2, 3], gpu);
  assert.is(g.gpuInfo().liveTextures, before + (isGL ? 1 : 0));
  t.dispose();
  t.dispose(); // a second dispose does nothing
  assert.is(g.gpuInfo().liveTextures, before);
  assert.ok(t.isDisposed);
  throwsWith(() => t.toArray(), 'was disposed');
  throwsWith(() => g.add(t, 1), 'was disposed');
});

test('tidy frees everything made inside except what it returns, nested scopes included', () => {
  const before = g.gpuInfo().liveTextures;
  const x = g.tensor([1, 2, 3], gpu);
  let inner: g.Tensor | null = null;
  const { y, z } = g.tidy(() => {
    const a = g.mul(x, 2);
    const kept = g.tidy(() => {
      inner = g.exp(a);
      return g.add(a, 1);
    });
    return { y: g.mul(kept, kept), z: a };
  });
  assert.ok(inner !== null && (inner as g.Tensor).isDisposed);
  assert.ok(!x.isDisposed && !y.isDisposed && !z.isDisposed);
  assert.equal(Array.from(y.toArray()), [9, 25, 49]);
  assert.equal(Array.from(z.toArray()), [2, 4, 6]);
  assert.is(g.gpuInfo().liveTextures, before + (isGL ? 3 : 0)); // x, y, z
  for (const t of [x, y, z]) t.dispose();
  assert.is(g.gpuInfo().liveTextures, before);
});

test('tidy frees what a failing fn made, and refuses an async fn', () => {
  const before = g.gpuInfo().liveTextures;
  let made: g.Tensor | null = null;
  throwsWith(
    () =>
      g.tidy(() => {
        made = g.tensor([1, 2], gpu);
        return g.matmul(made, made); // 1-D operands: an error
      }),
    'matmul',
  );
  assert.ok(made !== null && (made as g.Tensor).isDisposed);
  throwsWith(() => g.tidy(async () => g.tensor([1], gpu)), 'tidy', 'synchronous');
  assert.is(g.gpuInfo().liveTextures, before);
});

test('backward through values a tidy already freed is a clear error, not garbage', () => {
  const x = g.tensor([1, 2, 3], { ...gpu, requiresGrad: true });
  const y = g.tidy(() => g.mul(g.exp(x), x)); // exp(x) was saved by mul, and freed by tidy
  throwsWith(() => y.backward(g.ones([3], gpu)), 'already freed', 'inside the same tidy()');
});

test('the leaf gradient survives tidy; the parameter update with assign keeps the tensor usable', () => {
  const w = g.tensor([1, -2], { ...gpu, requiresGrad: true });
  g.tidy(() => {
    g.sum(g.mul(w, w)).backward(); // dw = 2w
    g.noGrad(() => w.assign(g.sub(w, g.mul(w.grad!, 0.25)))); // w − 0.25·2w = w/2
  });
  assert.equal(Array.from(w.grad!.toArray()), [2, -4]);
  assert.equal(Array.from(w.toArray()), [0.5, -1]);
});

// ── the rules an op's gpu implementation keeps ──

function copyKernel(this: Thread, x: Flat): number {
  return x[this.thread.x];
}
function timesTwo(this: Thread, x: Flat): number {
  return 2 * x[this.thread.x];
}

const leaky = defineOp({
  name: 'testTemporaries',
  inputs: ['x'],
  saves: [],
  outputShape: ({ x }) => x,
  reference: { forward: ({ x }, y) => y.set(x.map((v) => 4 * v)), backward: () => {} },
  gpu: {
    // Two temporaries, one released early and one left for the backend to free.
    forward: (k, { x }) => {
      const a = k.map(timesTwo, x);
      const b = k.map(timesTwo, a);
      const c = k.map(copyKernel, b);
      release(a);
      return c;
    },
    backward: (k, _, dy) => ({ dx: k.map(copyKernel, dy) }),
  },
});

test('temporaries an op makes and does not return are freed when it returns', () => {
  const x = g.tensor([1, 2], gpu);
  const before = g.gpuInfo().liveTextures;
  const y = leaky.apply({ x });
  assert.equal(Array.from(y.toArray()), [4, 8]);
  assert.is(g.gpuInfo().liveTextures, before + (isGL ? 1 : 0));
  y.dispose();
  x.dispose();
});

const returnsInput = defineOp({
  name: 'testReturnsInput',
  inputs: ['x'],
  saves: [],
  outputShape: ({ x }) => x,
  reference: { forward: ({ x }, y) => y.set(x), backward: () => {} },
  gpu: { forward: (_, { x }) => x, backward: (_, __, dy) => ({ dx: dy }) },
});

const releasesInput = defineOp({
  name: 'testReleasesInput',
  inputs: ['x'],
  saves: [],
  outputShape: ({ x }) => x,
  reference: { forward: ({ x }, y) => y.set(x), backward: () => {} },
  gpu: {
    forward: (k, { x }) => {
      release(x);
      return k.map(copyKernel, x);
    },
    backward: (k, _, dy) => ({ dx: k.map(copyKernel, dy) }),
  },
});

test('an op that returns its input, or releases it, is refused (each device array has one owner)', () => {
  const x = g.tensor([1, 2], gpu);
  throwsWith(() => returnsInput.apply({ x }), 'testReturnsInput', 'returned one of its inputs', 'k.map(copy, x)');
  throwsWith(() => releasesInput.apply({ x }), 'release', 'inputs belong to their tensors');
  assert.equal(Array.from(x.toArray()), [1, 2]);
});

test('a kernel written as an arrow function is refused with the rule', () => {
  const arrow = defineOp({
    name: 'testArrow',
    inputs: ['x'],
    saves: [],
    outputShape: ({ x }) => x,
    reference: { forward: ({ x }, y) => y.set(x), backward: () => {} },
    gpu: {
      forward: (k, { x }) => k.map((() => 1) as (this: Thread, x: Flat) => number, x),
      backward: (k, _, dy) => ({ dx: k.map(copyKernel, dy) }),
    },
  });
  throwsWith(() => arrow.apply({ x: g.tensor([1], gpu) }), 'function (this: Thread', 'arrows');
});

// ── kernels compiled ──

test("add's alpha is read at run time: six learning rates compile no kernel past the first, and equal reference bit for bit", () => {
  g.setSimdKernels(false); // in webasm mode too, run add's gpu.js kernels (not the SIMD ones, which compile nothing)
  const n = 1237; // a size no other test uses, so the first alpha compiles its kernels here
  const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  const b = Float32Array.from({ length: n }, (_, i) => Math.cos(3 * i) * 10 ** -(i % 5));
  const dy = Float32Array.from({ length: n }, (_, i) => Math.cos(i) * 2);
  const alphas = [-0.1, -0.01, 0.9, 1e-3, -3.7, 1 / 3]; // none is a float32 value
  const compiled: number[] = [];
  for (const alpha of alphas) {
    const [ref, dev] = (['reference', 'gpu'] as const).map((backend) =>
      g.tidy(() => {
        const [ta, tb, tdy] = [a, b, dy].map((v, i) => g.tensor(v, { backend, requiresGrad: i < 2 }));
        if (backend === 'gpu') compiled.push(g.gpuInfo().compiledKernels);
        const y = add.apply({ a: ta, b: tb }, { alpha });
        y.backward(tdy);
        return { y: y.toArray(), db: tb.grad!.toArray() };
      }),
    );
    for (const what of ['y', 'db'] as const) {
      for (let i = 0; i < n; i++) {
        if (!Object.is(dev[what][i], ref[what][i])) assert.unreachable(`alpha ${alpha}: ${what}[${i}] is ${dev[what][i]} on gpu, ${ref[what][i]} on reference`);
      }
    }
  }
  compiled.push(g.gpuInfo().compiledKernels);
  g.setSimdKernels(true);
  const perAlpha = compiled.slice(1).map((c, i) => c - compiled[i]);
  assert.ok(perAlpha[0] >= 1, `the first alpha compiled ${perAlpha[0]} kernels`);
  assert.equal(perAlpha.slice(1), [0, 0, 0, 0, 0], `kernels compiled per alpha: ${perAlpha.join(', ')}`);
});

// ── large tensors ──

test('a 128×32×32×32 activation (4.2 M floats) goes through an elementwise op exactly', () => {
  const shape = [128, 32, 32, 32];
  const n = 128 * 32 * 32 * 32;
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = (i % 1009) * 0.25 - 100;
    b[i] = (i % 7) - 3;
  }
  const y = g.tidy(() => g.mul(g.tensor(a, { ...gpu, shape }), g.tensor(b, { ...gpu, shape })));
  const got = y.toArray();
  y.dispose();
  assert.is(got.length, n);
  for (let i = 0; i < n; i++) {
    if (got[i] !== Math.fround(a[i] * b[i])) assert.unreachable(`element ${i}: got ${got[i]}, want ${a[i] * b[i]}`);
  }
});

test('a 2048×512 weight round-trips, and its matmul forward and weight gradient match reference', () => {
  const w = g.randn([2048, 512], { seed: 21 }).toArray();
  const x = g.randn([4, 2048], { seed: 22 }).toArray();
  const dy = g.randn([4, 512], { seed: 23 }).toArray();
  const [ref, dev] = (['reference', 'gpu'] as const).map((backend) =>
    g.tidy(() => {
      const W = g.tensor(w, { backend, shape: [2048, 512], requiresGrad: true });
      const y = g.matmul(g.tensor(x, { backend, shape: [4, 2048] }), W);
      y.backward(g.tensor(dy, { backend, shape: [4, 512] }));
      return { w: W.toArray(), y: y.toArray(), dw: W.grad!.toArray() };
    }),
  );
  assert.ok(dev.w.every((v, i) => v === w[i]), 'the weight changed on its way up and down');
  const near = (got: Float32Array | Float64Array, want: Float32Array | Float64Array, what: string, tol: number) => {
    for (let i = 0; i < want.length; i++) {
      if (!(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])))) assert.unreachable(`${what}[${i}]: gpu ${got[i]}, reference ${want[i]}`);
    }
  };
  near(dev.y, ref.y, 'y', 1e-4); // dots of length 2048, |y| ≈ 45
  near(dev.dw, ref.dw, 'dW', 1e-5); // dW = xᵀ·dy: 4 terms each
});

test('a tensor beyond 2^24 elements is refused clearly (thread ids are exact only below it)', () => {
  throwsWith(() => g.zeros([2 ** 24 + 1], gpu), '2^24', 'split');
});

test.run();
