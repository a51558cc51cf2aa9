// The BLAS core choice: a user's OPENBLAS_CORETYPE is kept; otherwise a calibration in child
// processes picks a verified core, caches it per CPU and engine build, and every later start
// reuses it. Each case runs in a fresh process, because OpenBLAS reads the variable once, at load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CoreCacheEntry, CoreProbe, pickCore, readCoreCache, withCoreEntry } from '../src/engine/blascore';
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

  // another checkout's calibration (another engine build) sits beside this one's
  const [ours] = readCoreCache(cache);
  assert.ok(ours, 'the cache holds this build\'s entry');
  const foreign: CoreCacheEntry = { key: 'another CPU|another/engine.node|1', coretype: 'Haswell', probes: [] };
  fs.writeFileSync(cache, JSON.stringify({ entries: [ours, foreign] }));
  const before = fs.statSync(cache).mtimeMs;
  const second = start(env);
  assert.equal(second.choice.source, 'calibrated');
  assert.equal(second.info.core, first.info.core);
  assert.equal(fs.statSync(cache).mtimeMs, before, 'the cached choice is reused, not recalibrated');
  assert.equal(second.stderr, '', 'a cached choice starts silently');

  // the one-entry layout of earlier versions is still read
  fs.writeFileSync(cache, JSON.stringify(ours));
  const old = fs.statSync(cache).mtimeMs;
  assert.equal(start(env).info.core, first.info.core);
  assert.equal(fs.statSync(cache).mtimeMs, old, 'an old-layout entry is reused');

  // calibrating this build keeps the other build's entry instead of overwriting it
  fs.writeFileSync(cache, JSON.stringify({ entries: [foreign] }));
  assert.equal(start(env).choice.source, 'calibrated');
  assert.deepEqual(readCoreCache(cache).map((e) => e.key), [foreign.key, ours.key]);

  // a damaged cache is recalibrated, not a crash
  fs.writeFileSync(cache, '{ not json');
  assert.equal(start(env).choice.source, 'calibrated');
  assert.doesNotThrow(() => JSON.parse(fs.readFileSync(cache, 'utf8')));

  assert.equal(start({ ...env, TARGETPROP_BLAS_CORE: 'auto' }).choice.source, 'auto');
  fs.rmSync(home, { recursive: true, force: true });
});

test('the core cache keeps one entry per engine build, newest last, at most CORE_CACHE_MAX', () => {
  const e = (key: string, coretype: string | null = null): CoreCacheEntry => ({ key, coretype, probes: [] });
  assert.deepEqual(withCoreEntry([e('a'), e('b')], e('c')).map((x) => x.key), ['a', 'b', 'c']);
  // a recalibrated build replaces its entry and becomes the newest
  const re = withCoreEntry([e('a', 'Haswell'), e('b')], e('a', 'SkylakeX'));
  assert.deepEqual(re.map((x) => [x.key, x.coretype]), [['b', null], ['a', 'SkylakeX']]);
  assert.deepEqual(withCoreEntry([e('a'), e('b'), e('c')], e('d'), 3).map((x) => x.key), ['b', 'c', 'd']);

  const dir = tempDir('blascache');
  const file = path.join(dir, 'blas-core.json');
  assert.deepEqual(readCoreCache(file), [], 'no file: nothing cached');
  fs.writeFileSync(file, '{ not json');
  assert.deepEqual(readCoreCache(file), [], 'a damaged file: nothing cached');
  fs.writeFileSync(file, JSON.stringify({ entries: [e('a'), { key: 7 }, null] }));
  assert.deepEqual(readCoreCache(file).map((x) => x.key), ['a'], 'malformed entries are skipped');
  fs.writeFileSync(file, JSON.stringify(e('old')));
  assert.deepEqual(readCoreCache(file).map((x) => x.key), ['old'], 'the one-entry layout of earlier versions');
  fs.rmSync(dir, { recursive: true, force: true });
});
