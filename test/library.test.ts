// fit() on a custom network shares train()'s loop: store, resume, kept model; the CLI's eval and
// predict read a kept model back and agree with the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Activation, EpochMetrics, Flatten, Linear, Network, Sequential, Store, createMethod, fit, loadDataset, manualSeed, subset, train } from '../src';

const CLI = path.join(__dirname, '..', 'src', 'cli', 'main.js');
const custom = () => {
  manualSeed(7);
  return new Network('custom-mlp', [new Sequential([new Flatten(), new Linear(784, 32), new Activation('tanh')]), new Sequential([new Linear(32, 32), new Activation('tanh')]), new Sequential([new Linear(32, 10)])], [1, 28, 28]);
};
const strip = (ms: EpochMetrics[]) => ms.map(({ feedbackS: _f, forwardS: _w, imgPerS: _i, ...m }) => m);

test('fit: a custom network trains with any method, stores its run, and a resumed fit equals an uninterrupted one', async () => {
  const mnist = loadDataset('mnist');
  const data = { ...mnist, train: subset(mnist.train, 512), test: subset(mnist.test, 256) };
  const opts = { epochs: 2, batchSize: 64, quiet: true };
  const mk = (net: Network) => createMethod(net, { method: 'ldrl', lr: 0.05, beta: 0.1, optimizer: { kind: 'sgd', momentum: 0.9 }, feedback: { iterations: 2, lr: 1e-3, sigma: 0.1, momentum: 0.9, init: { kind: 'default' } } });
  const a = custom();
  const ma = mk(a);
  const whole = await fit(a, ma, data, opts);
  assert.equal(whole.epochs.length, 2);
  assert.equal(whole.epochs[0].bpAngles?.length, 3, 'diagnostics per block');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-fit-'));
  const store = new Store(path.join(dir, 'runs.sqlite'));
  const b = custom();
  const mb = mk(b);
  await fit(b, mb, data, { ...opts, store, stopAfter: 1 });
  // a new process would rebuild the network and method the same way, then fit again: it resumes
  const c = custom();
  const mc = mk(c);
  const resumed: EpochMetrics[] = [];
  const r = await fit(c, mc, data, { ...opts, store, onEpoch: (m) => resumed.push(m) });
  assert.equal(resumed.length, 1, 'only epoch 2 ran');
  assert.deepEqual(strip(resumed), strip(whole.epochs.slice(1)));
  assert.equal(r.testAcc, whole.testAcc);
  assert.equal(store.runs().length, 1);
  assert.equal(JSON.parse(store.runs()[0].config).model, 'custom-mlp');
  assert.ok(fs.existsSync(path.join(dir, 'models', `run-${r.runId}.safetensors`)), 'the finished run keeps its network');
  c.params().forEach((p, i) => assert.deepEqual(p.data(), a.params()[i].data(), 'the trained network is returned in place, not disposed'));
  store.close();
  for (const x of [ma, mb, mc]) x.dispose();
  // a dataset of other image shapes fails before any work
  const wrong = { ...data, name: 'cifar10' as const, train: { ...data.train, shape: [3, 32, 32] as [number, number, number] } };
  await assert.rejects(fit(a, ma, wrong, opts), /fit: custom-mlp takes \[1, 28, 28\] images, cifar10 has \[3, 32, 32\]/);
  for (const x of [ma, mb, mc]) x.dispose();
  for (const x of [a, b, c]) x.dispose();
});

test('CLI: train --save, then eval and predict on the saved model agree with the run', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-cli-'));
  const cfg = { model: 'mlp', modelConfig: { depth: 3, hidden: 32 }, data: 'mnist' as const, method: 'tjml' as const, epochs: 1, batchSize: 64, lr: 0.05, trainSubset: 1024, testSubset: 500 };
  const store = new Store(path.join(dir, 'runs.sqlite'));
  const r = await train(cfg, { store, quiet: true, saveTo: path.join(dir, 'm.safetensors') });
  store.close();
  const cli = (...args: string[]) => execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, TARGETPROP_THREADS: '1' } });
  for (const file of [path.join(dir, 'm.safetensors'), path.join(dir, 'models', `run-${r.runId}.safetensors`)]) {
    const out = cli('eval', '--model-file', file, '--test-subset', '500');
    assert.match(out, new RegExp(`accuracy ${(100 * r.testAcc).toFixed(2)}%`), 'eval reproduces the run\'s test accuracy');
  }
  const pred = cli('predict', '--model-file', path.join(dir, 'm.safetensors'), '--indices', '0,1');
  assert.match(pred, /^image 0: class \d \(\d\), p = 0\.\d{4}; true class 7\nimage 1: class \d \(\d\), p = 0\.\d{4}; true class 2\n$/);
  assert.throws(() => cli('predict', '--model-file', path.join(dir, 'm.safetensors'), '--indices', '10000'), /--indices expects image indices 0\.\.9999/);
  assert.throws(() => cli('eval', '--model-file', path.join(dir, 'none.safetensors')), /none\.safetensors: no such model file/);
});
