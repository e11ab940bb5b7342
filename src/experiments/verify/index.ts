/**
 * `gradlab verify`: the paper's mathematics, checked numerically, with a report.
 *
 *   Check 1  eqs. (2)–(3): FReLU's forward and both derivatives on both backends, against the
 *            closed forms and central finite differences, away from the kink and at it.
 *   Check 2  eqs. (4)–(5): the backward variance Var[∂Cost/∂x̃_l], layer by layer, by Monte Carlo.
 *   Check 3  eqs. (6)–(9): the forward variance Var[x_l], layer by layer, against the paper's
 *            recursion, its unrolled and closed forms, and the recursion derived in the report.
 *
 * The formulas and the measurement of checks 2–3 live in ../init-analysis.ts. This folder: plan.ts
 * (which networks, how many samples), checks.ts (check 1), run.ts (`runVerify`: runs everything
 * and writes the outputs), verdicts.ts (the numbers the summary quotes), report.ts (Markdown),
 * figures.ts (SVG), json.ts (the machine-readable result).
 */
export { B_VALUES, bTag, defaultPlan, type PlannedConfig, type VerifyPlan } from './plan.js';
export { checkFrelu, type ErrorStat, type FreluCheck, type KinkRow } from './checks.js';
export { runVerify, type VerifyOptions, type VerifyOutputs, type VerifyResult } from './run.js';
export { renderReport } from './report.js';
export { renderFigures } from './figures.js';
export { toJson } from './json.js';
