/**
 * The peers' figures, as recorded on this kind of machine (Debian 12, Node 20, 2 vCPU Xeon with
 * AVX-512, no GPU) on 2026-11-28 — ../shared/peers/RESULTS.md (medians of ≥ 5 reps after warm-up;
 * PyTorch varied by up to ~30 % between sessions). They were not measured in this run: a ratio
 * against them carries that run's conditions and this run's, so read it as ±30 % — more when the
 * CPU differs (each benchmark header prints this machine's).
 *
 * bench/run.ts divides by these only where the run has no figure of its own: PyTorch is measured in
 * the run itself wherever a Python has torch (the 'torch' target, at 1 thread and at all cores), and
 * those figures replace torch1T; note that they were recorded with OpenBLAS forced to its AVX-512
 * kernels, while a plain `apt-get install python3-torch` brings the netlib reference BLAS (its
 * GEMM ~30× slower; conv runs on oneDNN either way), which the torch target's notes name.
 *
 * Rates are in the workload's unit per second: GFLOP/s for gemm and conv, images/s for steps.
 * "conv peers" is the peers' own layer, x[64,32,16,16] * w[64,32,3,3] stride 1 pad 1; its backward
 * (dx + dw) rate is derived from their fwd+bwd time (counted 3× the forward FLOP) minus the forward.
 */
export interface PeerRates {
  /** PyTorch 1.13, one thread, OpenBLAS AVX-512 (oneDNN for conv). */
  torch1T?: number;
  /** TensorFlow.js 4.22 wasm backend (XNNPACK, SIMD, one thread). */
  tfjsWasm?: number;
}

export const PEER_SOURCE = '../shared/peers/RESULTS.md, recorded 2026-11-28 (not this run)';

// conv peers: 604 MFLOP forward; torch-1T 6.9 ms fwd, 16.5 ms fwd+bwd → bwd 9.6 ms for 1208 MFLOP;
// tfjs-wasm 27.4 ms fwd, 2662 ms fwd+bwd (with the peers' dW shim) → bwd 2635 ms.
const CONV_FLOP = 2 * 64 * 64 * 16 * 16 * 32 * 9;

export const PEERS: Readonly<Record<string, PeerRates>> = {
  'gemm.fwd 256': { torch1T: 150, tfjsWasm: 21.2 },
  'gemm.fwd 512': { torch1T: 152, tfjsWasm: 24.9 },
  'gemm.fwd 1024': { torch1T: 159, tfjsWasm: 26.0 },
  'conv.fwd peers': { torch1T: 88, tfjsWasm: 22.1 },
  'conv.bwd peers': { torch1T: (2 * CONV_FLOP) / 9.6e-3 / 1e9, tfjsWasm: (2 * CONV_FLOP) / 2.635 / 1e9 },
  'step smallnet': { torch1T: 621, tfjsWasm: 10.6 },
  'step resnet20': { torch1T: 316, tfjsWasm: 3.4 },
};
