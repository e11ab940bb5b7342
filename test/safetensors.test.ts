/**
 * g.io: the safetensors format. Round trips of every dtype, a file laid out by hand byte by byte
 * (as the format's specification describes it, independent of gradlab's writer), each kind of
 * corrupt file refused with its own message, and a trained SmallNet's stateDict saved and loaded
 * back exactly, with PyTorch's names and layouts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as g from '../src/index.js';
import { saveModelSafetensors } from '../src/node/safetensors.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'gradlab-safetensors-'));
  dirs.push(d);
  return d;
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const ref = { backend: 'reference' as const };

/** A file laid out by hand: 8-byte little-endian header length, the JSON header, the data. */
function handMade(header: unknown, data: number[] | Uint8Array, headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  let n = json.length;
  for (let i = 0; i < 8; i++) {
    out[i] = n & 0xff; // little-endian, one byte at a time
    n = Math.floor(n / 256);
  }
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test('round trip of every dtype gradlab has (float32, float64) and of I64, through bytes and through a file', () => {
  const f32 = g.tensor([[1.5, -2.25, 3], [0, 1e-30, -7e20]], { dtype: 'float32', ...ref });
  const f64 = g.tensor([Math.PI, -Math.E, 1e-300, 2 ** 60 + 0.5], { dtype: 'float64', ...ref });
  const scalar = g.tensor(-1, { dtype: 'float32', ...ref });
  const empty = g.zeros([0, 3], { dtype: 'float64', ...ref });
  const counter = g.tensor([123456], { dtype: 'float64', ...ref });
  const state = { 'a.weight': f32, 'b.values': f64, 'c.b': scalar, 'd.empty': empty, 'bn.num_batches_tracked': counter };
  const dir = tempDir();
  const path = join(dir, 'all.safetensors');
  g.io.saveSafetensors(path, state, { metadata: { format: 'pt', note: 'gradlab test' } });
  const file = g.io.readSafetensorsFile(path);
  assert.equal(file.metadata, { format: 'pt', note: 'gradlab test' });
  assert.equal(Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [k, t.dtype])), {
    'a.weight': 'F32', 'b.values': 'F64', 'bn.num_batches_tracked': 'I64', 'c.b': 'F32', 'd.empty': 'F64',
  });
  const back = g.io.loadSafetensors(path, ref);
  for (const [name, t] of Object.entries(state)) {
    assert.equal(back[name].shape, t.shape, `${name}: shape`);
    assert.equal(Array.from(back[name].toArray()), Array.from(t.toArray()), `${name}: values, bit for bit`);
  }
  assert.is(back['a.weight'].dtype, 'float32');
  assert.is(back['b.values'].dtype, 'float64');
  // The header is padded with spaces to a multiple of 8, so every tensor's data stays aligned.
  const bytes = readFileSync(path);
  assert.is(Number(bytes.readBigUInt64LE(0)) % 8, 0);
});

test('a file laid out by hand byte by byte loads: F32 and F64 little-endian, C order, metadata, tensors in any order', () => {
  // w: F32 [2, 2] = [[1, 2], [3, 4]] at [8, 24); v: F64 [1] = 0.5 at [0, 8).
  const f32 = [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40]; // 1, 2, 3, 4
  const f64 = [0, 0, 0, 0, 0, 0, 0xe0, 0x3f]; // 0.5
  const header = {
    __metadata__: { format: 'pt' },
    w: { dtype: 'F32', shape: [2, 2], data_offsets: [8, 24] },
    v: { dtype: 'F64', shape: [1], data_offsets: [0, 8] },
  };
  const { tensors, metadata } = g.io.decodeSafetensors(handMade(header, [...f64, ...f32]));
  assert.equal(metadata, { format: 'pt' });
  assert.equal(tensors.w.shape, [2, 2]);
  assert.equal(Array.from(tensors.w.data), [1, 2, 3, 4]);
  assert.equal(Array.from(tensors.v.data), [0.5]);
  // And gradlab's writer produces exactly such bytes: length, JSON, data.
  const ours = g.io.encodeSafetensors({ x: { dtype: 'F32', shape: [1], data: new Float32Array([1]) } });
  const n = Number(new DataView(ours.buffer).getBigUint64(0, true));
  assert.equal(JSON.parse(new TextDecoder().decode(ours.subarray(8, 8 + n))), { x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } });
  assert.equal(Array.from(ours.subarray(8 + n)), [0x00, 0x00, 0x80, 0x3f]);
});

