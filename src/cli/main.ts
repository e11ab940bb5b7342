#!/usr/bin/env node
/**
 * The `gradlab` command: one sub-command per job (see `gradlab --help`). Each sub-command lives in
 * its own file of this folder and exports a `Command`.
 */
import type { Command } from './command.js';

const COMMANDS: Record<string, () => Promise<Command>> = {
  download: async () => (await import('./download.js')).command,
  train: async () => (await import('./train.js')).command,
  reproduce: async () => (await import('./reproduce.js')).command,
  verify: async () => (await import('./verify.js')).command,
  bench: async () => (await import('./bench.js')).command,
};

function usage(): string {
  const lines = Object.keys(COMMANDS).map((name) => `  gradlab ${name}`);
  return ['usage: gradlab <command> [options]   (gradlab <command> --help for its options)', '', 'commands:', ...lines].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`gradlab: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const command = await load();
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`gradlab: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
