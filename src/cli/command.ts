/** What a `gradlab` sub-command is: a name, its help text and a run function returning an exit code. */
import { relative } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Command {
  readonly name: string;
  readonly help: string;
  run(argv: readonly string[]): Promise<number>;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses argv with node's parseArgs (strict: an unknown option is an error naming it) and turns
 * '--help' into the help text. Returns null when help was printed.
 */
export function parse<O extends Options>(
  command: { name: string; help: string },
  argv: readonly string[],
  options: O,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ options: O; allowPositionals: boolean; strict: true }>> | null {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(command.help);
    return null;
  }
  // `--epochs -3` would be "ambiguous" to parseArgs (a value starting with '-'); a negative number is a value.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : null;
    const next = argv[i + 1];
    if (name !== null && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity|NaN)/.test(next)) {
      args.push(`--${name}=${next}`);
      i++;
    } else args.push(argv[i]);
  }
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]; // parseArgs adds lines of advice
    throw new Error(`${command.name}: ${message} (see gradlab ${command.name} --help)`);
  }
}

/** A numeric option: a clear error when it is not a number in range (`expected` says what is: 'an integer ≥ 1'). */
export function numberOption(
  command: string,
  name: string,
  value: string | undefined,
  fallback: number,
  check: (v: number) => boolean = Number.isFinite,
  expected = 'a valid number',
): number {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (value.trim() === '' || !check(v)) throw new Error(`${command}: --${name} must be ${expected}; got '${value}'`);
  return v;
}

/** Paths relative to the working directory, for messages ('.' for the directory itself). */
export function shortPath(path: string): string {
  return relative('.', path) || '.';
}
