/** The backends by name, and the default one new tensors go to. */
import type { Backend, BackendName } from './backend.js';
import { referenceBackend } from './reference.js';
import { gpuBackend } from './gpu.js';
import { shown } from '../../util/format.js';

const backends: Record<BackendName, Backend> = { reference: referenceBackend, gpu: gpuBackend };

let defaultBackend: BackendName = 'reference';

export function getBackend(name: BackendName): Backend {
  const b = backends[name];
  if (!b) throw new Error(`backend must be 'reference' or 'gpu'; got ${shown(name)}`);
  return b;
}

/** Chooses where tensors are created when no `backend` option is given ('reference' at start). */
export function setBackend(name: BackendName): void {
  getBackend(name);
  defaultBackend = name;
}

/** The backend new tensors go to when none is given (g.setBackend changes it). */
export function currentBackend(): BackendName {
  return defaultBackend;
}
