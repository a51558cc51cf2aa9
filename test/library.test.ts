// fit() on a custom network shares train()'s loop: store, resume, kept model; the CLI's eval and
// predict read a kept model back and agree with the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { Activation, EpochMetrics, Flatten, Linear, Network, Sequential, Store, createMethod, fit, loadDataset, manualSeed, subset, train } from '../src';
import { tempDir } from './tmpdir';

const CLI = path.join(__dirname, '..', 'src', 'cli', 'main.js');
const custom = () => {
  manualSeed(7);
  return new Network('custom-mlp', [new Sequential([new Flatten(), new Linear(784, 32), new Activation('tanh')]), new Sequential([new Linear(32, 32), new Activation('tanh')]), new Sequential([new Linear(32, 10)])], [1, 28, 28]);
};
const strip = (ms: EpochMetrics[]) => ms.map(({ feedbackS: _f, forwardS: _w, imgPerS: _i, epochS: _e, ...m }) => m);

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
  const dir = tempDir('fit');
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
  assert.equal(r.net, c, 'fit returns the trained network');
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
  const dir = tempDir('cli');
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
  assert.throws(() => cli('eval', '--model-file', dir), /: expected a model file, found a folder/);
});

test('CLI: bad flags, config files and settings fail before any work with one line naming the flag, key or file', () => {
  const dir = tempDir('flags');
  const fails = (args: string[], want: RegExp, env: Record<string, string> = {}, lines = 1) => {
    let err = '';
    try {
      execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TARGETPROP_THREADS: '1', ...env } });
    } catch (e) {
      err = (e as { stderr: string }).stderr;
    }
    assert.match(err, want, `${args.join(' ')}`);
    assert.equal(err.trim().split('\n').length, lines, `${lines} line(s) for ${args.join(' ')}: ${err}`);
  };
  const file = (name: string, body: string) => (fs.writeFileSync(path.join(dir, name), body), path.join(dir, name));
  fails(['train', '--batch', '--seed', '3'], /--batch expects a number, got '--seed'/);
  fails(['train', '--batch'], /option '--batch <n>' argument missing/);
  fails(['train', '--bogus', '1'], /unknown option '--bogus'/);
  fails(['train', '--augment', 'nope'], /--augment is a switch/);
  fails(['train', '--model', 'constructor'], /unknown model 'constructor'/);
  // no "settings: ... as in the grid's cell" line about a model or dataset that does not exist
  for (const bad of [['--model', 'foo'], ['--data', 'foo'], ['--method', 'foo']]) {
    const r = spawnSync(process.execPath, [CLI, 'train', ...bad], { encoding: 'utf8', env: { ...process.env, TARGETPROP_THREADS: '1' } });
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stdout, /settings:/, bad.join(' '));
    assert.match(r.stderr, /unknown (model|dataset|method) 'foo'/);
  }
  fails(['train', '--config', file('a.json', '{"epoch": 2}')], /a\.json: unknown key 'epoch' \(did you mean 'epochs'\?\)/);
  fails(['train', '--config', file('b.json', '{"learningRate": 0.5}')], /b\.json: unknown key 'learningRate'/);
  fails(['train', '--config', file('c.json', '{"lr": "0.1"}')], /c\.json: lr must be a number \(not a string\), got "0\.1"/);
  fails(['train', '--config', file('d.yaml', 'optimizer:\n  kind: sgd\n  momentum: "0.9"\n')], /d\.yaml: optimizer\.momentum must be a number/);
  fails(['train', '--config', file('e.json', '{"schedule": {"kind": "cosine", "tMax": 0}}')], /e\.json: schedule\.tMax must be >= 1/);
  fails(['train', '--config', file('f.json', '{"feedback": {"lr": [0.1, "x"]}}')], /f\.json: feedback\.lr\[1\] must be a number/);
  fails(['train', '--config', file('g.json', '{"augment": "no"}')], /g\.json: augment must be true or false/);
  fails(['train', '--config', file('k.json', '{"feedback": {"optimizer": {"kind": "rmsprop"}}}')], /k\.json: feedback\.optimizer\.kind must be one of sgd, adam/);
  fails(['train', '--config', file('h.json', '{ broken')], /h\.json: not valid JSON/);
  fails(['train', '--train-subset', '70000'], /trainSubset 70000 is more than mnist's 60000 training images/);
  fails(['train', '--data', 'cifar10', '--test-subset', '10001'], /testSubset 10001 is more than cifar10's 10000 test images/);
  fails(['train', '--train-subset', '500', '--val', '500'], /valSize 500 leaves no training images \(of 500\)/);
  fails(['train', '--config', file('i.yaml', '')], /i\.yaml: the file is empty/);
  fails(['train', '--config', dir], /expected a JSON or YAML file, found a folder/);
  fails(['train', '--config', path.join(dir, 'nope.json')], /nope\.json: no such file/);
  fails(['--help'], /TARGETPROP_THREADS must be an integer from 1 to 256, got 'abc'/, { TARGETPROP_THREADS: 'abc' });
  fails(['--help'], /TARGETPROP_THREADS must be an integer from 1 to 256, got '100000'/, { TARGETPROP_THREADS: '100000' });
  // what is missing, how to get it, and how to run the rest
  fails(['reproduce', 'table1'], /table1 needs datasets that are missing or bad, so nothing was run:\n  cifar10: dataset not found.*data fetch cifar10.*\n  or run the cells that can run now: targetprop reproduce table1 --profile quick --data mnist,fashion-mnist/, { TARGETPROP_DATA: path.join(dir, 'empty') }, 3);
  const cli = (...args: string[]) => execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, TARGETPROP_THREADS: '1' } });
  assert.match(cli('--version'), /^\d+\.\d+\.\d+\n$/);
  assert.match(cli('train', '-h'), /--epochs <n>\s+epochs \(default 1\)/);
  // the feedback optimizer takes the forward optimizer's form ({kind}) as well as a name
  assert.match(cli('train', '--method', 'dtp', '--config', file('l.json', '{"feedback": {"optimizer": {"kind": "adam"}}}'), '--print-config'), /"feedback":\{"optimizer":\{"kind":"adam"\}\}/);
  const printed = cli('train', '--augment', 'false', '--name', 'mine', '--print-config', '--epochs', '3');
  assert.match(printed, /"augment":false/);
  assert.match(printed, /"name":"mine"/);
  assert.match(printed, /"epochs":3/);
});

