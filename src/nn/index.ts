/**
 * g.nn: network ops (functional), modules and layers, initialisers.
 *
 * @module
 */
export * as functional from './functional.js';
export * as init from './init.js';
export { Module, type Placement, type StateDict } from './module.js';
export * from './layers/index.js';