test('each kind of corrupt file is refused with its own message', () => {
  const four = [0, 0, 0x80, 0x3f];
  const ok = { w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } };
  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than the length field', new Uint8Array([1, 2, 3]), /fewer than the 8 of the header length/],
    ['header length past the end', (() => { const b = handMade(ok, four); b[0] = 200; return b; })(), /header length 200 runs past the end of the file/],
    ['non-JSON header', handMade(null, four, '{"w": {"dtype": "F32",'), /the header is not JSON/],
    ['header not an object', handMade([1, 2], four), /must be a JSON object/],
    ['unknown dtype', handMade({ w: { dtype: 'Q7', shape: [1], data_offsets: [0, 4] } }, four), /dtype "Q7", which gradlab does not read \(it reads F32, F64, I64\)/],
    ['offsets out of range', handMade({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, four), /data_offsets \[4, 8\], outside the data buffer of 4 bytes/],
    ['offsets reversed', handMade({ w: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, four), /outside the data buffer/],
    ['overlapping tensors', handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, [...four, ...four, ...four]), /'a' \[0, 8\] and 'b' \[4, 12\] overlap/],
    ['shape × dtype ≠ byte count', handMade({ w: { dtype: 'F64', shape: [1], data_offsets: [0, 4] } }, four), /F64 \[1\]: 8 bytes, but its data_offsets \[0, 4\] hold 4/],
    ['bad shape', handMade({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, four), /shape \[-1\]/],
    ['bad metadata', handMade({ __metadata__: { a: 1 }, ...ok }, four), /'__metadata__.a' must be a string/],
  ];
  for (const [what, bytes, message] of cases) {
    assert.throws(() => g.io.decodeSafetensors(bytes, 'bad.safetensors'), (e: Error) => {
      assert.match(e.message, /^safetensors: bad\.safetensors is not a valid safetensors file: /, what);
      assert.match(e.message, message, what);
      return true;
    }, what);
  }
  // Through a file, the message names the path.
  const path = join(tempDir(), 'torn.safetensors');
  writeFileSync(path, handMade(ok, four).subarray(0, 20));
  assert.throws(() => g.io.loadSafetensors(path), new RegExp(`${path.replace(/[.]/g, '\\.')} is not a valid safetensors file: the header length`));
});

test('a trained SmallNet (BN + FReLU): stateDict names and layouts as PyTorch, saved and loaded back exactly', () => {
  const net = g.models.smallNet({ activation: 'frelu', batchNorm: true, classes: 10, seed: 5, ...ref });
  const opt = new g.optim.SGD(net.namedParameters(), { lr: 0.05, momentum: 0.9 });
  const x = g.randn([4, 3, 32, 32], { seed: 6, ...ref });
  const y = g.tensor([0, 1, 2, 3], ref);
  for (let step = 0; step < 2; step++) {
    g.tidy(() => {
      opt.zeroGrad();
      g.nn.functional.crossEntropy(net.forward(x), y).backward();
      opt.step();
    });
  }
  const state = net.stateDict();
  const shapes = Object.fromEntries(Object.entries(state).map(([k, t]) => [k, t.shape]));
  // PyTorch's names for the same module tree, and its layouts: conv [O, C, KH, KW], linear [out, in].
  assert.equal(shapes['features.0.weight'], [32, 3, 3, 3]);
  assert.equal(shapes['features.1.weight'], [32]);
  assert.equal(shapes['features.2.b'], []);
  assert.equal(shapes['classifier.0.weight'], [512, 2048]);
  assert.equal(shapes['classifier.4.weight'], [10, 512]);
  assert.equal(shapes['classifier.4.bias'], [10]);
  const runningMean = Object.keys(state).find((k) => k.startsWith('features.1.running') || k === 'features.1.runningMean');
  assert.ok(runningMean, 'BN running statistics are in the state dict');
  const path = join(tempDir(), 'model.safetensors');
  g.io.saveSafetensors(path, state);
  const copy = g.models.smallNet({ activation: 'frelu', batchNorm: true, classes: 10, seed: 99, ...ref });
  copy.loadStateDict(g.io.loadSafetensors(path, ref));
  const after = copy.stateDict();
  for (const [k, t] of Object.entries(state)) assert.equal(Array.from(after[k].toArray()), Array.from(t.toArray()), k);
  // The trained b moved away from its initial −1, and came back exactly.
  assert.not.equal(state['features.2.b'].item(), -1);
  net.eval();
  copy.eval();
  assert.equal(Array.from(copy.forward(x).toArray()), Array.from(net.forward(x).toArray()), 'same logits');
});

