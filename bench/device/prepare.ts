/**
 * Prepares what the GPU run carries to the device machine (bench/device/README.md), in one
 * git-ignored folder (default .device/ at the repository root):
 *
 *   app/device.mjs       bench/device/main.ts with the library, the op table and the bench suite,
 *                        bundled by esbuild into one ES module (no node_modules to carry)
 *   app/start.mjs        the launcher run.sh starts (it calls device.mjs's main)
 *   app/pytorch.py       bench/pytorch.py: the same benchmarks in PyTorch on the GPU, where the
 *                        device's Python has torch with CUDA
 *   app/simd-worker.js   the SIMD kernels' worker thread (src/node/simd-worker.ts), bundled beside it
 *                        (src/node/threads.ts loads ./simd-worker.js next to the code)
 *   app/node_modules/    what is loaded at run time by name: gpu.js (its CommonJS sources, required
 *                        by src/node/gpu-settings.ts) with acorn and gpu-mock.js; gl (headless-gl:
 *                        its JavaScript and the built webgl.node, without the 30 MB of static ANGLE
 *                        libraries it was linked from) with its runtime dependencies; lodash and
 *                        platform, which the bundled Benchmark.js loads with a require() of its own
 *   node.xz              this machine's node binary (~99 MB; xz -9: ~23 MB) — the device has no Node
 *   debs/gl/*.deb        libglvnd's GL/GLX/EGL dispatch libraries (the device README's list), which
 *                        run.sh unpacks into / as that README says
 *   debs/x/*.deb         Xvfb, xkbcomp and the keyboard data — headless-gl's ANGLE draws through GLX,
 *                        which needs an X server; run.sh unpacks them under /tmp and starts Xvfb
 *
 *   npx tsx bench/device/prepare.ts [--dir .device] [--no-node] [--no-x] [--mesa]
 *
 * --no-node and --no-x leave those parts out (test/bench-device.test.ts prepares the app alone and
 * runs it with this machine's node). --mesa also fills .device-mesa/ with Mesa's GL driver and what
 * it loads (~47 MiB of .debs): Xvfb offers GLX only where it can load Mesa's swrast_dri.so, and Mesa
 * with its LLVM does not fit beside Node in the 64 MiB of one call, so it travels in a call of its
 * own before the run (README.md: `run.sh --stage-mesa`).
 */
import { build, type BuildOptions } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { makeFolder } from '../../src/node/files.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** What the device run can carry in one call, the repository's own files included (device README). */
export const CARRY_LIMIT_BYTES = 64 * 2 ** 20;

/** glvnd's dispatch libraries, as the device README lists them (its Vulkan loader left out: not used). */
const GL_DEBS = ['libegl1', 'libglvnd0', 'libopengl0', 'libgl1', 'libglx0', 'libgles2'];
/** An X server for GLX without a display, and what it loads (Debian 12 names). */
const X_DEBS = ['xvfb', 'x11-xkb-utils', 'xkb-data', 'libxfont2', 'libfontenc1', 'libpixman-1-0', 'libxkbfile1', 'libunwind8', 'libxau6', 'libxdmcp6', 'libbsd0', 'libmd0', 'libxcb1', 'libx11-6', 'libx11-data', 'libxext6', 'libfreetype6', 'libpng16-16', 'libbrotli1', 'libaudit1', 'libcap-ng0'];

/**
 * Mesa's GL driver (swrast_dri.so, for Xvfb's GLX) and its libraries, less what every machine has
 * (glibc, libstdc++, zlib, xz, zstd) and what X_DEBS already carry.
 */
