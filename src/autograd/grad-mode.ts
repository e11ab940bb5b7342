/** Whether ops record the graph. `noGrad(fn)` runs fn without recording (evaluation, optimiser updates). */
let enabled = true;

/** Whether ops record the graph now (false inside g.noGrad). */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs `fn` without building the autograd graph; results do not require gradients. */
export function noGrad<T>(fn: () => T): T {
  const before = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = before;
  }
}

let checkFinite = false;

/** When on, every op on the reference backend checks its output for NaN/Inf and names itself if it finds one. */
export function setCheckFinite(on: boolean): void {
  checkFinite = on;
}
export function isCheckFiniteOn(): boolean {
  return checkFinite;
}
