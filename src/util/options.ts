/**
 * Options objects are checked for unknown keys, so a misspelled or PyTorch-spelled option is an
 * error instead of a silently ignored setting (`conv2d(x, w, null, { pading: 1 })` would otherwise
 * run with padding 0, and `g.sum(x, { dim: 1 })` would sum everything).
 *
 *   checkKeys('conv2d', { pading: 1 }, ['stride', 'padding'])
 *   // Error: conv2d: unknown option 'pading'; accepted options: stride, padding
 */

/** PyTorch's spellings that gradlab names differently, with the hint an error gives. */
const PYTORCH_NAMES: Readonly<Record<string, string>> = {
  dim: 'gradlab calls it axis',
  keepdim: 'gradlab calls it keepDims',
  keepDim: 'gradlab calls it keepDims',
  keepdims: 'gradlab calls it keepDims',
  requires_grad: 'gradlab calls it requiresGrad',
};
import { shown } from './format.js';

/** snake_case → camelCase ('weight_decay' → 'weightDecay'). */
function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Throws unless `options` is undefined or a plain object whose keys are all in `accepted`. The
 * error names the function, the first unknown key and every accepted one, with a hint where the
 * key is PyTorch's spelling of an accepted option.
 */
export function checkKeys(where: string, options: unknown, accepted: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new Error(`${where}: options must be an object with keys among ${accepted.join(', ') || '(none)'}; got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (accepted.includes(key)) continue;
    const hint = PYTORCH_NAMES[key] ?? (accepted.includes(camel(key)) ? `gradlab calls it ${camel(key)}` : undefined);
    throw new Error(
      `${where}: unknown option '${key}'${hint === undefined ? '' : ` (${hint})`}; accepted options: ${accepted.length === 0 ? '(none)' : accepted.join(', ')}`,
    );
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `an array ${shown(value)}`;
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : JSON.stringify(value) ?? typeof value;
}
