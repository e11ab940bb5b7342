/**
 * g.nn.init: fans, the scale of each initialiser (sample statistics over large weights against the
 * formulas), seeding, in-place replacement, and the error messages.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as g from '../src/index.js';

const init = g.nn.init;
const f64 = { dtype: 'float64' as const, backend: 'reference' as const };

function stats(t: g.Tensor): { mean: number; std: number; min: number; max: number } {
  const v = t.toArray();
  let s = 0;
  for (const x of v) s += x;
  const mean = s / v.length;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  return { mean, std: Math.sqrt(ss / v.length), min: Math.min(...v), max: Math.max(...v) };
}

test('computeFans: conv [O, C, KH, KW] → fanIn C·KH·KW, fanOut O·KH·KW; linear [out, in] → in, out', () => {
  assert.equal(init.computeFans([16, 3, 3, 3]), { fanIn: 27, fanOut: 144 });
  assert.equal(init.computeFans([64, 32, 3, 5]), { fanIn: 480, fanOut: 960 });
  assert.equal(init.computeFans([512, 2048]), { fanIn: 2048, fanOut: 512 });
  assert.throws(() => init.computeFans([10]), /at least 2 axes.*got \[10\]/);
});

// Over n draws the sample std has a relative standard error of about 1/√(2n): 0.26 % for the
// 73,728-element weight below. A 1.5 % tolerance is about 6 standard errors: a wrong fan (a factor
// of 2 or more here) cannot pass, an honest draw cannot fail.
const BIG_CONV = [128, 64, 3, 3]; // fanIn 576, fanOut 1152, 73,728 values

test('kaimingNormal fanOut: std = √(2 / (k²·C_out)), the paper\'s eq. (5), within 1.5 % over 73,728 draws', () => {
  const w = g.zeros(BIG_CONV, f64);
  init.kaimingNormal(w, { mode: 'fanOut', seed: 7 });
  const want = Math.sqrt(2 / (3 * 3 * 128)); // 0.041667
  const s = stats(w);
  assert.ok(Math.abs(s.std / want - 1) < 0.015, `std ${s.std}, want ${want}`);
  assert.ok(Math.abs(s.mean) < (5 * want) / Math.sqrt(w.size), `mean ${s.mean} should be ≈ 0`);
});

test('kaimingNormal fanIn (default mode): std = √(2 / (C·k²)); gain scales it', () => {
  const w = g.zeros(BIG_CONV, f64);
  init.kaimingNormal(w, { seed: 8 });
  const want = Math.sqrt(2 / (64 * 9));
  assert.ok(Math.abs(stats(w).std / want - 1) < 0.015, `std ${stats(w).std}, want ${want}`);
  init.kaimingNormal(w, { mode: 'fanIn', gain: 1, seed: 8 });
  assert.ok(Math.abs(stats(w).std / (1 / Math.sqrt(576)) - 1) < 0.015);
});

test('kaimingUniform: values inside ±gain·√(3/fan), reaching near the bound, variance gain²/fan', () => {
  const w = g.zeros(BIG_CONV, f64);
  init.kaimingUniform(w, { mode: 'fanOut', seed: 9 });
  const bound = Math.SQRT2 * Math.sqrt(3 / 1152);
  const s = stats(w);
  assert.ok(s.min >= -bound && s.max <= bound, `range [${s.min}, ${s.max}] exceeds ±${bound}`);
  assert.ok(s.max > 0.999 * bound && s.min < -0.999 * bound, 'the draws should fill the range');
  assert.ok(Math.abs(s.std / Math.sqrt(2 / 1152) - 1) < 0.015, `std ${s.std}`);
});

test('xavierUniform: bound √(6 / (fanIn + fanOut)) for a Linear weight [300, 200]', () => {
  const w = g.zeros([300, 200], f64);
  init.xavierUniform(w, { seed: 10 });
  const bound = Math.sqrt(6 / 500);
  const s = stats(w);
  assert.ok(s.min >= -bound && s.max <= bound && s.max > 0.99 * bound);
  assert.ok(Math.abs(s.std / Math.sqrt(2 / 500) - 1) < 0.02, `std ${s.std}, want ${Math.sqrt(2 / 500)}`);
});

test('uniform and normal: the given range / moments', () => {
  const w = g.zeros([200, 200], f64);
  init.uniform(w, { low: 2, high: 3, seed: 1 });
  const u = stats(w);
  assert.ok(u.min >= 2 && u.max < 3 && Math.abs(u.mean - 2.5) < 0.01);
  init.normal(w, { mean: -1, std: 0.5, seed: 1 });
  const n = stats(w);
  assert.ok(Math.abs(n.mean + 1) < 0.01 && Math.abs(n.std / 0.5 - 1) < 0.02, `mean ${n.mean}, std ${n.std}`);
});

test('constant fills every element; works on a scalar (FReLU b)', () => {
  const b = g.zeros([], f64);
  init.constant(b, -1);
  assert.is(b.item(), -1);
  const w = g.zeros([3, 4]);
  init.constant(w, 0.25);
  assert.equal(Array.from(w.toArray()), new Array(12).fill(0.25));
});

test('initialisers replace values in place: the same tensor object, still a leaf requiring grad, returned', () => {
  const w = g.zeros([4, 3], { ...f64, requiresGrad: true });
  const out = init.kaimingNormal(w, { seed: 1 });
  assert.is(out, w);
  assert.ok(w.requiresGrad && w.node === null, 'still a trainable leaf');
  assert.ok(Array.from(w.toArray()).some((v) => v !== 0));
});

test('seeded: one seed gives one draw; float32 holds the float64 draw rounded; a stream continues', () => {
  const a = init.kaimingNormal(g.zeros([8, 4], f64), { seed: 'x' });
  const b = init.kaimingNormal(g.zeros([8, 4], f64), { seed: 'x' });
  const c = init.kaimingNormal(g.zeros([8, 4], { dtype: 'float32' }), { seed: 'x' });
  assert.equal(Array.from(a.toArray()), Array.from(b.toArray()));
  assert.equal(Array.from(c.toArray()), Array.from(Float32Array.from(a.toArray())));
  const other = init.kaimingNormal(g.zeros([8, 4], f64), { seed: 'y' });
  assert.not.equal(Array.from(a.toArray()), Array.from(other.toArray()));
  // From a stream: two weights drawn one after the other equal one draw of both sizes.
  const rng = g.randomStream(3);
  const first = init.normal(g.zeros([5], f64), { std: 1, seed: rng });
  const second = init.normal(g.zeros([7], f64), { std: 1, seed: rng });
  const both = init.normal(g.zeros([12], f64), { std: 1, seed: 3 });
  assert.equal([...first.toArray(), ...second.toArray()], Array.from(both.toArray()));
});

test('errors: a missing seed, a bad mode, a 1-D weight, a NaN constant', () => {
  const w = g.zeros([4, 3]);
  assert.throws(() => init.kaimingNormal(w, {} as g.nn.init.KaimingOptions), /kaimingNormal: options\.seed is required/);
  assert.throws(() => init.kaimingUniform(w, { mode: 'fan_in' as g.nn.init.FanMode, seed: 1 }), /kaimingUniform: mode must be 'fanIn' or 'fanOut'; got "fan_in"/);
  assert.throws(() => init.xavierUniform(g.zeros([5]), { seed: 1 }), /xavierUniform: fans are defined for a weight of at least 2 axes.*got \[5\]/);
  assert.throws(() => init.constant(w, Number.NaN), /constant: value must be a number; got NaN/);
});

test.run();
