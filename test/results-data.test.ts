// Results are data: runs exported as text round-trip through a store unchanged, and the committed
// report (docs/results) is exactly what `targetprop report --from-dir docs/results` writes from the
// committed runs, so a hand edit, a stale report or a run left out fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Store } from '../src/store/store';
import { exportPath, exportRuns, importRuns, readExports } from '../src/store/export';
import { GENERATED_PREFIX, reportFromDir } from '../src/experiments/report';
import { train } from '../src/experiments/train';
import { TrainConfig } from '../src/experiments/config';
import { tempDir } from './tmpdir';

const DOCS = path.join(__dirname, '..', '..', 'docs', 'results');
const tmp = () => tempDir('data');
const tiny: Partial<TrainConfig> = {
  name: 'mlp/mlp-mnist/tjml',
  model: 'mlp',
  modelConfig: { depth: 3, hidden: 16 },
  data: 'mnist',
  method: 'tjml',
  epochs: 2,
  batchSize: 64,
  lr: 0.05,
  trainSubset: 256,
  testSubset: 128,
};

const dump = (s: Store) => ({ runs: s.runs(), epochs: s.runs().map((r) => s.epochs(r.id)) });

test('an ended run is exported as it ends, and exports load back into an equal store', async () => {
  const dir = tmp();
  const exp = path.join(dir, 'runs');
  const s = new Store(path.join(dir, 'runs.sqlite'), { exportDir: exp });
  await train(tiny, { store: s, quiet: true, stopAfter: 1 });
  assert.equal(readExports(exp).length, 0, 'a run in flight is not exported');
  await train(tiny, { store: s, quiet: true });
  const r = s.runs()[0];
  assert.equal(r.status, 'done');
  assert.ok(fs.existsSync(exportPath(exp, r)), 'the finished run was written on finishing');
  await train({ ...tiny, seed: 1 }, { store: s, quiet: true, stopAfter: 1 });
  s.stopRun(s.runs()[1].id, 'by hand | test');
  assert.equal(readExports(exp).length, 2, 'a run stopped by hand is exported with its reason');
  const text = fs.readFileSync(exportPath(exp, r), 'utf8');
  assert.equal(text.split('\n').filter((l) => l.startsWith('  {"epoch"')).length, 2, 'one line per epoch (diffable)');
  // round trip: a fresh store from the exports holds the same rows, ids included
  const t = new Store(':memory:');
  assert.equal(importRuns(t, readExports(exp)), 2);
  assert.deepEqual(dump(t), dump(s));
  assert.equal(importRuns(t, readExports(exp)), 0, 'runs already there are kept, not duplicated');
  // retiring re-exports under the run's new key and removes the old file
  s.retireRun(r.id, 'pre-fix');
  assert.equal(fs.existsSync(exportPath(exp, r)), false);
  assert.equal(readExports(exp).find((e) => e.id === r.id)?.status, 'retired');
  assert.equal(exportRuns(s, path.join(dir, 'again')).length, 2);
  s.close();
  t.close();
  fs.writeFileSync(path.join(exp, 'broken.json'), '{"version": 1');
  assert.throws(() => readExports(exp), /broken\.json: not a run export/);
});

test('docs/results is exactly the report of the committed runs (docs/results/runs, figure2.json)', () => {
  const out = tmp();
  reportFromDir(DOCS, out);
  const generated = (d: string) => fs.readdirSync(d).filter((f) => f.endsWith('.svg') || f === 'report.md').sort();
  assert.deepEqual(generated(DOCS), generated(out), 'the same figures (none missing, none left over)');
  const strip = (t: string) => t.split('\n').filter((l) => !l.startsWith(GENERATED_PREFIX)).join('\n');
  for (const f of generated(out))
    assert.equal(strip(fs.readFileSync(path.join(DOCS, f), 'utf8')), strip(fs.readFileSync(path.join(out, f), 'utf8')), `${f} differs from its regeneration: run \`targetprop report --from-dir docs/results\``);
  assert.ok(readExports(path.join(DOCS, 'runs')).length > 0, 'the committed report has runs behind it');
});
