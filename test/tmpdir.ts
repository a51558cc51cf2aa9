// Scratch folders for tests. Each test file runs in its own process (node --test), so the folders a
// file made are removed when that process exits: a full run used to leave ~400 MB in the system's
// temp folder (the package test's npm install, the data tests' fake CIFAR archives), every run.
// TARGETPROP_KEEP_TMP=1 keeps them, to look inside after a failure.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const made: string[] = [];

function removeAll(): void {
  if (process.env.TARGETPROP_KEEP_TMP === '1') return;
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
}
process.once('exit', removeAll);

/** A new empty folder `<tmp>/tp-<prefix>-XXXXXX`, removed when this process exits. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tp-${prefix}-`));
  made.push(dir);
  return dir;
}
