/**
 * View 1, "Autograd, step by step": pick a small expression (scalars, a 2-layer MLP, a broadcast),
 * change its inputs, and run its backward pass one node at a time — in the order backward() uses —
 * watching each gradient travel along an edge and add up where two paths meet. "Gradcheck" runs
 * g.gradcheck (float64 central differences) on the same expression and lists numerical against
 * analytical, element by element. The logic is ../stepper.ts (tested in Node); the drawing
 * ./autograd-graph.ts (plain SVG).
 *
 * window.lab.autograd: { select(id), setValues(leaf, values), step(), runToEnd(), reset(), state(), gradcheck() }
 */
import type { Shell } from '../page.js';
import { BackwardStepper, PRESETS, backwardGrads, gradcheckPreset, presetById, type NodeView, type Preset, type StepEvent } from '../stepper.js';
import { drawGraph, fmt, fmtValues, layOut, type Layout } from './autograd-graph.js';

/** What lab.autograd.state() returns (for the browser tests and the console). */
export interface AutogradState {
  preset: string;
  /** Steps taken and the number of nodes backward visits. */
  position: number;
  steps: number;
  done: boolean;
  /** Leaves (that take a gradient) whose gradient has been declared complete by a step. */
  leavesReached: string[];
  /** The stepper's leaf gradients so far, and backward()'s on a fresh copy of the expression. */
  leafGrads: Record<string, number[]>;
  backwardGrads: Record<string, number[]>;
}

