/**
 * The plan of a `gradlab verify` run: which networks (fully connected with equal and with changing
 * widths, a conv net; ReLU and FReLU for each b), how many of each and how many inputs per network.
 */
import type { NetConfig } from '../init-analysis.js';

export interface PlannedConfig {
  cfg: NetConfig;
  networks: number;
  batch: number;
}

export interface VerifyPlan {
  configs: PlannedConfig[];
  /** Random points per b value in check 1. */
  pointsPerB: number;
}

export const B_VALUES: readonly number[] = [-1, -0.5, 0, 0.5];

/** A file- and seed-friendly tag for b: −1 → 'bm1', 0.5 → 'bp0.5', 0 → 'b0'. */
export function bTag(b: number): string {
  return b < 0 ? `bm${-b}` : b > 0 ? `bp${b}` : 'b0';
}

/** ReLU, then FReLU for each b, on one network shape. */
function family(name: string, base: Omit<NetConfig, 'name' | 'activation' | 'b'>, networks: number, batch: number, bValues = B_VALUES): PlannedConfig[] {
  return [
    { cfg: { ...base, name: `${name}-relu`, activation: 'relu' as const, b: 0 }, networks, batch },
    ...bValues.map((b) => ({ cfg: { ...base, name: `${name}-frelu-${bTag(b)}`, activation: 'frelu' as const, b }, networks, batch })),
  ];
}

/**
 * The default run (a few minutes on 2 cores) and the quick one (under a minute): fully connected
 * nets with equal and with changing widths, and a conv net with changing channel counts (k = 3).
 */
export function defaultPlan(quick: boolean): VerifyPlan {
  if (quick) {
    return {
      pointsPerB: 500,
      configs: [
        ...family('fc-equal', { net: 'fc', widths: [128, 128, 128, 128, 128, 128, 128], kernel: 1 }, 16, 32),
        ...family('fc-changing', { net: 'fc', widths: [96, 128, 64, 160, 96, 128, 80], kernel: 1 }, 16, 32),
        ...family('conv', { net: 'conv', widths: [4, 8, 12, 8, 16], kernel: 3, spatial: 12 }, 24, 6),
      ],
    };
  }
  return {
    pointsPerB: 2000,
    configs: [
      ...family('fc-equal', { net: 'fc', widths: Array(11).fill(256), kernel: 1 }, 24, 64),
      ...family('fc-changing', { net: 'fc', widths: [128, 256, 160, 320, 192, 256, 128, 288, 224, 160, 256], kernel: 1 }, 24, 64),
      ...family('conv', { net: 'conv', widths: [8, 16, 24, 16, 32, 16], kernel: 3, spatial: 16 }, 20, 8),
    ],
  };
}

/** The network shape a configuration belongs to: its name without the activation part `family` added. */
export function familyOf(cfg: NetConfig): string {
  return cfg.name.replace(/-(relu|frelu-b.*)$/, '');
}

/** 'ReLU' or 'FReLU b = …'. */
export function describeB(cfg: NetConfig): string {
  return cfg.activation === 'relu' ? 'ReLU' : `FReLU b = ${cfg.b}`;
}
