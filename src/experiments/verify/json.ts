/**
 * The machine-readable result of `gradlab verify` (`--json`): the setup in words, check 1, and per
 * configuration and layer every measured and predicted variance with its standard error and z.
 */
import { biasOf, depth } from '../init-analysis.js';
import type { VerifyResult } from './run.js';

/** The machine-readable result (the shape, plus standard errors, z scores and the symmetry data). */
export function toJson(result: VerifyResult): object {
  return {
    tool: 'gradlab verify',
    seed: result.seed,
    quick: result.quick,
    seconds: +result.seconds.toFixed(1),
    ok: result.ok,
    setup: {
      input: 'x̃_1 i.i.d. N(0, 1)',
      init: 'w_l i.i.d. N(0, 2/n̂_l), n̂_l = k²·d_l (eq. 5, fan-out)',
      cost: 'Cost = Σ r ⊙ x_L with r i.i.d. N(0, 1) (random linear readout), so ∂Cost/∂x_L = r',
      widths: '[c_1, d_1, …, d_L]: the input width, then each layer\'s output width',
      variance: 'mean of x_l² (E[x_l] = 0 by symmetry) over inputs and units; conv: interior pixels only',
      standardError: 'sd over independent networks / √networks (paired per network for predictions from a measured anchor)',
      agreement: '|measured − predicted| ≤ tCrit·SE, tCrit = Student t (df = networks − 1) at two-sided alpha / L',
    },
    eq2eq3: result.check1,
    configs: result.configs.map((c) => {
      const L = depth(c.config);
      const last = c.layers[L - 1];
      return {
        name: c.config.name,
        net: c.config.net,
        widths: c.config.widths,
        kernel: c.config.kernel,
        ...(c.config.spatial !== undefined ? { spatial: c.config.spatial } : {}),
        activation: c.config.activation,
        b: biasOf(c.config),
        samples: c.networks * c.batch,
        networks: c.networks,
        inputsPerNetwork: c.batch,
        tCrit: c.tCrit,
        alpha: c.alpha,
        layers: c.layers.map((r) => ({
          l: r.l,
          measuredVar: r.measuredVar,
          measuredVarSE: r.measuredVarSE,
          paperEq6Var: r.eq6.predicted,
          paperEq78Var: r.eq78.predicted,
          paperEq9Var: r.eq9.predicted,
          derivedVar: r.derived.predicted,
          measuredGradVar: r.measuredGradVar,
          measuredGradVarSE: r.measuredGradVarSE,
          paperEq4GradVar: r.eq4.predicted,
          derivedGradVar: r.derivedGrad.predicted,
          z: { eq6: r.eq6.z, eq78: r.eq78.z, eq9: r.eq9.z, derived: r.derived.z, eq4: r.eq4.z, derivedGrad: r.derivedGrad.z, stepPaper: r.stepPaper.z, stepDerived: r.stepDerived.z },
          measuredActSecondMoment: r.measuredActSecondMoment,
          measuredActSecondMomentSE: r.measuredActSecondMomentSE,
          stepPaperActSecondMoment: r.stepPaper.predicted,
          stepDerivedActSecondMoment: r.stepDerived.predicted,
          measuredMean: r.measuredMean,
          measuredMeanSE: r.measuredMeanSE,
          fractionPositive: r.fractionPositive,
          fractionPositiveSE: r.fractionPositiveSE,
          measuredReluMean: r.measuredReluMean,
          gaussianRatio: r.gaussianRatio,
          gaussianRatioSE: r.gaussianRatioSE,
          measuredActMean: r.measuredActMean,
          measuredElementsPerInput: c.countX[r.l - 1],
        })),
        paperEq9Var: last.eq9.predicted,
        eq78UnderEq5Var: c.eq78UnderEq5Last,
        agrees: c.agrees,
      };
    }),
  };
}
