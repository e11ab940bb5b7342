/**
 * The API reference: typedoc (npm run docs → docs/api/) finds every export of the package entry
 * documented. typedoc.json turns its warnings (an undocumented export, a broken link) into
 * errors, so this fails naming the export that lost its JSDoc.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

test('typedoc: every export of gradlab is documented (no warnings, validation only)', () => {
  const r = spawnSync(join('node_modules', '.bin', 'typedoc'), ['--emit', 'none'], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  const out = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  assert.is(r.status, 0, out);
  assert.not.match(out, /does not have any documentation/, out);
});

test.run();
