/**
 * A small static server for the lab page and the browser tests, on 127.0.0.1 only: files from
 * `root`, and /data/… from the data folder `gradlab download` fills (so the page can fetch the
 * official CIFAR files). Every response carries COOP: same-origin and COEP: require-corp, which
 * make the page cross-origin isolated: SharedArrayBuffer exists, and the webasm mode's SIMD kernels
 * can run (src/browser/gpu.ts).
 */
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.bin': 'application/octet-stream',
};

export interface LabServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The file under `base` that a URL path names, or null when it leaves `base` or is no file. */
function fileUnder(base: string, urlPath: string): string | null {
  const path = resolve(base, '.' + normalize(decodeURIComponent(urlPath)).replaceAll('\\', '/'));
  if (path !== base && !path.startsWith(base + sep)) return null;
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'index.html') : path;
  return existsSync(file) && statSync(file).isFile() ? file : null;
}

/** Serves `root` (and `dataDir` under /data/) on 127.0.0.1:`port` (0: a free port). */
export function serveStatic(root: string, options: { port?: number; dataDir?: string } = {}): Promise<LabServer> {
  const base = resolve(root);
  const data = options.dataDir === undefined ? null : resolve(options.dataDir);
  const server: Server = createServer((req, res) => {
    const urlPath = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const file = data !== null && urlPath.startsWith('/data/') ? fileUnder(data, urlPath.slice('/data'.length)) : fileUnder(base, urlPath);
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    };
    if (file === null || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: ${urlPath}\n`);
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': statSync(file).size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolvePromise({
        url: `http://127.0.0.1:${port}/`,
        port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
