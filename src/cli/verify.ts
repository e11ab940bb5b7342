/**
 * `gradlab verify`: checks the FReLU paper's eqs. (2)–(9) numerically and writes a report
 * (Markdown + SVG figures, optionally JSON). The work is in src/experiments/verify/.
 */
import { join, relative } from 'node:path';
import { runVerify } from '../experiments/verify/index.js';
import { parse, type Command } from './command.js';

const HELP = `usage: gradlab verify [options]

Checks the FReLU paper's mathematics numerically, offline, and writes a report:
  1. eqs. (2)–(3): FReLU's forward and derivatives on both backends (reference float64, gpu
     float32), against closed forms and finite differences, away from the kink and at it;
  2. eqs. (4)–(5): the backward variance Var[∂Cost/∂x̃_l] layer by layer, by Monte Carlo over
     deep plain nets (fully connected with equal and changing widths, and a conv net), for ReLU
     and FReLU with b ∈ {−1, −0.5, 0, 0.5};
  3. eqs. (6)–(9): the forward variance Var[x_l] on the same nets, against the paper's equations
     and an independently derived recursion, with statistical errors and yes/no verdicts.

options:
  --out DIR        report folder (default reports): DIR/verify.md and DIR/figures/verify-*.svg
  --json [FILE]    also write the results as JSON (default FILE: DIR/verify.json)
  --quick          fewer and smaller networks: under a minute (default run: a few minutes)
  --seed S         seeds every random stream (default 1); the same seed gives the same numbers
  --no-gpu         run check 1 on the reference backend only

Exit status: 0 when FReLU's ops pass check 1 and the derived expressions agree with the
measurement (whatever the verdicts on the paper's equations); 1 otherwise; 2 on bad options.`;

/** '--json' may come without a file: it becomes '--json=' (an empty value, meaning "beside the report"). */
export function bareJsonFlag(argv: readonly string[]): string[] {
  return argv.map((a, i) => (a === '--json' && (i === argv.length - 1 || argv[i + 1].startsWith('-')) ? '--json=' : a));
}

export const command: Command = {
  name: 'verify',
  help: HELP,
  async run(argv) {
    const args = parse(this, bareJsonFlag(argv), {
      out: { type: 'string' },
      json: { type: 'string' },
      quick: { type: 'boolean' },
      seed: { type: 'string' },
      'no-gpu': { type: 'boolean' },
    });
    if (args === null) return 0;
    const { values } = args;
    const outDir = values.out ?? 'reports';
    if (outDir.trim() === '') throw new Error('verify: --out must name a folder; got an empty string');
    const seed = values.seed ?? '1';
    if (seed.trim() === '') throw new Error('verify: --seed must not be empty');
    const jsonPath = values.json === undefined ? null : values.json === '' ? join(outDir, 'verify.json') : values.json;

    const { result, outputs } = runVerify({
      quick: values.quick ?? false,
      seed: /^-?\d+$/.test(seed) ? Number(seed) : seed,
      outDir,
      jsonPath,
      backends: values['no-gpu'] ? ['reference'] : ['reference', 'gpu'],
    });
    const show = (p: string): string => relative('.', p) || p;
    console.log(`verify: wrote ${show(outputs.report)}`);
    console.log(`verify: wrote ${outputs.figures.length} figures to ${show(join(outDir, 'figures'))}`);
    if (outputs.json) console.log(`verify: wrote ${show(outputs.json)}`);
    for (const c of result.configs) {
      const a = c.agrees;
      const v = (ok: boolean): string => (ok ? 'holds' : 'FAILS');
      console.log(`  ${c.config.name.padEnd(24)} eq4 ${v(a.eq4).padEnd(6)} eq6 ${v(a.eq6).padEnd(6)} eq9 ${v(a.eq9).padEnd(6)} derived ${v(a.derived && a.derivedGrad)}`);
    }
    console.log(result.ok ? 'verify: the library and the derived analysis agree with the measurement' : 'verify: a library check or a derived expression FAILED (see the report)');
    return result.ok ? 0 : 1;
  },
};
