/**
 * The CIFAR ResNets of He et al. (2016), ResNet-(6n+2), in the three block variants of the FReLU
 * paper's Fig. 4 (Table 2). For n = 3, 5, 7, 9, 18 the depth is 20, 32, 44, 56, 110.
 *
 *   stem     Conv3×3 3→16
 *   stage1   n blocks, 16 channels, 32×32
 *   stage2   n blocks, 32 channels, 16×16 (the first block's first conv has stride 2)
 *   stage3   n blocks, 64 channels, 8×8   (likewise)
 *   head     global average pool 8×8 → Linear 64→classes
 *
 * Block variants (ACT is the chosen activation; "+ s" adds the shortcut):
 *   (a) original     Conv → BN → ACT → Conv → BN → + s → ACT    stem Conv → BN → ACT   head AvgPool → Linear
 *   (b) no ACT after the addition (the paper's FReLU design)
 *                    Conv → BN → ACT → Conv → BN → + s          stem Conv → ACT        head ACT → AvgPool → Linear
 *   (c) no BN after the first conv (Shah et al.'s ELU design)
 *                    Conv → ACT → Conv → BN → + s               stem Conv → ACT        head ACT → AvgPool → Linear
 *
 * Shortcut type A: the identity, or — where a block halves the size and doubles the channels — every
 * other pixel with zero channels appended (ShortcutA, no parameters). Convs have no bias.
 *
 * Parameters of ResNet-20, block (a), ReLU, 10 classes (a test asserts these; n blocks per stage):
 *   stem       conv 3·16·9 = 432 + BN 32                                        =     464
 *   stage1     n · (2 convs 16·16·9 + 2 BN 32) = n · 4,672                        =  14,016
 *   stage2     first block 16·32·9 + 32·32·9 + 2·64 = 13,952; then (n−1) · 18,560 =  51,072
 *   stage3     first block 32·64·9 + 64·64·9 + 2·128 = 55,552; then (n−1) · 73,984 = 203,520
 *   head       Linear 64·10 + 10                                                =     650
 *   total                                                                       = 269,722
 *
 *   const net = resnet({ depth: 20, classes: 10, block: 'b', activation: 'frelu', seed: 1 });
 *   net.forward(x [N, 3, 32, 32])   // → logits [N, 10]
 */
import type { Tensor } from '../../tensor/tensor.js';
import { fromTyped } from '../../tensor/create.js';
import { randomStream } from '../../tensor/random.js';
import { shapeToString } from '../../tensor/shape.js';
import { add, broadcastTo, mul, reshape } from '../../autograd/math.js';
import * as F from '../functional.js';
import type { Seed } from '../init.js';
import { Module, type Placement } from '../module.js';
import { Flatten, Sequential } from '../layers/containers.js';
import { Conv2d, Linear } from '../layers/linear.js';
import { AvgPool2d } from '../layers/pooling.js';
import { BatchNorm2d } from '../layers/normalization.js';
import { checkInt } from '../layers/helpers.js';
import { checkKeys } from '../../util/options.js';
import { ACTIVATION_OPTION_KEYS, checkActivation, checkSeed, initLikeTheAuthors, makeActivation, type Activation, type ActivationOptions } from './common.js';
import { shown } from '../../util/format.js';

/** The residual block variants of the paper's Fig. 4. */
export type BlockVariant = 'a' | 'b' | 'c';

/**
 * Shortcut type A (He et al. 2016, option A), parameter-free:
 *
 *   s = [ x[:, :, ::stride, ::stride] , 0 ]     zero channels appended after x's channels
 *
 * Written from existing ops, as the authors' Torch code does it
 * (SpatialAveragePooling(1, 1, 2, 2), then Concat(Identity, MulConstant(0)) along the channels):
 *   1. every other pixel: avgPool2d with a 1×1 window and stride 2 (each "average" is one pixel);
 *   2. [x, 0·x]: view x [N, C, H, W] as [N, 1, C·H·W], repeat it k = outChannels / C times along the
 *      new axis (expand), multiply by [1, 0, …, 0] to keep only the first copy, and read the result
 *      as [N, k·C, H, W] — channels 0…C−1 are x, the rest zeros.
 * Backward comes for free: avgPool2d's routes each gradient back to its pixel, expand's sums the
 * copies — of which only the first got a non-zero gradient through the mask.
 */
