/**
 * What gradlab's benchmarks run: op-level workloads at the layer shapes of SmallNet (the paper's
 * Table 3 network) and ResNet-20, and whole training steps. Every workload is built fresh on the
 * backend being measured and returns a function that does one unit of work:
 *
 *   gemm     matmul a[n, n] @ b[n, n]                               work = 2n³ FLOP
 *   conv     conv2d forward, or backward (dx and dw; dw alone for a first layer, whose input
 *            images need no gradient)                                work = 2·N·O·OH·OW·C·KH·KW FLOP per pass
 *   norm     batchNorm (training statistics) forward / backward     work = elements of x
 *   pool     maxPool2d 2×2 and the ResNet head's global avgPool2d   work = elements of x
 *   frelu    FReLU with a layer-wise scalar b                        work = elements of x
 *   step     forward, cross-entropy, backward, SGD (momentum 0.9, lr 0.01) on one batch of
 *            random images and labels                                work = images
 *
 * Backward workloads keep their graph (`retainGraph`) and run backward on it again each call,
 * dropping the previous gradients first, so only the backward kernels are timed.
 */
import * as g from '../src/index.js';
import { conv2d, maxPool2d, avgPool2d, batchNorm, frelu } from '../src/nn/ops/index.js';
import { matmul } from '../src/autograd/ops/matmul.js';
import { crossEntropy } from '../src/nn/functional.js';
import { SGD } from '../src/optim/index.js';
import type { Module } from '../src/nn/module.js';

export type Group = 'gemm' | 'conv' | 'norm' | 'pool' | 'frelu' | 'step';
export const GROUPS: readonly Group[] = ['gemm', 'conv', 'norm', 'pool', 'frelu', 'step'];

export type Unit = 'FLOP' | 'elements' | 'images';

/** The backend a workload runs on, and how to wait for a result (GL kernels may run lazily). */
export interface Target {
  backend: g.BackendName;
  settle: (t: g.Tensor) => void;
}

export interface Prepared {
  /** One unit of work. */
  run: () => void;
  /** Frees the workload's tensors. */
  dispose: () => void;
}

export interface Workload {
  /** Stable id, used for peers and JSON: 'conv.fwd smallnet.conv2'. */
  id: string;
  group: Group;
  /** Shapes and settings, in words. */
  what: string;
  /** FLOP, elements or images per call. */
  work: number;
  unit: Unit;
  prepare(target: Target): Prepared;
}

// ── op workloads ──

interface OpSpec {
  id: string;
  group: Group;
  what: string;
  unit: Unit;
  forwardWork: number;
  backwardWork: number;
  /** Inputs on the backend; those that need a gradient have requiresGrad set. */
  inputs: (backend: g.BackendName) => Record<string, g.Tensor>;
  apply: (inputs: Record<string, g.Tensor>) => g.Tensor;
}

function disposeAll(tensors: Iterable<g.Tensor>): void {
  for (const t of tensors) {
    t.grad?.dispose();
    t.grad = null;
    t.dispose();
  }
}

/** A forward workload and a backward workload for one op at one shape. */
function opPair(spec: OpSpec): [Workload, Workload] {
  const forward: Workload = {
    id: `${spec.group}.fwd ${spec.id}`,
    group: spec.group,
    what: spec.what,
    work: spec.forwardWork,
    unit: spec.unit,
    prepare({ backend, settle }) {
      const inputs = spec.inputs(backend);
      return {
        run: () => g.noGrad(() => g.tidy(() => settle(spec.apply(inputs)))),
        dispose: () => disposeAll(Object.values(inputs)),
      };
    },
  };
  const backward: Workload = {
    id: `${spec.group}.bwd ${spec.id}`,
    group: spec.group,
    what: spec.what,
    work: spec.backwardWork,
    unit: spec.unit,
    prepare({ backend, settle }) {
      const inputs = spec.inputs(backend);
      const withGrad = Object.values(inputs).filter((t) => t.requiresGrad);
      const y = spec.apply(inputs);
      const dy = g.randn(y.shape, { seed: 'dy', backend });
      return {
        run: () => {
          for (const t of withGrad) {
            t.grad?.dispose();
            t.grad = null;
          }
          y.backward(dy, { retainGraph: true });
          const first = withGrad[0].grad;
          if (first !== null) settle(first);
        },
        dispose: () => disposeAll([y, dy, ...Object.values(inputs)]),
      };
    },
  };
  return [forward, backward];
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);
const shapeText = (shape: readonly number[]): string => `[${shape.join(',')}]`;

