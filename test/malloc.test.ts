/** When `gradlab train` / `reproduce` restart themselves with glibc's malloc set for CPU training (src/node/malloc.ts). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CPU_MALLOC_ENV, wantsCpuMalloc } from '../src/node/malloc.js';

const noDisplay = {};
const display = { DISPLAY: ':99' };

test('the settings: blocks up to 32 MiB stay on the heap, trimmed only past 1 GiB', () => {
  assert.equal(CPU_MALLOC_ENV, { MALLOC_MMAP_THRESHOLD_: '33554432', MALLOC_TRIM_THRESHOLD_: '1073741824' });
});

test('runs sure to be on the CPU get them: reference backend, webasm/cpu modes, auto without a display', () => {
  assert.is(wantsCpuMalloc(display, ['--backend', 'reference'], 'linux'), true);
  assert.is(wantsCpuMalloc(display, ['--backend=reference'], 'linux'), true);
  assert.is(wantsCpuMalloc(display, ['--gpu-mode', 'webasm'], 'linux'), true);
  assert.is(wantsCpuMalloc({ ...display, GRADLAB_GPU_MODE: 'cpu' }, [], 'linux'), true);
  assert.is(wantsCpuMalloc(noDisplay, [], 'linux'), true);
});

test('runs that may use GL, other systems, GRADLAB_MALLOC=0 and a setting of the user\'s own do not', () => {
  assert.is(wantsCpuMalloc(display, [], 'linux'), false); // auto with a display: headlessgl may run
  assert.is(wantsCpuMalloc(noDisplay, ['--gpu-mode', 'headlessgl'], 'linux'), false);
  assert.is(wantsCpuMalloc({ GRADLAB_GPU_MODE: 'webasm' }, ['--gpu-mode', 'headlessgl'], 'linux'), false); // the flag wins
  assert.is(wantsCpuMalloc(noDisplay, [], 'darwin'), false);
  assert.is(wantsCpuMalloc({ GRADLAB_MALLOC: '0' }, [], 'linux'), false);
  assert.is(wantsCpuMalloc({ MALLOC_MMAP_THRESHOLD_: '131072' }, [], 'linux'), false);
});

test.run();
