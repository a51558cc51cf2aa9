// Divergence ends a run within one step, with where and which knob to lower; a killed-and-resumed
// run is bit-identical to an uninterrupted one for every method (every random draw of an epoch
// comes from the epoch's own seed, and the checkpoint holds parameters and optimizer states).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DivergenceGuard, EpochMetrics, train } from '../src/experiments/train';
import { TrainConfig } from '../src/experiments/config';
import { Store } from '../src/store/store';
import { METHODS } from '../src/methods';
import { leakedTensors, liveTensors, watchLeaks } from '../src/engine';
import { buildModel } from '../src/models';
import { createMethod } from '../src/methods';
import { tempDir } from './tmpdir';
import { settleGc } from './helpers';

const settledLive = async () => {
  await settleGc();
  return liveTensors();
};

const tmp = () => tempDir('rel');
const mlp: Partial<TrainConfig> = {
  model: 'mlp',
  modelConfig: { depth: 3, hidden: 32 },
  data: 'mnist',
  epochs: 2,
  batchSize: 64,
  lr: 0.05,
  beta: 0.1,
  optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 0 },
  trainSubset: 256,
  testSubset: 128,
  diagnosticsEvery: 1,
};

test('divergence guard: NaN at once, a finite explosion against the first loss, noise tolerated', () => {
  assert.match(new DivergenceGuard(null).check(NaN) ?? '', /loss NaN/);
  const g = new DivergenceGuard(null);
  assert.equal(g.check(2.3), null);
  for (const l of [2.2, 5, 2.1, 2.0]) assert.equal(g.check(l), null, 'a noisy batch is not divergence');
  let why: string | null = null;
  for (let k = 0; k < 5 && !why; k++) why = g.check(300);
  assert.match(why ?? '', /over 10x the run's first loss 2\.300/);
});

test('an exploding run ends as diverged within its first epoch, naming step, value and knob', async () => {
  const dir = tmp();
  const s = new Store(path.join(dir, 'runs.sqlite'));
  const before = await settledLive();
  for (const [method, lr] of [['bp', 1e3], ['fwdtp', 1e3]] as const) {
    const cfg = { ...mlp, method, lr, epochs: 3, feedback: method === 'fwdtp' ? { init: { kind: 'forward' as const }, iterations: 0, lr: 0, sigma: 1, momentum: 0.9 } : undefined };
    const epochs: EpochMetrics[] = [];
    await assert.rejects(train(cfg, { store: s, quiet: true, onEpoch: (m) => epochs.push(m) }), /training diverged in epoch 1, step \d+: .*lower lr \(1000\)/);
    assert.equal(epochs.length, 0, 'no epoch of an exploded run is kept');
    const r = s.runs().at(-1)!;
    assert.equal(r.status, 'diverged');
    assert.match(r.note ?? '', /step \d+/);
    // rerunning reports the stored divergence without training again
    await assert.rejects(train(cfg, { store: s, quiet: true }), new RegExp(`run ${r.id} diverged in epoch 1`));
  }
  assert.equal(await settledLive(), before, 'a diverged run frees its tensors');
  s.close();
});

test('a config rejected halfway through a build frees what the build made, at once and not by the GC', async () => {
  const before = await settledLive();
  watchLeaks(true, { stacks: true });
  try {
    // the method is rejected after the model is built: train frees the model
    await assert.rejects(train({ ...mlp, model: 'lenet', modelConfig: { channels: [4, 8], hidden: 16 }, method: 'ijml' }, { quiet: true }), /ijml on lenet, block 1.*no 'inverse' feedback/);
    assert.equal(liveTensors(), before, 'train: the model of a rejected method is freed');
    // a method rejected after it made Adam state and feedback weights
    const net = buildModel('mlp', [1, 28, 28], { depth: 3, hidden: 16 });
    const withNet = liveTensors();
    assert.throws(
      () => createMethod(net, { method: 'ldrl', lr: 0.01, beta: 0.1, optimizer: { kind: 'adam' }, feedback: { iterations: 1, lr: 1e-3, sigma: 0.1, momentum: 0.9, init: { kind: 'default' }, topTarget: 'nope' as 'learned' } }),
      /ldrl: feedback topTarget must be 'gradient' or 'learned', got 'nope'/,
    );
    assert.equal(liveTensors(), withNet, 'createMethod: Adam state and feedback weights of a rejected method are freed');
    net.dispose();
    // models whose shapes fail after some layers were made
    assert.throws(() => buildModel('mixer', [1, 28, 28], { patch: 7, width: 8, tokenHidden: -1 }), /bad shape/);
    assert.throws(() => buildModel('simple-vgg', [3, 8, 8], { channels: [4, 4, 4, 4] }), /4 pooling stages do not fit a 8x8 input/);
    assert.doesNotThrow(() => buildModel('simple-vgg', [3, 8, 8], { channels: [4, 4, 4] }).dispose(), 'three stages fit 8x8 (8 -> 4 -> 2 -> 1)');
    assert.equal(liveTensors(), before, 'buildModel: the layers made before the failure are freed');
    await settleGc();
    assert.equal(leakedTensors().count, 0, `left to the GC:\n${[...leakedTensors().sites].map(([s, n]) => `${n}x ${s}`).join('\n')}`);
  } finally {
    watchLeaks(false);
  }
});

const strip = (ms: EpochMetrics[]) => ms.map(({ feedbackS: _f, forwardS: _w, imgPerS: _i, epochS: _e, ...m }) => m);

for (const method of METHODS)
  test(`${method}: a run killed after epoch 1 and resumed is bit-identical to an uninterrupted one`, async () => {
    const cfg: Partial<TrainConfig> = {
      ...mlp,
      method,
      // IJML needs square weights: 784 -> 10 -> 10 -> 10 (block 0's feedback is never used)
      modelConfig: method === 'ijml' ? { depth: 3, hidden: 10 } : mlp.modelConfig,
      lr: method === 'bp' || method.startsWith('tjml') || method === 'ijml' || method === 'pjml' ? 0.05 : 0.01,
      feedback: ['ldrl', 'dtp', 'drl', 'fwdtp'].includes(method) ? { iterations: method === 'fwdtp' ? 0 : 2, lr: 1e-3, sigma: 0.1, momentum: 0.9, init: { kind: 'default' }, pretrainEpochs: method === 'dtp' ? 1 : 0 } : undefined,
    };
    const whole: EpochMetrics[] = [];
    await train(cfg, { quiet: true, onEpoch: (m) => whole.push(m) });
    const dir = tmp();
    const s1 = new Store(path.join(dir, 'runs.sqlite'));
    await train(cfg, { store: s1, quiet: true, stopAfter: 1 });
    s1.close();
    const resumed: EpochMetrics[] = [];
    const s2 = new Store(path.join(dir, 'runs.sqlite'));
    await train(cfg, { store: s2, quiet: true, onEpoch: (m) => resumed.push(m) });
    const stored = s2.epochs(s2.runs()[0].id);
    s2.close();
    assert.equal(resumed.length, 1, 'only epoch 2 ran after the resume');
    assert.deepEqual(strip(resumed), strip(whole.slice(1)), 'epoch 2: losses, accuracies and every diagnostic identical to the bit');
    assert.equal(stored[0].train_loss, whole[0].trainLoss);
  });

test('errors name their object: a non-database file, a folder for a database, a folder for a dataset file', async () => {
  const dir = tmp();
  const junk = path.join(dir, 'runs.sqlite');
  fs.writeFileSync(junk, 'x'.repeat(4096));
  assert.throws(() => new Store(junk), (e: Error) => e.message.startsWith(`${junk}: open: file is not a database`));
  const folder = path.join(dir, 'folder.sqlite');
  fs.mkdirSync(folder);
  assert.throws(() => new Store(folder), new RegExp(`${folder}: open: expected a database file, found a folder`));
  const { loadDataset } = await import('../src/data/datasets');
  const data = path.join(dir, 'data');
  fs.mkdirSync(path.join(data, 'mnist', 'train-images-idx3-ubyte'), { recursive: true });
  for (const f of ['train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) fs.writeFileSync(path.join(data, 'mnist', f), '');
  assert.throws(() => loadDataset('mnist', { dataDir: data }), /mnist[\\/]train-images-idx3-ubyte: expected a data file, found a folder/);
});

test('kill -9 mid-run, then the same command again: the resumed run is bit-identical to an uninterrupted one', async () => {
  const { spawn, execFileSync } = await import('node:child_process');
  const CLI = path.join(__dirname, '..', 'src', 'cli', 'main.js');
  const args = (dir: string) => ['train', '--model', 'mlp', '--model-config', '{"depth":3,"hidden":64}', '--data', 'mnist', '--method', 'ldrl', '--lr', '0.02', '--beta', '0.1',
    '--epochs', '4', '--batch', '64', '--train-subset', '4096', '--test-subset', '256', '--results', dir, '--quiet'];
  const env = { ...process.env, TARGETPROP_THREADS: '1' };
  const ref = tmp();
  execFileSync(process.execPath, [CLI, ...args(ref)], { env, stdio: 'ignore' });
  const dir = tmp();
  const child = spawn(process.execPath, [CLI, ...args(dir)], { env, stdio: 'ignore' });
  const db = path.join(dir, 'runs.sqlite');
  let killedAt = -1;
  for (let i = 0; i < 1200 && killedAt < 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
    if (!fs.existsSync(db)) continue;
    const s = new Store(db);
    const n = s.runs()[0] ? s.epochs(s.runs()[0].id).length : 0;
    s.close();
    if (n >= 1) {
      child.kill('SIGKILL');
      killedAt = n;
    }
  }
  await new Promise((r) => child.on('exit', r));
  assert.ok(killedAt >= 1 && killedAt < 4, `killed part-way (after ${killedAt} of 4 epochs)`);
  execFileSync(process.execPath, [CLI, ...args(dir)], { env, stdio: 'ignore' });
  const rows = (d: string) => {
    const s = new Store(path.join(d, 'runs.sqlite'));
    // timings aside (the columns and the epoch's wall time among the diagnostics)
    const r = s.epochs(s.runs()[0].id).map(({ feedback_s: _f, forward_s: _w, img_per_s: _i, diagnostics, ...e }) => {
      const { epochS: _e, ...d } = JSON.parse(diagnostics);
      return { ...e, diagnostics: d };
    });
    const status = s.runs()[0].status;
    s.close();
    return { r, status };
  };
  const a = rows(ref);
  const b = rows(dir);
  assert.equal(b.status, 'done');
  assert.deepEqual(b.r, a.r, 'every epoch: losses, accuracies, diagnostics identical to the bit');
});