function gemm(n: number): Workload[] {
  const flop = 2 * n ** 3;
  const [forward, backward] = opPair({
    id: `${n}`,
    group: 'gemm',
    what: `matmul [${n},${n}]·[${n},${n}]`,
    unit: 'FLOP',
    forwardWork: flop,
    backwardWork: 2 * flop, // da and db
    inputs: (backend) => ({
      a: g.randn([n, n], { seed: 'a', backend, requiresGrad: true }),
      b: g.randn([n, n], { seed: 'b', backend, requiresGrad: true }),
    }),
    apply: ({ a, b }) => matmul.apply({ a, b }),
  });
  return n === 512 ? [forward, backward] : [forward];
}

interface ConvLayer {
  id: string;
  x: readonly [number, number, number, number];
  out: number;
  stride: number;
  /** false for a network's first layer: its input (the images) needs no gradient. */
  dx: boolean;
}

function conv({ id, x, out, stride, dx }: ConvLayer): Workload[] {
  const [N, C, H, W] = x;
  const OH = Math.floor((H + 2 - 3) / stride) + 1;
  const OW = Math.floor((W + 2 - 3) / stride) + 1;
  const flop = 2 * N * out * OH * OW * C * 9;
  return opPair({
    id,
    group: 'conv',
    what: `x${shapeText(x)} w[${out},${C},3,3] stride ${stride} pad 1`,
    unit: 'FLOP',
    forwardWork: flop,
    backwardWork: dx ? 2 * flop : flop,
    inputs: (backend) => ({
      x: g.randn([...x], { seed: 'x', backend, requiresGrad: dx }),
      w: g.randn([out, C, 3, 3], { seed: 'w', backend, requiresGrad: true }),
    }),
    apply: ({ x: xt, w }) => conv2d.apply({ x: xt, w }, { stride: [stride, stride], padding: [1, 1] }),
  });
}

function norm(id: string, shape: readonly number[]): Workload[] {
  const C = shape[1];
  return opPair({
    id,
    group: 'norm',
    what: `batchNorm (training) x${shapeText(shape)}`,
    unit: 'elements',
    forwardWork: sizeOf(shape),
    backwardWork: sizeOf(shape),
    inputs: (backend) => ({
      x: g.randn([...shape], { seed: 'x', backend, requiresGrad: true }),
      gamma: g.ones([C], { backend, requiresGrad: true }),
      beta: g.zeros([C], { backend, requiresGrad: true }),
      runningMean: g.zeros([C], { backend }),
      runningVar: g.ones([C], { backend }),
    }),
    apply: (inputs) => batchNorm.apply({ x: inputs.x, gamma: inputs.gamma, beta: inputs.beta, runningMean: inputs.runningMean, runningVar: inputs.runningVar }, { training: true, eps: 1e-5 }),
  });
}

function pool(id: string, kind: 'max' | 'avg', shape: readonly number[], size: number): Workload[] {
  const op = kind === 'max' ? maxPool2d : avgPool2d;
  return opPair({
    id,
    group: 'pool',
    what: `${kind}Pool2d ${size}×${size} stride ${size} x${shapeText(shape)}`,
    unit: 'elements',
    forwardWork: sizeOf(shape),
    backwardWork: sizeOf(shape),
    inputs: (backend) => ({ x: g.randn([...shape], { seed: 'x', backend, requiresGrad: true }) }),
    apply: ({ x }) => op.apply({ x }, { kernelSize: [size, size], stride: [size, size], padding: [0, 0] }),
  });
}

function freluOp(id: string, shape: readonly number[]): Workload[] {
  return opPair({
    id,
    group: 'frelu',
    what: `frelu, scalar b, x${shapeText(shape)}`,
    unit: 'elements',
    forwardWork: sizeOf(shape),
    backwardWork: sizeOf(shape),
    inputs: (backend) => ({
      x: g.randn([...shape], { seed: 'x', backend, requiresGrad: true }),
      b: g.full([], -1, { backend, requiresGrad: true }),
    }),
    apply: ({ x, b }) => frelu.apply({ x, b }),
  });
}

// ── training steps ──

