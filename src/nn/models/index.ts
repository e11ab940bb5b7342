/**
 * g.models: the paper's networks.
 *
 * @module
 */
export { smallNet, SmallNet, type SmallNetOptions } from './small-net.js';
export { resnet, ResNet, BasicBlock, ShortcutA, type ResNetOptions, type BlockVariant, type BasicBlockOptions } from './resnet.js';
export { ACTIVATIONS, initLikeTheAuthors, type Activation, type ActivationOptions } from './common.js';
