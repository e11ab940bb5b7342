/**
 * `gradlab verify`: what the CLI and the tests use. (Split by part in the next commit.)
 */
export * from './report.js';
