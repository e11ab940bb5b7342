/**
 * Module: the base of every layer and model (g.nn.Module), after PyTorch's nn.Module.
 *
 * A module owns three kinds of named things, each registered explicitly in its constructor:
 *
 *   parameters  learnable tensors (requiresGrad: true) — conv weights, BN's γ and β, FReLU's b
 *   buffers     state that is saved but not learned — BN's running mean and variance
 *   children    sub-modules, whose parameters and buffers are reached by a dotted path
 *
 *   class Block extends Module {
 *     conv = this.registerModule('conv', new Conv2d(16, 16, 3, { padding: 1, bias: false }));
 *     bn = this.registerModule('bn', new BatchNorm2d(16));
 *     forward(x: Tensor) { return F.relu(this.bn.forward(this.conv.forward(x))); }
 *   }
 *   new Block().namedParameters().map(([name]) => name)   // ['conv.weight', 'bn.weight', 'bn.bias']
 *
 * Registration, not a scan of the object's properties: what is a parameter, a buffer or a child is
 * written down where it is made, and a constant tensor a module keeps for itself is never mistaken
 * for state. Names follow PyTorch ('features.0.weight', 'features.1.running_mean'): a model's state
 * dict has the keys of the equivalent PyTorch nn.Module, so its safetensors file (g.io) loads there
 * with load_state_dict. Keys of gradlab's older BN names still load (RENAMED_STATE_KEYS).
 *
 * Where a module's tensors live: each layer takes `{ backend, dtype }` at construction (default:
 * the current backend, float32) and its tensors stay there. There is no `to()`: to move a model,
 * build it again on the other backend and `loadStateDict(old.stateDict())` — loadStateDict copies
 * values across backends and dtypes. 'gpu' holds float32 only; 'reference' float32 or float64.
 *
 * Parameters and buffers are taken out of `tidy` scopes (`keep`), so a training step wrapped in
 * `tidy` frees its activations but never the model. Optimisers and BN update them in place with
 * `assign`, so the tensor objects a module hands out stay valid for its whole life.
 */
import { Tensor, keep } from '../tensor/tensor.js';
import { fromTyped } from '../tensor/create.js';
import type { DType } from '../tensor/dtype.js';
import type { BackendName } from '../tensor/backends/backend.js';
import type { RandomState } from '../tensor/random.js';
import { sameShape, shapeToString } from '../tensor/shape.js';
import { detach } from '../autograd/math.js';
import { shown } from '../util/format.js';

/** Where a layer creates its tensors. */
export interface Placement {
  /** Default: the current backend (g.setBackend). */
  backend?: BackendName;
  /** Default 'float32'. The 'gpu' backend holds float32 only. */
  dtype?: DType;
}

/** A model's saved state: parameter and buffer values by dotted name. */
export type StateDict = Record<string, Tensor>;

/** The base of every layer and model, after PyTorch's nn.Module (see the module comment). */
export abstract class Module {
  /** Training mode (true) or evaluation mode (false); `train()` / `eval()` set it on every module. */
  training = true;
  readonly #parameters = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /** The module's computation. Layers and models take one tensor and return one. */
  abstract forward(x: Tensor): Tensor;

  // ── registration ──

  /** Registers a learnable tensor under `name` (made requiresGrad: true, kept out of tidy). Returns it. */
  registerParameter(name: string, t: Tensor): Tensor {
    this.#checkName(name, t, 'registerParameter');
    if (t.node !== null) {
      throw new Error(`registerParameter: '${name}' must be a leaf tensor (created, not computed by an op), so gradients collect in its .grad`);
    }
    t.requiresGrad = true;
    this.#parameters.set(name, keep(t));
    return t;
  }

  /** Registers saved, not learned, state under `name` (e.g. BN running statistics). Returns it. */
  registerBuffer(name: string, t: Tensor): Tensor {
    this.#checkName(name, t, 'registerBuffer');
    if (t.requiresGrad) throw new Error(`registerBuffer: '${name}' must not require gradients (a buffer is not learned); register it as a parameter instead`);
    this.#buffers.set(name, keep(t));
    return t;
  }

  /** Registers a child module under `name`; its state appears as 'name.…'. Returns it. */
  registerModule<M extends Module>(name: string, m: M): M {
    this.#checkName(name, m, 'registerModule');
    this.#children.set(name, m);
    return m;
  }

