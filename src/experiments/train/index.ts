/**
 * One training run (`gradlab train`, and each job of `gradlab reproduce`): what the CLI, the
 * reproduce runner and the tests use. The run itself is run.ts; checkpoint files, checkpoint-file.ts.
 */
export * from './run.js';
export * from './checkpoint-file.js';
