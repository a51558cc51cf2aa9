// The BLAS core choice: a user's OPENBLAS_CORETYPE is kept; otherwise a calibration in child
// processes picks a verified core, caches it per CPU and engine build, and every later start
// reuses it. Each case runs in a fresh process, because OpenBLAS reads the variable once, at load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CoreProbe, pickCore } from '../src/engine/blascore';
import { blasInfo } from '../src/engine';
import { tempDir } from './tmpdir';

const ENGINE = path.join(__dirname, '..', 'src', 'engine');
// prints what the engine chose, as one JSON line
const REPORT = `const e = require(${JSON.stringify(ENGINE)}); console.log(JSON.stringify({ choice: e.blasChoice(), info: e.blasInfo() }));`;

function start(env: NodeJS.ProcessEnv): { choice: { source: string; coretype?: string; probes?: CoreProbe[]; cache?: string }; info: { core?: string }; stderr: string } {
  const full: NodeJS.ProcessEnv = { ...process.env, TARGETPROP_THREADS: '1', ...env };
  for (const k of Object.keys(full)) if (full[k] === undefined) delete full[k];
  const r = spawnSync(process.execPath, ['-e', REPORT], { env: full, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  return { ...JSON.parse(r.stdout.trim().split('\n').pop()!), stderr: r.stderr };
}

const dynamicOpenBlas = blasInfo().name === 'openblas' && /DYNAMIC_ARCH/.test(blasInfo().config ?? '');

test('pickCore keeps OpenBLAS own core unless a verified one is more than 10% faster, and never an unverified one', () => {
  const own = (g: number): CoreProbe => ({ requested: null, core: 'Cooperlake', verified: true, gflops: g });
  const other = (name: string, g: number, verified = true): CoreProbe => ({ requested: name, core: name, verified, gflops: g });
  assert.equal(pickCore([own(100), other('SkylakeX', 109)])!.requested, null);
  assert.equal(pickCore([own(100), other('SkylakeX', 115)])!.requested, 'SkylakeX');
  // the fastest core computed wrong results: the next verified one wins
  assert.equal(pickCore([own(10), other('SkylakeX', 300, false), other('Haswell', 80)])!.requested, 'Haswell');
  assert.equal(pickCore([{ requested: null, verified: false, error: 'crashed' }, other('Haswell', 50, false)]), undefined);
});

test('a user OPENBLAS_CORETYPE is kept and recorded as the user choice', { skip: !dynamicOpenBlas && 'not a DYNAMIC_ARCH OpenBLAS' }, () => {
  const r = start({ OPENBLAS_CORETYPE: 'Sandybridge' });
  assert.equal(r.choice.source, 'user');
  assert.equal(r.info.core, 'Sandybridge');
});

test('without a user setting the calibration picks a verified core, caches it, and the next start reuses it', { skip: !dynamicOpenBlas && 'not a DYNAMIC_ARCH OpenBLAS' }, () => {
  const home = tempDir('blas');
  const env = { OPENBLAS_CORETYPE: undefined, TARGETPROP_BLAS_CORE: undefined, XDG_CACHE_HOME: home };
  const first = start(env);
  assert.equal(first.choice.source, 'calibrated');
  const cache = path.join(home, 'targetprop', 'blas-core.json');
  assert.equal(first.choice.cache, cache);
  assert.ok(fs.existsSync(cache));
  const probes = first.choice.probes!;
  assert.ok(probes.length >= 1 && probes[0].requested === null, 'OpenBLAS own choice is probed first');
  const picked = pickCore(probes);
  assert.ok(picked?.verified, 'a verified core is picked');
  // the process runs on the picked core: the one OpenBLAS reported for it in its probe
  assert.equal(first.info.core, picked!.core);
  assert.equal(first.choice.coretype, picked!.requested ?? undefined);

  const before = fs.statSync(cache).mtimeMs;
  const second = start(env);
  assert.equal(second.choice.source, 'calibrated');
  assert.equal(second.info.core, first.info.core);
  assert.equal(fs.statSync(cache).mtimeMs, before, 'the cached choice is reused, not recalibrated');
  assert.equal(second.stderr, '', 'a cached choice starts silently');

  // a damaged cache is recalibrated, not a crash
  fs.writeFileSync(cache, '{ not json');
  assert.equal(start(env).choice.source, 'calibrated');
  assert.doesNotThrow(() => JSON.parse(fs.readFileSync(cache, 'utf8')));

  assert.equal(start({ ...env, TARGETPROP_BLAS_CORE: 'auto' }).choice.source, 'auto');
  fs.rmSync(home, { recursive: true, force: true });
});
