/**
 * The network of a run, built once here for every experiment (train, reproduce's timing), and
 * what the run reads off it: which parameters are BN's or FReLU's, and the FReLU b values.
 */
import type { Module } from '../../nn/module.js';
import { BatchNorm1d, BatchNorm2d, FReLU } from '../../nn/layers/index.js';
import { resnet, smallNet } from '../../nn/models/index.js';
import type { TrainConfig } from './config.js';

/** SmallNet (Table 3) or ResNet-<depth> (Table 2, Fig. 4) as the config says, with `classes` outputs. */
export function buildModel(
  config: Pick<TrainConfig, 'model' | 'activation' | 'batchNorm' | 'block' | 'perChannel' | 'freluBGradScale' | 'freluBKeepNonPositive' | 'seed' | 'backend'>,
  classes: number,
): Module {
  const { activation, seed, backend } = config;
  const activationOptions = { perChannel: config.perChannel, bGradScale: config.freluBGradScale, bKeepNonPositive: config.freluBKeepNonPositive };
  if (config.model === 'smallnet') return smallNet({ activation, batchNorm: config.batchNorm, classes, seed, backend, activationOptions });
  const depth = Number(config.model.slice('resnet'.length));
  return resnet({ depth, classes, block: config.block, activation, seed, backend, activationOptions });
}

/** Names of BN γ/β and FReLU b parameters (for the noDecayBnAndB option). */
export function parametersOfBnAndFrelu(model: Module): Set<string> {
  const names = new Set<string>();
  for (const [path, m] of model.namedModules()) {
    if (m instanceof BatchNorm1d || m instanceof BatchNorm2d || m instanceof FReLU) {
      for (const [name] of m.namedParameters()) names.add(path === '' ? name : `${path}.${name}`);
    }
  }
  return names;
}

/** FReLU b values by layer path: a number for a layer-wise b, an array for a per-channel one. */
export function freluValues(model: Module): Record<string, number | number[]> {
  const out: Record<string, number | number[]> = {};
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof FReLU)) continue;
    const b = Array.from(m.b.toArray());
    out[path] = b.length === 1 ? b[0] : b;
  }
  return out;
}