const MESA_DEBS = [
  'libgl1-mesa-dri', 'libglapi-mesa', 'libglx-mesa0', 'libllvm15', 'libz3-4', 'libxml2', 'libicu72', 'libedit2', 'libtinfo6', 'libffi8', 'libelf1',
  'libexpat1', 'libsensors5', 'libsensors-config', 'libdrm2', 'libdrm-common', 'libdrm-amdgpu1', 'libdrm-intel1', 'libdrm-nouveau2', 'libdrm-radeon1',
  'libpciaccess0', 'libx11-xcb1', 'libxcb-dri2-0', 'libxcb-dri3-0', 'libxcb-glx0', 'libxcb-present0', 'libxcb-randr0', 'libxcb-shm0', 'libxcb-sync1',
  'libxcb-xfixes0', 'libxfixes3', 'libxshmfence1', 'libxxf86vm1',
];

/** The packages loaded by name at run time, and (for gl) the files of each that are needed. */
const RUNTIME_PACKAGES: Record<string, string[] | 'all'> = {
  'gpu.js': ['package.json', 'src', 'LICENSE'],
  acorn: 'all',
  'gpu-mock.js': 'all',
  gl: ['package.json', 'index.js', 'src/javascript', 'build/Release/webgl.node', 'LICENSE'],
  bindings: 'all',
  'file-uri-to-path': 'all',
  'bit-twiddle': 'all',
  'glsl-tokenizer': 'all',
  through2: 'all',
  'readable-stream': 'all',
  inherits: 'all',
  string_decoder: 'all',
  'safe-buffer': 'all',
  'util-deprecate': 'all',
  xtend: 'all',
  // Benchmark.js (bench/harness.ts) is bundled, but loads these through its own runtime require().
  lodash: ['package.json', 'lodash.js', 'LICENSE'],
  platform: 'all',
};

const LAUNCHER = `// Starts the GPU run (bench/device/main.ts, bundled in device.mjs); made by bench/device/prepare.ts.
import { main } from './device.mjs';
try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  console.error('device: ' + (err instanceof Error ? err.message : String(err)));
  process.exitCode = 2;
}
`;

/** Bundles the app into dir/app (see the file comment); returns its size in bytes. */
export async function prepareApp(dir: string): Promise<number> {
  const app = join(dir, 'app');
  rmSync(app, { recursive: true, force: true });
  makeFolder(app);
  // Bundled CommonJS code calls require(); an ES module has none, so the bundle makes one.
  const banner = { js: "import { createRequire as __gradlabCreateRequire } from 'node:module'; const require = __gradlabCreateRequire(import.meta.url);" };
  const common: BuildOptions = { bundle: true, format: 'esm', platform: 'node', target: 'node20', keepNames: true, banner, logLevel: 'warning', external: ['gl', 'gpu.js', 'esbuild', 'tsx'] };
  await build({ ...common, entryPoints: [join(ROOT, 'bench/device/main.ts')], outfile: join(app, 'device.mjs') });
  await build({ ...common, entryPoints: [join(ROOT, 'src/node/simd-worker.ts')], outfile: join(app, 'simd-worker.js') });
  writeFileSync(join(app, 'start.mjs'), LAUNCHER);
  copyFileSync(join(ROOT, 'bench/pytorch.py'), join(app, 'pytorch.py')); // bench/torch.ts looks for it beside the code
  writeFileSync(join(app, 'package.json'), '{ "type": "module", "private": true }\n');
  const glBuilt = existsSync(join(ROOT, 'node_modules/gl/build/Release/webgl.node'));
  if (!glBuilt) console.warn('device prepare: node_modules/gl has no built webgl.node (npm rebuild gl); the bundle goes without gl, so its run can only fall back to webasm');
  for (const [name, files] of Object.entries(RUNTIME_PACKAGES)) {
    if (name === 'gl' && !glBuilt) continue;
    const from = join(ROOT, 'node_modules', name);
    if (!existsSync(from)) throw new Error(`device prepare: node_modules/${name} is missing (npm install${name === 'gl' ? '; gl needs its native build' : ''})`);
    const to = join(app, 'node_modules', name);
    for (const f of files === 'all' ? [''] : files) {
      if (!existsSync(join(from, f))) {
        if (f === 'LICENSE') continue;
        throw new Error(`device prepare: node_modules/${name}/${f} is missing`);
      }
      cpSync(join(from, f), join(to, f), { recursive: true });
    }
  }
  return sizeOf(app);
}