  #checkName(name: string, value: unknown, method: string): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new Error(`${method}: name must be a non-empty string without '.'; got ${shown(name)}`);
    }
    if (this.#parameters.has(name) || this.#buffers.has(name) || this.#children.has(name)) {
      throw new Error(`${method}: ${this.constructor.name} already has something named '${name}'`);
    }
    const expected = method === 'registerModule' ? Module : Tensor;
    if (!(value instanceof expected)) {
      throw new Error(`${method}: '${name}' must be a ${expected.name}; got ${value === null ? 'null' : typeof value}`);
    }
  }

  // ── traversal ──

  /** The direct children, with their names, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.#children];
  }

  /** This module ('') and every descendant, depth first, with dotted paths. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.#children) out.push(...child.namedModules(join(prefix, name)));
    return out;
  }

  /** Every parameter with its dotted name ('features.0.weight'): each module's own first, then its children's. */
  namedParameters(): [string, Tensor][] {
    return this.namedModules().flatMap(([path, m]) => [...m.#parameters].map(([name, t]): [string, Tensor] => [join(path, name), t]));
  }

  /** Every parameter (what an optimiser updates). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Every buffer with its dotted name ('features.1.running_mean'). */
  namedBuffers(): [string, Tensor][] {
    return this.namedModules().flatMap(([path, m]) => [...m.#buffers].map(([name, t]): [string, Tensor] => [join(path, name), t]));
  }

  /** Every buffer (not parameters: an optimiser never sees these). */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  /** The number of learnable values (buffers not counted). */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /**
   * Frees every parameter (with its gradient) and buffer of this module and its descendants — on
   * the gpu backend in GL mode, their textures. The module cannot be used afterwards. For loops
   * that build many models in one process (gradlab reproduce runs one per job).
   */
  dispose(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.dispose();
    }
    for (const b of this.buffers()) b.dispose();
  }

  // ── modes ──

  /** Sets training mode (default) or evaluation mode on this module and every descendant. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Evaluation mode everywhere: BN uses its running statistics, dropout passes x through. */
  eval(): this {
    return this.train(false);
  }

  // ── state ──

  /**
   * A snapshot of every parameter and buffer, by dotted name: copies (cut from the graph) on the
   * model's backend, so later training does not change them. Dispose them, or take them inside
   * `tidy`, when done.
   */
  stateDict(): StateDict {
    const state: StateDict = {};
    for (const [path, m] of this.namedModules()) {
      for (const [name, t] of [...m.#parameters, ...m.#buffers]) state[join(path, name)] = detach(t);
    }
    return state;
  }

  /**
   * Copies values from `state` into this module's parameters and buffers, in place. The keys must
   * match exactly and every shape must agree; on any mismatch nothing is changed and the error
   * names the keys. Values may come from another backend or dtype; they are converted.
   */
  loadStateDict(given: StateDict): void {
    if (typeof given !== 'object' || given === null) throw new Error(`loadStateDict: state must be an object of tensors by name; got ${String(given)}`);
    const targets = new Map<string, Tensor>();
    for (const [path, m] of this.namedModules()) {
      for (const [name, t] of [...m.#parameters, ...m.#buffers]) targets.set(join(path, name), t);
    }
    const state = withCurrentNames(given, targets);
    const model = this.constructor.name;
    // PyTorch, too, accepts a state without BN's batch counter (files from before it existed).
    const missing = [...targets.keys()].filter((k) => !(k in state) && !k.endsWith(OPTIONAL_SUFFIX));
    const unexpected = Object.keys(state).filter((k) => !targets.has(k));
    const problems: string[] = [];
    if (missing.length > 0) problems.push(`missing ${plural(missing.length, 'key')} ${list(missing)} (in the ${model}, not in the state)`);
    if (unexpected.length > 0) problems.push(`unexpected ${plural(unexpected.length, 'key')} ${list(unexpected)} (in the state, not a parameter or buffer of the ${model})`);
    for (const [key, target] of targets) {
      const source: unknown = state[key];
      if (source === undefined) continue;
      if (!(source instanceof Tensor)) {
        problems.push(`'${key}' must be a Tensor; got ${typeof source}`);
      } else if (!sameShape(source.shape, target.shape)) {
        problems.push(`'${key}' has shape ${shapeToString(target.shape)} in the ${model}; got ${shapeToString(source.shape)}`);
      }
    }
    if (problems.length > 0) throw new Error(`loadStateDict: ${problems.join('; ')}`);
    for (const [key, target] of targets) {
      if (!(key in state)) continue; // an optional key (see above) keeps its value
      // toArray() is a fresh host copy, so the source tensor is left untouched (assign takes over its argument).
      target.assign(fromTyped(state[key].toArray(), target.shape, { dtype: target.dtype, backend: target.backend }));
    }
  }

  // ── random streams (dropout) ──

  /** This module's own random-stream state, for checkpoints; null when it draws no random numbers. */
  randomState(): RandomState | null {
    return null;
  }

  /** Restores this module's own random stream; only modules that own one accept it. */
  setRandomState(state: RandomState): void {
    throw new Error(`setRandomState: ${this.constructor.name} owns no random stream`);
  }

  /** The states of every random stream in the model (the Dropout layers), by module path. */
  randomStates(): Record<string, RandomState> {
    const states: Record<string, RandomState> = {};
    for (const [path, m] of this.namedModules()) {
      const s = m.randomState();
      if (s !== null) states[path] = s;
    }
    return states;
  }

  /** Restores what `randomStates()` returned, so dropout masks continue exactly where they were. */
  loadRandomStates(states: Record<string, RandomState>): void {
    const owners = this.namedModules().filter(([, m]) => m.randomState() !== null);
    const names = new Set(owners.map(([path]) => path));
    const missing = [...names].filter((k) => !(k in states));
    const unexpected = Object.keys(states).filter((k) => !names.has(k));
    if (missing.length > 0 || unexpected.length > 0) {
      throw new Error(
        `loadRandomStates: the ${this.constructor.name}'s random streams are ${list([...names])}; ` +
          `missing ${list(missing)}, unexpected ${list(unexpected)}`,
      );
    }
    for (const [path, m] of owners) m.setRandomState(states[path]);
  }

  // ── printing ──

  /** One line of the layer's settings, shown by toString (e.g. '3, 16, kernelSize=3'). */
  protected extraRepr(): string {
    return '';
  }

  /** The module tree, PyTorch style: `SmallNet(\n  (features): Sequential(\n    (0): Conv2d(3, 32, …` */
  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (this.#children.size === 0) return `${head})`;
    const lines = [...this.#children].map(([name, child]) => `  (${name}): ${child.toString().replace(/\n/g, '\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}

/**
 * Names gradlab's BatchNorm buffers had before they took PyTorch's, paired with PyTorch's. A state
 * (an old checkpoint, a PyTorch file) written with either name of a pair loads into a module that
 * uses the other: `loadStateDict` renames such a key when only the other name is the module's.
 */
export const RENAMED_STATE_KEYS: readonly (readonly [string, string])[] = [
  ['runningMean', 'running_mean'],
  ['runningVar', 'running_var'],
  ['numBatchesTracked', 'num_batches_tracked'],
];

/** A key that may be absent from a loaded state (the module keeps its value): BN's batch counter. */
const OPTIONAL_SUFFIX = 'num_batches_tracked';

/** The key with its last part in PyTorch's spelling ('features.1.runningMean' → 'features.1.running_mean'). */
export function pytorchStateKey(key: string): string {
  const dot = key.lastIndexOf('.');
  const last = key.slice(dot + 1);
  const pair = RENAMED_STATE_KEYS.find(([old]) => old === last);
  return pair ? key.slice(0, dot + 1) + pair[1] : key;
}

/** `state` with each key that is not a target, but whose other spelling is, renamed to that spelling. */
function withCurrentNames(state: StateDict, targets: ReadonlyMap<string, Tensor>): StateDict {
  const out: StateDict = {};
  for (const [key, value] of Object.entries(state)) {
    let name = key;
    if (!targets.has(key)) {
      const dot = key.lastIndexOf('.');
      const last = key.slice(dot + 1);
      for (const pair of RENAMED_STATE_KEYS) {
        const other = last === pair[0] ? pair[1] : last === pair[1] ? pair[0] : null;
        const renamed = other === null ? null : key.slice(0, dot + 1) + other;
        if (renamed !== null && targets.has(renamed) && !(renamed in state)) name = renamed;
      }
    }
    out[name] = value;
  }
  return out;
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

function list(keys: readonly string[]): string {
  if (keys.length === 0) return 'none';
  const shown = keys.slice(0, 8).map((k) => `'${k}'`).join(', ');
  return keys.length > 8 ? `${shown} and ${keys.length - 8} more` : shown;
}