test('loadStateDict names missing, unexpected and mis-shaped keys of a loaded file', () => {
  const net = g.models.smallNet({ activation: 'relu', classes: 10, seed: 1, ...ref });
  const state = net.stateDict();
  const path = join(tempDir(), 'bad-model.safetensors');
  const { ['classifier.3.bias']: _dropped, ...rest } = state;
  g.io.saveSafetensors(path, { ...rest, 'classifier.9.weight': g.zeros([1], ref), 'features.0.weight': g.zeros([32, 3, 5, 5], ref) });
  assert.throws(() => net.loadStateDict(g.io.loadSafetensors(path, ref)), (e: Error) => {
    assert.match(e.message, /missing key 'classifier\.3\.bias'/);
    assert.match(e.message, /unexpected key 'classifier\.9\.weight'/);
    assert.match(e.message, /'features\.0\.weight' has shape \[32, 3, 3, 3\] in the SmallNet; got \[32, 3, 5, 5\]/);
    return true;
  });
});

test("PyTorch loads the README's SmallNet from gradlab's model.safetensors and computes the same logits (when python3 has torch and safetensors)", () => {
  const python = process.env.GRADLAB_PYTHON ?? 'python3';
  const probe = spawnSync(python, ['-c', 'import torch, safetensors'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log(`      skipped: ${python} has no torch + safetensors (set GRADLAB_PYTHON to a python that has both)`);
    return;
  }
  const dir = tempDir();
  const net = g.models.smallNet({ activation: 'frelu', batchNorm: true, classes: 100, seed: 3, ...ref });
  const opt = new g.optim.SGD(net.namedParameters(), { lr: 0.05, momentum: 0.9 });
  const x = g.randn([4, 3, 32, 32], { seed: 7, ...ref });
  const y = g.tensor([0, 1, 2, 3], ref);
  for (let i = 0; i < 2; i++) g.tidy(() => { opt.zeroGrad(); g.nn.functional.crossEntropy(net.forward(x), y).backward(); opt.step(); });
  saveModelSafetensors(join(dir, 'model.safetensors'), net);
  net.eval();
  g.io.saveSafetensors(join(dir, 'io.safetensors'), { x, logits: net.forward(x) });
  const block = /```python\n([\s\S]*?)```/.exec(readFileSync('README.md', 'utf8'));
  assert.ok(block, 'the README has a Python block');
  const script = block[1].replace('runs/a/model.safetensors', join(dir, 'model.safetensors')) +
    `io = load_file(${JSON.stringify(join(dir, 'io.safetensors'))})\n` +
    "with torch.no_grad(): print((net(io['x']) - io['logits']).abs().max().item())\n";
  const r = spawnSync(python, ['-c', script], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const diff = Number(r.stdout.trim());
  console.log(`      PyTorch: strict load_state_dict of gradlab's file; max |logit difference| ${diff.toExponential(2)}`);
  assert.ok(diff < 1e-4, `logits differ by ${diff}`);
});

test.run();
