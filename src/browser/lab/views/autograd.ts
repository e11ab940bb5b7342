/** View "autograd" (being built). */
import type { Shell } from '../page.js';

export function mount(root: HTMLElement, _shell: Shell): Record<string, unknown> {
  root.innerHTML = '<h2>autograd</h2>';
  return {};
}
