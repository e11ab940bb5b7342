/**
 * The numbers behind the report's verdicts: what each equation is compared with, its largest
 * |z|, its worst miss, and the b values where it holds and where it fails. Computed from a run's
 * results only, so the report's sentences cannot contradict its tables.
 */
import { biasOf, type ConfigResult, type EqKey, type LayerResult } from '../init-analysis.js';

/** What an equation is compared with: the gradient variance, E[x̃_l²] (one-step checks) or Var[x_l]. */
export function measuredOf(key: EqKey, r: LayerResult): { value: number; se: number } {
  if (key === 'eq4' || key === 'derivedGrad') return { value: r.measuredGradVar, se: r.measuredGradVarSE };
  if (key === 'stepPaper' || key === 'stepDerived') return { value: r.measuredActSecondMoment, se: r.measuredActSecondMomentSE };
  return { value: r.measuredVar, se: r.measuredVarSE };
}

/** Largest |z| of one equation over the given configurations (anchors skipped). */
export function maxAbsZ(configs: readonly ConfigResult[], key: EqKey): { z: number; where: string } {
  let best = { z: 0, where: '' };
  for (const c of configs) {
    for (const r of c.layers) {
      const z = r[key].z;
      if (z !== null && Math.abs(z) > Math.abs(best.z)) best = { z, where: `${c.config.name}, l = ${r.l}` };
    }
  }
  return best;
}

/** The configuration and layer where a failing equation misses by the largest relative error. */
export function worstMiss(configs: readonly ConfigResult[], key: EqKey): { c: ConfigResult; r: LayerResult } | null {
  let best: { c: ConfigResult; r: LayerResult } | null = null;
  for (const c of configs) {
    for (const r of c.layers) {
      if (r[key].agrees === false && (best === null || Math.abs(r[key].relError) > Math.abs(best.r[key].relError))) best = { c, r };
    }
  }
  return best;
}

/** The smallest |z| among the layers where an equation fails: how clearly it fails. */
export function minFailingZ(configs: readonly ConfigResult[], key: EqKey): number {
  let m = Infinity;
  for (const c of configs) for (const r of c.layers) if (r[key].agrees === false && r[key].z !== null) m = Math.min(m, Math.abs(r[key].z!));
  return m;
}

/** The b values (ReLU counted as b = 0) of the configurations where an equation agrees, and where it does not. */
export function splitByB(configs: readonly ConfigResult[], key: EqKey): { holds: number[]; fails: number[] } {
  const uniq = (cs: readonly ConfigResult[]): number[] => [...new Set(cs.map((c) => biasOf(c.config)))].sort((a, b) => a - b);
  return { holds: uniq(configs.filter((c) => c.agrees[key])), fails: uniq(configs.filter((c) => !c.agrees[key])) };
}
