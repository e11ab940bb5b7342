/**
 * `runVerify`: runs check 1 on each backend and checks 2–3 on every planned network, then writes
 * the Markdown report, its SVG figures and (when asked) the JSON, all atomically.
 */
import { join } from 'node:path';
import type { BackendName } from '../../tensor/backends/backend.js';
import { writeFileAtomic, writeJsonAtomic } from '../../node/files.js';
import { ProgressBar } from '../../util/progress.js';
import { analyse, measure, type ConfigResult } from '../init-analysis.js';
import { defaultPlan, type VerifyPlan } from './plan.js';
import { checkFrelu, failedCheck, type FreluCheck } from './checks.js';
import { renderReport } from './report.js';
import { renderFigures } from './figures.js';
import { toJson } from './json.js';

export interface VerifyOptions {
  quick?: boolean;
  seed?: number | string;
  /** Folder for verify.md and figures/ (default 'reports'). */
  outDir?: string;
  /** Where to write the JSON; null (the default) for none. */
  jsonPath?: string | null;
  /** Replaces the default plan (tests use small ones). */
  plan?: VerifyPlan;
  /** Backends for check 1 (default both). */
  backends?: readonly BackendName[];
  /** Progress and log lines (default: stderr). */
  log?: NodeJS.WriteStream | null;
}

export interface VerifyResult {
  seed: number | string;
  quick: boolean;
  seconds: number;
  check1: FreluCheck[];
  configs: ConfigResult[];
  /** The library and the derivation hold: check 1 passed everywhere and every derived prediction agrees. */
  ok: boolean;
}

export interface VerifyOutputs {
  report: string;
  figures: string[];
  json: string | null;
}

/** Runs every check, writes the report, its figures and (if asked) the JSON. */
export function runVerify(options: VerifyOptions = {}): { result: VerifyResult; outputs: VerifyOutputs } {
  const quick = options.quick ?? false;
  const seed = options.seed ?? 1;
  const plan = options.plan ?? defaultPlan(quick);
  const outDir = options.outDir ?? 'reports';
  const log = options.log === undefined ? process.stderr : options.log;
  const say = (line: string): void => void log?.write(line + '\n');
  const start = performance.now();

  const check1: FreluCheck[] = [];
  for (const backend of options.backends ?? (['reference', 'gpu'] as const)) {
    say(`verify: eqs. (2)–(3) on the ${backend} backend`);
    try {
      check1.push(checkFrelu(backend, plan.pointsPerB, seed));
    } catch (err) {
      check1.push(failedCheck(backend, err instanceof Error ? err.message : String(err)));
      say(`verify: the ${backend} backend could not run check 1: ${check1[check1.length - 1].error}`);
    }
  }

  const configs: ConfigResult[] = [];
  for (const { cfg, networks, batch } of plan.configs) {
    const bar = log ? new ProgressBar({ label: `verify ${cfg.name}`, total: networks, unit: 'net', stream: log }) : null;
    const runs = measure(cfg, { networks, batch, seed, onNetwork: (done) => bar?.update(done) });
    configs.push(analyse(cfg, runs, batch));
  }

  const ok = check1.every((c) => c.ok) && configs.every((c) => c.agrees.derived && c.agrees.derivedGrad);
  const result: VerifyResult = { seed, quick, seconds: (performance.now() - start) / 1000, check1, configs, ok };

  const figures = renderFigures(result);
  const figurePaths: string[] = [];
  for (const [name, svg] of figures) {
    const path = join(outDir, 'figures', name);
    writeFileAtomic(path, svg);
    figurePaths.push(path);
  }
  const reportPath = join(outDir, 'verify.md');
  writeFileAtomic(reportPath, renderReport(result));
  const jsonPath = options.jsonPath ?? null;
  if (jsonPath !== null) writeJsonAtomic(jsonPath, toJson(result));
  return { result, outputs: { report: reportPath, figures: figurePaths, json: jsonPath } };
}
