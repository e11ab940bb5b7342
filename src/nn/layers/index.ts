/** The layers of g.nn, by group. */
export { Sequential, Flatten } from './containers.js';
export { Linear, Conv2d, type LinearOptions, type Conv2dOptions } from './linear.js';
export { MaxPool2d, AvgPool2d, type Pool2dOptions } from './pooling.js';
export { BatchNorm1d, BatchNorm2d, type BatchNormOptions } from './normalization.js';
export { Dropout, type DropoutOptions } from './dropout.js';
export { ReLU, LeakyReLU, PReLU, ELU, FReLU, Sigmoid, Tanh, Softmax, type PReLUOptions, type FReLUOptions, type SoftmaxOptions } from './activations.js';
