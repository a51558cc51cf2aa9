// Engine fuzz: thousands of random calls into the native op table (test/fuzz/cases.ts), run in
// child processes; every call must return or throw a JS Error. A segfault, an abort, a non-zero
// exit or a hang fails the test and names the case (rerun one with TP_FUZZ=N:N+1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { native } from '../src/engine/native';

const CHILD = path.join(__dirname, 'fuzz', 'child.js');
const CASES = Number(process.env.TP_FUZZ_CASES ?? 20000);
const PER_CHILD = 500;

test(`engine fuzz: ${CASES} random op calls, no native crash and no hang`, () => {
  for (let from = 0; from < CASES; from += PER_CHILD) {
    const to = Math.min(CASES, from + PER_CHILD);
    const r = spawnSync(process.execPath, [CHILD], { env: { ...process.env, TP_FUZZ: `${from}:${to}`, TARGETPROP_THREADS: '1' }, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
    const lines = (r.stdout ?? '').trim().split('\n');
    const last = lines.filter((l) => l.startsWith('case ')).at(-1) ?? '(none)';
    const how = r.error ? `hung (${r.error.message})` : r.signal ? `died with ${r.signal}` : `exited ${r.status}`;
    assert.ok(r.status === 0 && lines.at(-1) === 'done', `fuzz cases ${from}..${to}: ${how} at ${last}\n${(r.stderr ?? '').slice(-2000)}`);
  }
});

test('the crashes the fuzzer found are clean errors now', () => {
  const x = native.randn([1, 1, 4, 4]);
  const [y, idx] = native.maxPool2d(x, 2, 2, 0);
  for (const off of [16, -1e5, 1e6]) {
    const sum = native.binary('add', idx, off);
    const bad = native.toDtype(sum, 'int64');
    sum.dispose();
    assert.throws(() => native.maxPool2dAdjoint(y, x, 2, 2, 0, bad), /maxPool2dAdjoint.*out of range \[0, 16\)/);
    assert.throws(() => native.maxUnpool2d(y, bad, [4, 4]), /maxUnpool2d.*out of range/);
    bad.dispose();
  }
  // in-range indices still work and give the exact adjoint (each max gets its dy)
  const dx = native.maxPool2dAdjoint(native.full([1, 1, 2, 2], 1, 'float32'), x, 2, 2, 0, idx);
  assert.equal(native.item(native.reduce('sum', dx, null, false)), 4);
  assert.throws(() => native.setNumThreads(100000), /thread count must be 1..256/);
  assert.throws(() => native.expand(native.full([1], 1, 'float32'), [2 ** 62]), /integer \(\|n\| < 2\^53\)/);
  assert.throws(() => native.expand(native.full([1], 1, 'float32'), [2 ** 40]), /more than 2\^31 elements/);
  assert.throws(() => native.full([2 ** 20, 2 ** 20], 0, 'float32'), /more than 2\^31 elements/);
  assert.throws(() => native.randperm(NaN), /must be an integer/);
  for (const t of [x, y, idx, dx]) t.dispose();
});
