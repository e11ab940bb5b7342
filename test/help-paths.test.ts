/** Every source or documentation file a command's --help names exists in the repository. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// Output files a run writes (metrics.json, report.md, …) are not in the repository; files named
// with a folder or as sources (.ts) are, and must exist.
for (const command of ['train', 'verify', 'reproduce', 'download', 'bench']) {
  test(`gradlab ${command} --help names only files that exist (paths with a folder, sources)`, () => {
    const help = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', command, '--help'], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
    const named = [...help.matchAll(/[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)+\.(?:md|ts)\b|[A-Za-z0-9_.-]+\.ts\b|README\.md/g)].map((m) => m[0]);
    const missing = named.filter((path) => !path.startsWith('DIR/') && !existsSync(path));
    assert.equal(missing, [], `${command} --help names files that do not exist: ${missing.join(', ')}`);
    if (command === 'train') assert.ok(named.includes('src/experiments/train/config.ts'), help);
  });
}

test.run();
