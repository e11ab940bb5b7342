/**
 * g.optim: optimisers and learning-rate schedules. They need only tensors and their gradients, not `nn`.
 *
 * @module
 */
export { SGD, type SGDOptions, type SGDState, type ParameterList } from './sgd.js';
export { Adam, AdamW, type AdamOptions, type AdamState } from './adam.js';
export { MultiStepLR, type MultiStepLROptions, type MultiStepLRState, type HasLearningRate } from './lr-scheduler.js';
