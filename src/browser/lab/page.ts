/**
 * The lab page's shell: four views, one tab each (keyboard: ← → Home End on the tabs; the URL's
 * #hash names the view), a backend badge, and a log. Each view is a module in ./views/ with
 *
 *   mount(root: HTMLElement, shell: Shell) → what it adds to window.lab
 *
 * and owns everything inside its <section>. The library is `window.g` (for the console, as TF.js's
 * playground exposes `tf`) and the session `window.lab`.
 *
 *   1 autograd  (./views/autograd.ts)  a small graph, backward one node at a time, gradcheck
 *   2 frelu     (./views/frelu.ts)     frelu(x) and its derivative; the initialization analysis, live
 *   3 train     (./views/train.ts)     SmallNet trained live in a Web Worker (./worker.ts)
 *   4 export    (./views/export.ts)    the run's metrics as CSV, its weights as safetensors, and back
 */
import * as g from '../index.js';
import * as autograd from './views/autograd.js';
import * as frelu from './views/frelu.js';
import * as train from './views/train.js';
import * as exporting from './views/export.js';

/** What every view may use of the page around it. */
export interface Shell {
  /** A line in the page's log (and the console). */
  log(line: string): void;
  /** Shows what the kernels run on (the badge), and says plainly when that is software rendering or the CPU. */
  showBackend(info: g.GpuInfo): void;
}

const VIEWS = { autograd, frelu, train, export: exporting } as const;
type ViewName = keyof typeof VIEWS;
const NAMES = Object.keys(VIEWS) as ViewName[];

function element<T extends Element>(id: string, kind: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`lab page: #${id} is missing`);
  return el;
}

const shell: Shell = {
  log(line) {
    const pre = element('log', HTMLPreElement);
    pre.textContent += line + '\n';
    pre.scrollTop = pre.scrollHeight;
  },
  showBackend(info) {
    element('backend', HTMLElement).textContent = `backend: ${info.summary ?? info.mode ?? '?'}`;
    const software = element('software', HTMLElement);
    const onCpu = info.mode === 'cpu' || info.mode === 'webasm';
    software.hidden = !(info.softwareRenderer || onCpu);
    software.textContent = info.softwareRenderer
      ? `This runs on software rendering (${info.renderer}): no GPU is used, and training is slower than on a GPU. ${info.reason ?? ''}`
      : onCpu
        ? `This runs on the CPU (${info.mode}), not on a GPU. ${info.reason ?? ''}`
        : '';
  },
};

/** Shows one view and selects its tab. */
function show(name: ViewName, focus = false): void {
  for (const n of NAMES) {
    const tab = element(`tab-${n}`, HTMLButtonElement);
    const selected = n === name;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    element(n, HTMLElement).hidden = !selected;
    if (selected && focus) tab.focus();
  }
  if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
}

function wireTabs(): void {
  NAMES.forEach((name, i) => {
    const tab = element(`tab-${name}`, HTMLButtonElement);
    tab.addEventListener('click', () => show(name));
    tab.addEventListener('keydown', (e) => {
      const next = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? NAMES.length - 1 : null;
      if (next === null) return;
      e.preventDefault();
      show(NAMES[(next + NAMES.length) % NAMES.length], true);
    });
  });
  const fromHash = (): void => {
    const wanted = NAMES.find((n) => `#${n}` === location.hash);
    if (wanted !== undefined) show(wanted);
  };
  addEventListener('hashchange', fromHash);
  fromHash();
}

const lab: Record<string, unknown> = { g, show };
for (const name of NAMES) Object.assign(lab, VIEWS[name].mount(element(name, HTMLElement), shell));
Object.assign(window, { g, lab });
wireTabs();
shell.log(`gradlab ready: window.g (${Object.keys(g).length} names), window.lab (${Object.keys(lab).join(', ')})`);
