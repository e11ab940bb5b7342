/**
 * Download faults (issue 15 §5) against a local server (127.0.0.1): a body without Content-Length
 * that runs past the archive's size is cut at that size (never more on disk); a server that sends
 * headers and then nothing times out with a clear message and keeps the .part for resuming; an
 * archive found in the data directory (copied by hand) with a wrong MD5 is not deleted, and the
 * error names the file and both sums.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadArchive, type ArchiveSpec } from '../src/node/data.js';

const tmp = mkdtempSync(join(tmpdir(), 'gradlab-download-faults-'));
const SIZE = 50_000;
const spec: ArchiveSpec = {
  fileName: 'demo.tar.gz',
  url: 'http://unused.invalid/demo.tar.gz',
  md5: '00000000000000000000000000000000',
  bytes: SIZE,
  folder: 'demo',
  files: [{ name: 'a.bin', bytes: 10 }],
};

let mode: 'endless' | 'stall' = 'endless';
const open = new Set<ServerResponse>();
let server: Server;
let base = '';

function handle(_req: IncomingMessage, res: ServerResponse): void {
  open.add(res);
  res.on('close', () => open.delete(res));
  res.writeHead(200); // no Content-Length: the body's end is the connection's
  if (mode === 'stall') {
    res.write(Buffer.alloc(1000, 1));
    return; // then nothing, forever
  }
  const chunk = Buffer.alloc(16_384, 7);
  const push = (): void => {
    if (!res.destroyed && res.write(chunk)) setImmediate(push);
    else if (!res.destroyed) res.once('drain', push);
  };
  push();
}

test.before(async () => {
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after(async () => {
  for (const res of open) res.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(tmp, { recursive: true, force: true });
});

test('a body without Content-Length is cut at the archive size (nothing more on disk), then checked', async () => {
  mode = 'endless';
  const dir = join(tmp, 'endless');
  const logs: string[] = [];
  let biggest = 0;
  const err = await downloadArchive(spec, { dir, url: `${base}/x`, retries: 0, onProgress: (done) => (biggest = Math.max(biggest, done)), log: (m) => logs.push(m) }).then(
    () => null,
    (e: unknown) => (e instanceof Error ? e.message : String(e)),
  );
  assert.ok(biggest <= SIZE, `wrote ${biggest} bytes for a ${SIZE}-byte archive`);
  assert.match(logs.join('\n'), new RegExp(`sent more than the ${SIZE} bytes expected`));
  assert.match(err ?? '', /MD5 mismatch/);
});

test('a server that stops sending times out with a clear message; the .part is kept for resuming', async () => {
  mode = 'stall';
  const dir = join(tmp, 'stall');
  const t0 = performance.now();
  const err = await downloadArchive(spec, { dir, url: `${base}/x`, retries: 0, stallMs: 300 }).then(
    () => null,
    (e: unknown) => (e instanceof Error ? e.message : String(e)),
  );
  assert.ok(performance.now() - t0 < 10_000, 'gave up within seconds');
  assert.match(err ?? '', /stalled: nothing arrived for 0\.3 s after 1000 of 50000 bytes.*kept in .*demo\.tar\.gz\.part; run the command again to resume/);
  assert.is(statSync(join(dir, 'demo.tar.gz.part')).size, 1000);
});

test('an archive copied in by hand with a wrong MD5 is left in place; the error names the file and both sums', async () => {
  const dir = join(tmp, 'by-hand');
  mkdirSync(dir, { recursive: true });
  const archive = join(dir, 'demo.tar.gz');
  writeFileSync(archive, 'not the archive');
  const err = await downloadArchive(spec, { dir, url: `${base}/x` }).then(
    () => null,
    (e: unknown) => (e instanceof Error ? e.message : String(e)),
  );
  assert.match(err ?? '', /demo\.tar\.gz is not the expected demo\.tar\.gz: its MD5 is [0-9a-f]{32}, the published one is 0{32}.*left as it is/);
  assert.ok(existsSync(archive), 'not ours to delete');
});

test.run();
