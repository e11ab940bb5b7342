/** View "frelu" (being built). */
import type { Shell } from '../page.js';

export function mount(root: HTMLElement, _shell: Shell): Record<string, unknown> {
  root.innerHTML = '<h2>frelu</h2>';
  return {};
}