export class ShortcutA extends Module {
  constructor(readonly inChannels: number, readonly outChannels: number, readonly stride: number) {
    super();
    checkInt('ShortcutA', 'stride', stride, 1);
    if (outChannels % inChannels !== 0 || outChannels < inChannels) {
      throw new Error(`ShortcutA: outChannels must be a multiple of inChannels (zero channels are appended as copies of x times 0); got ${inChannels} → ${outChannels}`);
    }
  }

  forward(x: Tensor): Tensor {
    const sampled = this.stride === 1 ? x : F.avgPool2d(x, { kernelSize: 1, stride: this.stride });
    const k = this.outChannels / this.inChannels;
    if (k === 1) return sampled;
    const [N, C, H, W] = sampled.shape;
    const keepFirst = new Float64Array(k);
    keepFirst[0] = 1;
    const mask = fromTyped(keepFirst, [1, k, 1], { dtype: x.dtype, backend: x.backend });
    const copies = broadcastTo(reshape(sampled, [N, 1, C * H * W]), [N, k, C * H * W]);
    return reshape(mul(copies, mask), [N, k * C, H, W]);
  }

  protected override extraRepr(): string {
    return `${this.inChannels} → ${this.outChannels}, stride=${this.stride}`;
  }
}

export interface BasicBlockOptions extends Placement {
  block: BlockVariant;
  activation: Activation;
  activationOptions?: ActivationOptions;
  /** Seeds the convs' initial draws (a model passes its one stream). */
  seed?: Seed;
}

/** One residual block: two 3×3 convs and a shortcut, in variant (a), (b) or (c) (see the file's header). */
export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d | null;
  readonly act1: Module;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly shortcut: ShortcutA | null;
  /** The activation after the addition: variant (a) only. */
  readonly act2: Module | null;

  constructor(inChannels: number, outChannels: number, stride: number, options: BasicBlockOptions) {
    super();
    checkKeys('BasicBlock', options, ['backend', 'dtype', 'block', 'activation', 'activationOptions', 'seed']);
    const placement: Placement = { backend: options.backend, dtype: options.dtype };
    const act = () => makeActivation(options.activation, outChannels, options.activationOptions ?? {}, placement);
    const conv = (cin: number, s: number) => new Conv2d(cin, outChannels, 3, { stride: s, padding: 1, bias: false, seed: options.seed, ...placement });
    this.conv1 = this.registerModule('conv1', conv(inChannels, stride));
    this.bn1 = options.block === 'c' ? null : this.registerModule('bn1', new BatchNorm2d(outChannels, placement));
    this.act1 = this.registerModule('act1', act());
    this.conv2 = this.registerModule('conv2', conv(outChannels, 1));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(outChannels, placement));
    const reshapes = stride !== 1 || inChannels !== outChannels;
    this.shortcut = reshapes ? this.registerModule('shortcut', new ShortcutA(inChannels, outChannels, stride)) : null;
    this.act2 = options.block === 'a' ? this.registerModule('act2', act()) : null;
  }

  forward(x: Tensor): Tensor {
    let h = this.conv1.forward(x);
    if (this.bn1 !== null) h = this.bn1.forward(h);
    h = this.act1.forward(h);
    h = this.bn2.forward(this.conv2.forward(h));
    h = add(h, this.shortcut === null ? x : this.shortcut.forward(x));
    return this.act2 === null ? h : this.act2.forward(h);
  }
}

