/**
 * `npm run lab`: builds the lab page (esbuild, from the sources: nothing to build first) and serves
 * it on 127.0.0.1, offline; or, with --build DIR, writes it as static files any static host serves.
 *
 *   npm run lab                      http://127.0.0.1:<a free port>/
 *   npm run lab -- --port 8080
 *   npm run lab -- --data DIR        serve DIR as ./data (default ./data, where `gradlab download` writes)
 *   npm run lab -- --build DIR       index.html, page.js, worker.js into DIR, and exit
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleLab } from './bundle.js';
import { serveStatic } from './server.js';
import { shown } from '../../util/format.js';

const HELP = `usage: npm run lab [-- --port N] [-- --data DIR] [-- --build DIR]
  --port N     port on 127.0.0.1 (default: a free one)
  --data DIR   the folder served as ./data, where \`gradlab download cifar10\` writes (default ./data)
  --build DIR  write the page as static files into DIR and exit (served from a static host, the page
               is not cross-origin isolated unless the host sends COOP/COEP: no SIMD GEMM kernels)`;

interface LabArgs {
  port: number;
  data: string;
  build: string | null;
}

function parse(argv: readonly string[]): LabArgs | null {
  const out: LabArgs = { port: 0, data: 'data', build: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--help' || flag === '-h') return null;
    const value = argv[i + 1];
    if (value === undefined || !['--port', '--data', '--build'].includes(flag)) throw new Error(`lab: unknown or incomplete option ${shown(flag)}\n${HELP}`);
    i++;
    if (flag === '--port') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`lab: --port must be a port number from 0 to 65535; got ${shown(value)}`);
      out.port = n;
    } else if (flag === '--data') out.data = value;
    else out.build = value;
  }
  return out;
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  if (args === null) {
    console.log(HELP);
    return;
  }
  if (args.build !== null) {
    const dir = resolve(args.build);
    const files = await bundleLab(dir);
    for (const f of files) console.log(`${f.file} (${(f.bytes / 1024).toFixed(0)} KiB)`);
    console.log(`lab: wrote the page to ${dir}; serve it with any static server (e.g. python3 -m http.server -d ${args.build})`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'gradlab-lab-'));
  await bundleLab(dir);
  const server = await serveStatic(dir, { port: args.port, dataDir: args.data });
  console.log(`lab: serving ${server.url}  (./data → ${resolve(args.data)}; Ctrl-C stops)`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