/** One training step: forward, cross-entropy, backward, SGD update; returns the loss. */
export function trainingStep(model: Module, optimizer: SGD, x: g.Tensor, labels: g.Tensor): number {
  return g.tidy(() => {
    const loss = crossEntropy(model.forward(x), labels);
    const value = loss.item();
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return value;
  });
}

export type ModelName = 'smallnet' | 'smallnet-frelu' | 'resnet20';

/** The optimiser of every training-step workload (bench/pytorch.py takes the same settings). */
export const STEP_SGD = { lr: 0.01, momentum: 0.9 } as const;

/**
 * The networks of the peers' measurements: SmallNet with BN and ReLU (100 classes), ResNet-20 (10);
 * and SmallNet with BN and FReLU, the paper's network (one b per layer).
 */
export function buildModel(name: ModelName, backend: g.BackendName): { model: Module; classes: number } {
  if (name === 'resnet20') return { model: g.models.resnet({ depth: 20, classes: 10, block: 'a', activation: 'relu', seed: 1, backend }), classes: 10 };
  const activation = name === 'smallnet-frelu' ? 'frelu' : 'relu';
  return { model: g.models.smallNet({ activation, batchNorm: true, classes: 100, seed: 1, backend }), classes: 100 };
}

/** A model, its optimiser and one batch of random images and labels, ready for `trainingStep`. */
export function stepSetup(name: ModelName, batch: number, backend: g.BackendName): { step: () => number; dispose: () => void } {
  const { model, classes } = buildModel(name, backend);
  model.train();
  const optimizer = new SGD(model.parameters(), { ...STEP_SGD });
  const x = g.randn([batch, 3, 32, 32], { seed: 'images', backend });
  const labels = g.tensor(Float32Array.from({ length: batch }, (_, i) => (i * 37) % classes), { backend });
  return {
    step: () => trainingStep(model, optimizer, x, labels),
    dispose: () => disposeAll([x, labels, ...model.parameters(), ...model.buffers()]),
  };
}

function step(name: ModelName, batch: number): Workload {
  return {
    id: `step ${name}`,
    group: 'step',
    what:
      name === 'resnet20'
        ? `ResNet-20 (block a, shortcut A, ReLU, 10 classes) batch ${batch}`
        : `SmallNet (BN, ${name === 'smallnet' ? 'ReLU' : 'FReLU'}, 100 classes) batch ${batch}`,
    work: batch,
    unit: 'images',
    prepare({ backend }) {
      const { step: run, dispose } = stepSetup(name, batch, backend);
      return { run: () => void run(), dispose };
    },
  };
}

/** Every workload at batch size `batch` (the peers' conv layer keeps its own batch of 64). */
export function workloads(batch: number): Workload[] {
  const B = batch;
  return [
    ...gemm(256),
    ...gemm(512),
    ...gemm(1024),
    ...conv({ id: 'smallnet.conv1', x: [B, 3, 32, 32], out: 32, stride: 1, dx: false }),
    ...conv({ id: 'smallnet.conv2', x: [B, 32, 16, 16], out: 64, stride: 1, dx: true }),
    ...conv({ id: 'smallnet.conv3', x: [B, 64, 8, 8], out: 128, stride: 1, dx: true }),
    ...conv({ id: 'resnet.stage1', x: [B, 16, 32, 32], out: 16, stride: 1, dx: true }),
    ...conv({ id: 'resnet.stage2.down', x: [B, 16, 32, 32], out: 32, stride: 2, dx: true }),
    ...conv({ id: 'resnet.stage2', x: [B, 32, 16, 16], out: 32, stride: 1, dx: true }),
    ...conv({ id: 'resnet.stage3', x: [B, 64, 8, 8], out: 64, stride: 1, dx: true }),
    ...conv({ id: 'peers', x: [64, 32, 16, 16], out: 64, stride: 1, dx: true }),
    ...norm('smallnet.bn1', [B, 32, 32, 32]),
    ...norm('smallnet.bn1d', [B, 512]),
    ...pool('smallnet.pool1', 'max', [B, 32, 32, 32], 2),
    ...pool('resnet.head', 'avg', [B, 64, 8, 8], 8),
    ...freluOp('smallnet.act1', [B, 32, 32, 32]),
    step('smallnet', B),
    step('smallnet-frelu', B),
    step('resnet20', B),
  ];
}
