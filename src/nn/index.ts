/** g.nn: network ops (functional), modules, initialisers. */
export * as functional from './functional.js';