/** xz -9 of this machine's node into dir/node.xz (skipped when it is already newer than the binary). */
function prepareNode(dir: string): void {
  const target = join(dir, 'node.xz');
  if (existsSync(target) && statSync(target).mtimeMs > statSync(process.execPath).mtimeMs) {
    console.log(`node: ${relative(ROOT, target)} is up to date`);
    return;
  }
  console.log(`node: compressing ${process.execPath} (${(statSync(process.execPath).size / 2 ** 20).toFixed(0)} MiB) with xz -9; about a minute…`);
  const tmp = `${target}.tmp`;
  const xz = spawnSync('sh', ['-c', 'xz -9 -T0 -c "$1" > "$2"', 'xz', process.execPath, tmp], { stdio: 'inherit' });
  if (xz.status !== 0) throw new Error(`device prepare: xz failed (${xz.status ?? xz.signal}); is xz installed?`);
  copyFileSync(tmp, target);
  rmSync(tmp);
}

/** apt-get download of `packages` into `folder` (this machine's architecture, amd64 as the device). */
function downloadDebs(folder: string, packages: readonly string[]): void {
  rmSync(folder, { recursive: true, force: true });
  makeFolder(folder);
  const apt = spawnSync('apt-get', ['download', ...packages], { cwd: folder, stdio: 'inherit' });
  if (apt.status !== 0) throw new Error(`device prepare: apt-get download ${packages.join(' ')} failed (${apt.status ?? apt.signal}); --no-x leaves the X server out`);
}

function sizeOf(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((n, f) => n + sizeOf(join(path, f)), 0);
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      dir: { type: 'string', default: join(ROOT, '.device') },
      'no-node': { type: 'boolean', default: false },
      'no-x': { type: 'boolean', default: false },
      mesa: { type: 'boolean', default: false },
      'mesa-dir': { type: 'string', default: join(ROOT, '.device-mesa') },
    },
    strict: true,
  });
  const dir = resolve(values.dir);
  makeFolder(dir);
  const appBytes = await prepareApp(dir);
  console.log(`app: ${relative(ROOT, join(dir, 'app'))} (${(appBytes / 2 ** 20).toFixed(1)} MiB)`);
  if (!values['no-node']) prepareNode(dir);
  if (!values['no-x']) {
    downloadDebs(join(dir, 'debs', 'gl'), GL_DEBS);
    downloadDebs(join(dir, 'debs', 'x'), X_DEBS);
  }
  const total = sizeOf(dir);
  const tracked = spawnSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\0').filter((f) => f !== '' && existsSync(join(ROOT, f)));
  const treeBytes = tracked.reduce((n, f) => n + statSync(join(ROOT, f)).size, 0);
  const manifest = { preparedAt: new Date().toISOString(), node: process.version, bytes: total, repositoryBytes: treeBytes, node_xz: !values['no-node'], debs: !values['no-x'] };
  writeFileSync(join(dir, 'MANIFEST.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
  console.log(`${relative(ROOT, dir) || dir}: ${mib(total)} MiB; with the repository's tracked files (${mib(treeBytes)} MiB) ${mib(total + treeBytes)} of the ${mib(CARRY_LIMIT_BYTES)} MiB a call carries`);
  if (total + treeBytes > CARRY_LIMIT_BYTES) throw new Error('device prepare: too big to carry in one call');
  if (values.mesa) {
    const mesa = resolve(values['mesa-dir']);
    downloadDebs(mesa, MESA_DEBS);
    const bytes = sizeOf(mesa);
    console.log(`${relative(ROOT, mesa) || mesa}: ${mib(bytes)} MiB; with the repository's tracked files ${mib(bytes + treeBytes)} of the ${mib(CARRY_LIMIT_BYTES)} MiB of its own call`);
    if (bytes + treeBytes > CARRY_LIMIT_BYTES) throw new Error('device prepare: Mesa is too big to carry in one call');
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`device prepare: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
