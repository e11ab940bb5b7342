/**
 * SmallNet, the paper's Table 3 network for CIFAR-100 (32×32 RGB images):
 *
 *   3 × [ Conv3×3, pad 1 (32, then 64, then 128 channels, no bias) → (BN) → ACT → MaxPool 2×2/2 → Dropout 0.2 ]
 *   → Flatten (128·4·4 = 2048) → Linear 2048→512 → (BN1d) → ACT → Dropout 0.5 → Linear 512→classes
 *
 * Spatial sizes: 32 → 16 → 8 → 4. Initialisation as in the authors' Torch code (common.ts):
 * convs MSRA fan-out N(0, 2/(9·C_out)), both Linear layers U(±1/√fanIn) weights with zero biases,
 * BN γ = 1, β = 0; PReLU slope 0.25, FReLU b = −1.
 *
 * Parameters with BN and FReLU, 100 classes (a test asserts this):
 *   conv 3·32·9 + 32·64·9 + 64·128·9 = 864 + 18,432 + 73,728            =    93,024
 *   BN2d 2·(32 + 64 + 128)                                              =       448
 *   Linear 2048·512 + 512 = 1,049,088;   BN1d 2·512 = 1,024
 *   Linear 512·100 + 100  = 51,300;      FReLU b: 4 layers · 1 = 4
 *   total                                                               = 1,194,888
 *
 *   const net = smallNet({ activation: 'frelu', batchNorm: true, seed: 1 });
 *   net.forward(x [N, 3, 32, 32])   // → logits [N, 100]
 */
import type { Tensor } from '../../tensor/tensor.js';
import { randomStream } from '../../tensor/random.js';
import { shapeToString } from '../../tensor/shape.js';
import { Module, type Placement } from '../module.js';
import { Flatten, Sequential } from '../layers/containers.js';
import { Conv2d, Linear } from '../layers/linear.js';
import { MaxPool2d } from '../layers/pooling.js';
import { BatchNorm1d, BatchNorm2d } from '../layers/normalization.js';
import { Dropout } from '../layers/dropout.js';
import { checkKeys } from '../../util/options.js';
import { ACTIVATION_OPTION_KEYS, checkActivation, checkSeed, initLikeTheAuthors, makeActivation, type Activation, type ActivationOptions } from './common.js';
import { checkInt } from '../layers/helpers.js';
import { shown } from '../../util/format.js';

export interface SmallNetOptions extends Placement {
  activation: Activation;
  /** BN after every conv and after the hidden Linear (Table 3's "(BN)"). Default false. */
  batchNorm?: boolean;
  /** Output classes; default 100 (CIFAR-100, as Table 3). */
  classes?: number;
  /** Seeds every random init and the dropout streams; default 0. */
  seed?: number | string;
  /** Activation settings; the defaults are the paper's. */
  activationOptions?: ActivationOptions;
}

/** The paper's Table 3 network (see the module comment); make one with models.smallNet. */
export class SmallNet extends Module {
  readonly features: Sequential;
  readonly flatten: Flatten;
  readonly classifier: Sequential;

  constructor(options: SmallNetOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new Error(`smallNet: options { activation, batchNorm?, classes?, seed? } are required; got ${String(options)}`);
    checkKeys('smallNet', options, ['backend', 'dtype', 'activation', 'batchNorm', 'classes', 'seed', 'activationOptions']);
    checkKeys('smallNet activationOptions', options.activationOptions, ACTIVATION_OPTION_KEYS);
    const activation = checkActivation('smallNet', options.activation);
    const classes = checkInt('smallNet', 'classes', options.classes ?? 100, 1);
    const seed = checkSeed('smallNet', options.seed ?? 0);
    const bn = options.batchNorm ?? false;
    if (typeof bn !== 'boolean') throw new Error(`smallNet: batchNorm must be true or false; got ${shown(bn)}`);
    const placement: Placement = { backend: options.backend, dtype: options.dtype };
    const actOptions = options.activationOptions ?? {};
    const rng = randomStream(seed); // weights, in module order
    let dropouts = 0;
    const dropout = (p: number) => new Dropout(p, { seed: `${seed}/dropout${dropouts++}` }); // one mask stream per layer

    this.features = this.registerModule('features', new Sequential());
    let inChannels = 3;
    for (const width of [32, 64, 128]) {
      this.features.append(new Conv2d(inChannels, width, 3, { padding: 1, bias: false, seed: rng, ...placement }));
      if (bn) this.features.append(new BatchNorm2d(width, placement));
      this.features.append(makeActivation(activation, width, actOptions, placement));
      this.features.append(new MaxPool2d(2));
      this.features.append(dropout(0.2));
      inChannels = width;
    }
    this.flatten = this.registerModule('flatten', new Flatten(1));
    this.classifier = this.registerModule('classifier', new Sequential(new Linear(128 * 4 * 4, 512, { seed: rng, ...placement })));
    if (bn) this.classifier.append(new BatchNorm1d(512, placement));
    this.classifier.append(makeActivation(activation, 512, actOptions, placement));
    this.classifier.append(dropout(0.5));
    this.classifier.append(new Linear(512, classes, { seed: rng, ...placement }));
    initLikeTheAuthors(this, rng);
  }

  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== 3 || x.shape[2] !== 32 || x.shape[3] !== 32) {
      throw new Error(`SmallNet: x must be a batch of 32×32 RGB images [N, 3, 32, 32]; got ${shapeToString(x.shape)}`);
    }
    return this.classifier.forward(this.flatten.forward(this.features.forward(x)));
  }
}

/** SmallNet of the paper's Table 3 (see SmallNet). */
export function smallNet(options: SmallNetOptions): SmallNet {
  return new SmallNet(options);
}