export function mount(root: HTMLElement, shell: Shell): Record<string, unknown> {
  root.innerHTML = `
    <h2>Autograd, step by step</h2>
    <p class="muted">Backward walks the graph from the loss L to the leaves, each node after every node that uses its output,
    and sends back one gradient per input edge. Where a tensor is used twice, its two gradients add up.
    Everything is float64 on gradlab's reference backend.</p>
    <div class="ag-controls">
      <label>expression <select id="ag-preset">${PRESETS.map((p) => `<option value="${p.id}">${p.title}</option>`).join('')}</select></label>
      <p class="ag-formula"><code id="ag-formula"></code></p>
      <fieldset id="ag-leaves"><legend>inputs (comma-separated, row-major)</legend></fieldset>
      <p id="ag-error" class="warning" role="alert" hidden></p>
      <div class="ag-buttons">
        <button id="ag-step" type="button">Step backward</button>
        <button id="ag-run" type="button">Run to end</button>
        <button id="ag-reset" type="button">Reset</button>
        <button id="ag-check" type="button">Gradcheck</button>
      </div>
      <p id="ag-status" aria-live="polite"></p>
    </div>
    <div class="row">
      <div class="ag-graph" id="ag-graph"></div>
      <div>
        <h3>Gradients so far</h3><div id="ag-grads"></div>
        <h3>Gradcheck</h3><div id="ag-gradcheck"><p class="muted">Press “Gradcheck” to compare with central differences.</p></div>
      </div>
    </div>`;
  const $ = <T extends HTMLElement>(id: string): T => root.querySelector<T>(`#${id}`)!;
  const select = $<HTMLSelectElement>('ag-preset');

  let preset: Preset = PRESETS[0];
  let values: number[][] = preset.leaves.map((l) => l.values.slice());
  let stepper = new BackwardStepper(preset, values);
  let layout: Layout = layOut(stepper.nodes);

  const label = (n: NodeView): string => (n.op !== null ? `${n.op} #${n.seq}` : n.name ?? 'a constant');

  function showError(message: string | null): void {
    const p = $('ag-error');
    p.hidden = message === null;
    p.textContent = message ?? '';
  }

  function leafInputs(): void {
    const box = $('ag-leaves');
    box.querySelectorAll('label').forEach((l) => l.remove());
    preset.leaves.forEach((leaf, i) => {
      const l = document.createElement('label');
      const shape = leaf.shape.length === 0 ? 'scalar' : `[${leaf.shape.join('×')}]`;
      l.innerHTML = `${leaf.name} <span class="muted">${shape}${leaf.requiresGrad ? '' : ', data'}</span> `;
      const input = document.createElement('input');
      input.type = 'text';
      input.className = 'ag-leaf-input';
      input.value = values[i].join(', ');
      input.size = Math.min(28, Math.max(6, input.value.length + 2));
      input.setAttribute('aria-label', `values of ${leaf.name}`);
      input.addEventListener('change', () => guarded(() => setValues(leaf.name, input.value)));
      l.appendChild(input);
      box.appendChild(l);
    });
  }

  function rebuild(): void {
    showError(null);
    stepper = new BackwardStepper(preset, values);
    layout = layOut(stepper.nodes);
    $('ag-gradcheck').innerHTML = '<p class="muted">Press “Gradcheck” to compare with central differences.</p>';
    render();
  }

  function describe(e: StepEvent | null): string {
    const total = stepper.order.length;
    if (e === null) return `Before the first step: only L has a gradient, ∂L/∂L = 1. ${total} nodes to visit.`;
    const n = stepper.node(e.node);
    const head = `Step ${stepper.position} of ${total}: `;
    if (e.kind === 'leaf') {
      const parts = stepper.arrived.get(e.node)!;
      const sum = parts.length > 1 ? ` — the sum of ${parts.length} parts, ${parts.map((p) => fmtValues(p.values)).join(' + ')}` : '';
      return `${head}${label(n)} is a leaf, so its gradient is complete: ∂L/∂${n.name} = ${fmtValues(stepper.total.get(e.node)!)}${sum}. This is what backward() leaves in ${n.name}.grad.`;
    }
    const sends = e.sent.map((s) => {
      const to = stepper.node(s.to);
      const parts = stepper.arrived.get(s.to)!;
      const acc = parts.length > 1 ? ` (${label(to)} has now received ${parts.length} parts: total ${fmtValues(stepper.total.get(s.to)!)})` : '';
      return `∂L/∂${s.edge} = ${fmtValues(s.values)} to ${label(to)}${acc}`;
    });
    return `${head}${label(n)} ran its backward with ∂L/∂out = ${fmtValues(stepper.total.get(e.node)!)} and sent ${sends.join('; ')}.`;
  }

  function render(): void {
    const last = stepper.last;
    const hot = new Set(last?.kind === 'op' ? last.sent.map((s) => `${last.node}:${s.edge}`) : []);
    const receiving = new Set(last?.sent.map((s) => s.to) ?? []);
    const svg = drawGraph(
      layout,
      (id) => ({ grad: stepper.total.get(id), arrivals: stepper.arrived.get(id)?.length ?? 0, current: last?.node === id, receiving: receiving.has(id) }),
      hot,
    );
    $('ag-graph').replaceChildren(svg);
    let status = describe(last);
    if (stepper.done) {
      const mine = stepper.leafGrads();
      const theirs = backwardGrads(preset, values);
      const diff = Math.max(...Object.keys(theirs).flatMap((k) => theirs[k].map((v, i) => Math.abs(v - mine[k][i]))));
      status += ` Done: every leaf reached. L.backward() on a fresh copy gives the same leaf gradients (max |difference| ${fmt(diff)}).`;
    }
    $('ag-status').textContent = status;
    ($('ag-step') as HTMLButtonElement).disabled = stepper.done;
    ($('ag-run') as HTMLButtonElement).disabled = stepper.done;
    gradTable();
  }

  function gradTable(): void {
    const rows = stepper.order
      .map((id) => stepper.node(id))
      .filter((n) => stepper.arrived.has(n.id))
      .map((n) => {
        const parts = stepper.arrived.get(n.id)!;
        const from = parts.map((p) => (p.edge === 'seed' ? 'seed 1' : `${fmtValues(p.values)} <span class="muted">from ${label(stepper.node(p.from))}.${p.edge}</span>`));
        return `<tr${n.op === null ? ' class="ag-leafrow"' : ''}><th scope="row">${label(n)}</th><td class="ag-parts">${from.join('<br>+ ')}</td><td>${fmtValues(stepper.total.get(n.id)!, 6)}</td></tr>`;
      });
    $('ag-grads').innerHTML = `<div class="ag-scroll"><table><thead><tr><th>node</th><th>gradients arrived</th><th>∂L/∂node (sum)</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
  }

  function guarded<T>(f: () => T): T | undefined {
    try {
      const r = f();
      showError(null);
      return r;
    } catch (e) {
      showError(e instanceof Error ? e.message : String(e));
      return undefined;
    }
  }

  function selectPreset(id: string): void {
    preset = presetById(id);
    select.value = id;
    values = preset.leaves.map((l) => l.values.slice());
    $('ag-formula').textContent = preset.formula;
    leafInputs();
    rebuild();
  }

  /** New values for one leaf (numbers, or the text of its input box). */
  function setValues(name: string, given: string | readonly number[]): void {
    const i = preset.leaves.findIndex((l) => l.name === name);
    if (i < 0) throw new Error(`autograd view: '${preset.id}' has no input '${name}' (inputs: ${preset.leaves.map((l) => l.name).join(', ')})`);
    const parsed = typeof given === 'string' ? given.split(/[\s,]+/).filter((s) => s !== '').map(Number) : [...given];
    const next = values.map((v, j) => (j === i ? parsed : v));
    const s = new BackwardStepper(preset, next); // throws a clear message on a wrong count or a non-number
    values = next;
    stepper = s;
    layout = layOut(stepper.nodes);
    $('ag-gradcheck').innerHTML = '';
    render();
  }

  function gradcheck(): { ok: boolean; summary: string; r: number; rows: { input: string; index: number[]; numerical: number; analytical: number; verdict: string }[] } {
    const result = gradcheckPreset(preset, values);
    // gradcheck differentiates r·L with a random r (so a backward that ignored its incoming
    // gradient would fail); r is the ratio of its analytical gradient to backward()'s.
    const grads = backwardGrads(preset, values);
    const ref = result.elements.reduce((best, e) => {
      const v = Math.abs(grads[e.input][flat(preset, e.input, e.index)]);
      return v > best.v ? { v, e } : best;
    }, { v: 0, e: result.elements[0] });
    const r = ref.v === 0 ? NaN : ref.e.analytical / grads[ref.e.input][flat(preset, ref.e.input, ref.e.index)]; // NaN: every gradient is 0
    const rows = result.elements.map((e) => ({ input: e.input, index: e.index, numerical: e.numerical, analytical: e.analytical, verdict: e.verdict }));
    const body = rows
      .map((e) => `<tr><th scope="row">${e.input}${e.index.length ? `[${e.index.join(',')}]` : ''}</th><td>${e.numerical.toPrecision(8)}</td><td>${e.analytical.toPrecision(8)}</td><td>${Math.abs(e.numerical - e.analytical).toExponential(1)}</td><td>${e.verdict}</td></tr>`)
      .join('');
    $('ag-gradcheck').innerHTML =
      `<p class="${result.ok ? 'ag-ok' : 'warning'}"><strong>${result.ok ? 'gradcheck passed' : 'gradcheck failed'}</strong>: ${escapeHtml(result.summary)}</p>` +
      `<p class="muted">Both columns are gradients of r·L with gradcheck's random r${Number.isNaN(r) ? '' : ` = ${fmt(r)}`} (so every analytical entry is r times the gradient above); ` +
      'numerical: (L(x+ε) − L(x−ε))/2ε with ε = 1e-6, in float64.</p>' +
      `<div class="ag-scroll"><table><thead><tr><th>element</th><th>numerical</th><th>analytical</th><th>|diff|</th><th></th></tr></thead><tbody>${body}</tbody></table></div>`;
    shell.log(`gradcheck ${preset.id}: ${result.summary}`);
    return { ok: result.ok, summary: result.summary, r, rows };
  }

  select.addEventListener('change', () => guarded(() => selectPreset(select.value)));
  $('ag-step').addEventListener('click', () => guarded(() => (stepper.step(), render())));
  $('ag-run').addEventListener('click', () => guarded(() => (stepper.runToEnd(), render())));
  $('ag-reset').addEventListener('click', () => guarded(() => (stepper.reset(), render())));
  $('ag-check').addEventListener('click', () => guarded(gradcheck));
  selectPreset(PRESETS[0].id);

  const state = (): AutogradState => ({
    preset: preset.id,
    position: stepper.position,
    steps: stepper.order.length,
    done: stepper.done,
    leavesReached: stepper.order
      .slice(0, stepper.position)
      .map((id) => stepper.node(id))
      .filter((n) => n.op === null && n.name !== null)
      .map((n) => n.name!),
    leafGrads: stepper.leafGrads(),
    backwardGrads: backwardGrads(preset, values),
  });
  return {
    autograd: {
      select: (id: string) => (selectPreset(id), state()),
      setValues: (name: string, v: readonly number[]) => (setValues(name, v), state()),
      step: () => {
        const e = stepper.step();
        render();
        return e;
      },
      runToEnd: () => {
        stepper.runToEnd();
        render();
        return state();
      },
      reset: () => (stepper.reset(), render(), state()),
      state,
      gradcheck,
      presets: PRESETS.map((p) => p.id),
    },
  };
}

/** Row-major position of `index` in the leaf called `name`. */
function flat(preset: Preset, name: string, index: readonly number[]): number {
  const shape = preset.leaves.find((l) => l.name === name)!.shape;
  return index.reduce((acc, i, k) => acc * shape[k] + i, 0);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