export interface ResNetOptions extends Placement {
  /** 6n + 2: 20, 32, 44, 56 or 110 in the paper (n = 3, 5, 7, 9, 18 blocks per stage). */
  depth: number;
  /** Output classes; default 10 (CIFAR-10). */
  classes?: number;
  /** Block variant of Fig. 4; default 'a' (the original ResNet). */
  block?: BlockVariant;
  activation: Activation;
  /** Seeds every random init; default 0. */
  seed?: number | string;
  /** Activation settings; the defaults are the paper's. */
  activationOptions?: ActivationOptions;
}

/** The CIFAR ResNets of the paper (depth 6n + 2, block variants a/b/c); make one with models.resnet. */
export class ResNet extends Module {
  readonly stem: Sequential;
  readonly stage1: Sequential;
  readonly stage2: Sequential;
  readonly stage3: Sequential;
  readonly head: Sequential;

  constructor(options: ResNetOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new Error(`resnet: options { depth, activation, classes?, block?, seed? } are required; got ${String(options)}`);
    checkKeys('resnet', options, ['backend', 'dtype', 'depth', 'classes', 'block', 'activation', 'seed', 'activationOptions']);
    checkKeys('resnet activationOptions', options.activationOptions, ACTIVATION_OPTION_KEYS);
    const { depth } = options;
    if (!Number.isInteger(depth) || depth < 8 || (depth - 2) % 6 !== 0) {
      throw new Error(`resnet: depth must be 6n + 2 (20, 32, 44, 56 or 110 in the paper); got ${shown(depth)}`);
    }
    const n = (depth - 2) / 6;
    const classes = checkInt('resnet', 'classes', options.classes ?? 10, 1);
    const block = options.block ?? 'a';
    if (block !== 'a' && block !== 'b' && block !== 'c') throw new Error(`resnet: block must be 'a', 'b' or 'c' (Fig. 4); got ${shown(block)}`);
    const activation = checkActivation('resnet', options.activation);
    const seed = checkSeed('resnet', options.seed ?? 0);
    const placement: Placement = { backend: options.backend, dtype: options.dtype };
    const activationOptions = options.activationOptions ?? {};
    const rng = randomStream(seed);
    const act = (channels: number) => makeActivation(activation, channels, activationOptions, placement);

    this.stem = this.registerModule('stem', new Sequential(new Conv2d(3, 16, 3, { padding: 1, bias: false, seed: rng, ...placement })));
    if (block === 'a') this.stem.append(new BatchNorm2d(16, placement));
    this.stem.append(act(16));

    const stage = (inChannels: number, outChannels: number, stride: number) => {
      const s = new Sequential();
      for (let i = 0; i < n; i++) {
        const blockOptions = { block, activation, activationOptions, seed: rng, ...placement };
        s.append(new BasicBlock(i === 0 ? inChannels : outChannels, outChannels, i === 0 ? stride : 1, blockOptions));
      }
      return s;
    };
    this.stage1 = this.registerModule('stage1', stage(16, 16, 1));
    this.stage2 = this.registerModule('stage2', stage(16, 32, 2));
    this.stage3 = this.registerModule('stage3', stage(32, 64, 2));

    this.head = this.registerModule('head', new Sequential());
    if (block !== 'a') this.head.append(act(64));
    this.head.append(new AvgPool2d(8));
    this.head.append(new Flatten(1));
    this.head.append(new Linear(64, classes, { seed: rng, ...placement }));
    initLikeTheAuthors(this, rng);
  }

  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== 3 || x.shape[2] !== 32 || x.shape[3] !== 32) {
      throw new Error(`ResNet: x must be a batch of 32×32 RGB images [N, 3, 32, 32]; got ${shapeToString(x.shape)}`);
    }
    let h = this.stem.forward(x);
    h = this.stage3.forward(this.stage2.forward(this.stage1.forward(h)));
    return this.head.forward(h);
  }
}

/** A CIFAR ResNet of the paper's Table 2 (see ResNet). */
export function resnet(options: ResNetOptions): ResNet {
  return new ResNet(options);
}