test('runs a user can manage: no run dropped from the report, differing settings shown, CSV/JSONL export, a running config is not trained twice', async () => {
  const { aggregate, renderTable } = await import('../src/experiments/report');
  const { renderRuns, exportRunList } = await import('../src/experiments/runlist');
  const dir = tempDir('manage');
  const store = new Store(path.join(dir, 'runs.sqlite'));
  const base = { name: 'mlp/mlp-mnist/bp', model: 'mlp', modelConfig: { depth: 3, hidden: 16 }, data: 'mnist' as const, method: 'bp' as const, epochs: 1, batchSize: 64, trainSubset: 256, testSubset: 128 };
  await train({ ...base, lr: 0.05 }, { store, quiet: true });
  await train({ ...base, lr: 0.1, tags: ['mine'] }, { store, quiet: true });
  const rows = aggregate(store).filter((a) => a.table === 'mlp');
  assert.equal(rows.length, 2, 'the second config of a cell does not replace the first');
  const table = renderTable(aggregate(store), 'mlp', 'custom');
  assert.match(table, /\| mlp-mnist \| bp \(lr=0\.05\) \|/);
  assert.match(table, /\| mlp-mnist \| bp \(lr=0\.1\) \|/);
  const list = renderRuns(store);
  assert.match(list, /\| lr=0\.05 \|\n/);
  assert.match(list, /\| lr=0\.1; tags=mine \|\n/);
  const csv = exportRunList(store, 'csv').trim().split('\n');
  assert.equal(csv[0], 'id,name,seed,status,epochs,train_acc,test_acc,best_test_acc,started,finished,note,git,config');
  assert.equal(csv.length, 3);
  const jsonl = exportRunList(store, 'jsonl').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(jsonl.map((r) => r.config.lr), [0.05, 0.1]);
  // a config another live process is training is refused; a dead process's claim is taken over
  const open = await train({ ...base, lr: 0.2, epochs: 2 }, { store, quiet: true, stopAfter: 1 });
  store.db.prepare('UPDATE runs SET owner = ? WHERE id = ?').run(`${os.hostname()}:${process.ppid}`, open.runId);
  await assert.rejects(train({ ...base, lr: 0.2, epochs: 2 }, { store, quiet: true }), new RegExp(`run ${open.runId} \\(mlp/mlp-mnist/bp\\) is being trained by process ${process.ppid} on this machine`));
  store.db.prepare('UPDATE runs SET owner = ? WHERE id = ?').run(`${os.hostname()}:999999999`, open.runId);
  const done = await train({ ...base, lr: 0.2, epochs: 2 }, { store, quiet: true });
  assert.equal(done.epochs.length, 2, 'taken over from a dead process and finished');
  assert.equal(store.getRun(open.runId!)!.owner, null, 'the claim is given back');
  store.close();
});
