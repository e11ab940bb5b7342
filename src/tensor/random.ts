/**
 * Seeded random streams. Every random number in gradlab comes from one of these (seedrandom's
 * Alea generator), so every run can be repeated exactly from its seed; the unseeded global generator is never used.
 */
import seedrandom from 'seedrandom';
import type { TypedArray } from './dtype.js';

/** A seeded source of random numbers; every random draw in gradlab comes from one. */
export interface RandomStream {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal N(0, 1) (Box–Muller). */
  normal(): number;
  /** Integer uniform in [0, n). */
  int(n: number): number;
  /**
   * Fills `out` with 0/1 draws, 1 with probability `probability`: out[i] = 1 where the i-th next
   * uniform() would be < probability. The same numbers and the same state after as that loop, in
   * one pass (a dropout mask: a million draws a step).
   */
  bernoulli(out: TypedArray, probability: number): void;
  /** The generator's internal state, to save in a checkpoint and restore with `randomStream(seed, state)`. */
  state(): RandomState;
}

/**
 * The Alea generator's state (seedrandom's State.Alea, written out here so the public types need
 * no @types/seedrandom: a consumer's strict tsc checks them without dev-only packages).
 */
export type AleaState = { c: number; s0: number; s1: number; s2: number };

/** A stream's state (what a checkpoint saves to continue the stream exactly). */
export type RandomState = { alea: AleaState; spare: number | null };

/** A seeded stream of random numbers (seedrandom's Alea); the same seed gives the same numbers. `state` resumes a saved stream. */
export function randomStream(seed: number | string, state?: RandomState): RandomStream {
  let prng = state
    ? seedrandom.alea('', { state: state.alea })
    : seedrandom.alea(String(seed), { state: true });
  let spare: number | null = state ? state.spare : null;
  return {
    uniform: () => prng(),
    normal() {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      // Box–Muller: two uniforms give two independent normals; keep the second for the next call.
      let u = 0;
      while (u === 0) u = prng();
      const v = prng();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int: (n: number) => Math.floor(prng() * n),
    bernoulli(out, probability) {
      // Alea's step, as seedrandom's lib/alea.js writes it (`next`), with the state in local
      // variables instead of the generator's fields: about a third less time than a call per number
      // (each step waits on the one before; that chain is most of what is left). Math.floor is its
      // t | 0, as 0 ≤ t < 2³¹, and quicker here.
      let { c, s0, s1, s2 } = prng.state();
      for (let i = 0; i < out.length; i++) {
        const t = 2091639 * s0 + c * 2.3283064365386963e-10; // 2⁻³²
        s0 = s1;
        s1 = s2;
        c = Math.floor(t);
        s2 = t - c;
        out[i] = s2 < probability ? 1 : 0;
      }
      prng = seedrandom.alea('', { state: { c, s0, s1, s2 } });
    },
    state: () => ({ alea: prng.state(), spare }),
  };
}

/** Fisher–Yates shuffle of 0..n−1 drawn from `rng`. */
export function permutation(n: number, rng: RandomStream): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

let globalStream = randomStream(0);

/** Reseeds the default stream (what ops use when given no seed of their own, e.g. functional dropout). */
export function manualSeed(seed: number | string): void {
  globalStream = randomStream(seed);
}

/** The default stream (seeded 0 at start; `manualSeed` reseeds it). */
export function defaultStream(): RandomStream {
  return globalStream;
}
