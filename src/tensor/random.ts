/**
 * Seeded random streams. Every random number in gradlab comes from one of these (seedrandom's
 * Alea generator), so every run can be repeated exactly from its seed; the unseeded global generator is never used.
 */
import seedrandom from 'seedrandom';

/** A seeded source of random numbers; every random draw in gradlab comes from one. */
export interface RandomStream {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal N(0, 1) (Box–Muller). */
  normal(): number;
  /** Integer uniform in [0, n). */
  int(n: number): number;
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
  const prng = state
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
