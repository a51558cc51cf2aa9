import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

// A child process makes two scratch folders, writes into them, prints them and exits (one way or the other).
function scratchOf(exit: string, env: Record<string, string> = {}): string[] {
  const helper = JSON.stringify(path.join(__dirname, 'tmpdir.js'));
  const code = `const { tempDir } = require(${helper});
    const dirs = [tempDir('selftest'), tempDir('selftest')];
    for (const d of dirs) { require('fs').mkdirSync(d + '/sub'); require('fs').writeFileSync(d + '/sub/f', 'x'); }
    console.log(JSON.stringify(dirs)); ${exit}`;
  let out = '';
  try {
    out = execFileSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, ...env } });
  } catch (e) {
    out = (e as { stdout: string }).stdout;
  }
  return JSON.parse(out) as string[];
}

test("tests' scratch folders are removed when their process exits, a failing one too", () => {
  for (const exit of ['', 'process.exitCode = 1;', 'process.exit(3);']) {
    const dirs = scratchOf(exit);
    assert.equal(dirs.length, 2);
    for (const d of dirs) assert.ok(!fs.existsSync(d), `${d} removed (exit: '${exit}')`);
  }
});

test('TARGETPROP_KEEP_TMP=1 keeps them for a look after a failure', () => {
  const dirs = scratchOf('', { TARGETPROP_KEEP_TMP: '1' });
  for (const d of dirs) {
    assert.ok(fs.existsSync(path.join(d, 'sub', 'f')));
    fs.rmSync(d, { recursive: true });
  }
});
