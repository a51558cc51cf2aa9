// Devices, tested on the CPU: every tensor knows its device, creation follows the default device,
// ops on two devices throw a JS error naming both (the 'meta' device, which every libtorch build
// has, stands in for a second one), CUDA on a CPU-only build fails with what to install, and runs
// record where they ran. On a CUDA machine the whole suite runs with TARGETPROP_DEVICE=cuda.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { cudaInfo, defaultDevice, randn, randnLike, resolveDevice, setDefaultDevice, tensor, zeros } from '../src/engine';
import { Store, train, validateConfig, TRAIN_DEFAULTS } from '../src';
import { tempDir } from './tmpdir';

const home = defaultDevice();

test('tensors carry a device; creation follows the default device; two devices in one op is a clear error', () => {
  const x = tensor([1, 2, 3]);
  assert.equal(x.device, home);
  const m = x.to('meta');
  assert.equal(m.device, 'meta');
  assert.throws(() => x.add(m), /tensors on two devices, (cpu|cuda:\d) and meta: move one with tensor\.to\(device\)/);
  assert.throws(() => m.to('cpu').data(), /meta/, 'a meta tensor has no data to copy (an error, not a crash)');
  setDefaultDevice('meta');
  try {
    assert.equal(randn([2, 2]).device, 'meta');
    assert.equal(tensor([1, 2]).device, 'meta', 'host data is uploaded to the default device');
  } finally {
    setDefaultDevice(home);
  }
  assert.equal(randn([2]).device, home);
  // creation ops also take a device of their own
  assert.equal(zeros([2], 'float32', 'meta').device, 'meta');
  assert.equal(tensor([1], [1], 'float32', 'meta').device, 'meta');
  assert.equal(randnLike(m).device, 'meta', '*Like follows its tensor');
  assert.throws(() => randn([2], 'cuda:7'), /device 'cuda:7'/);
  for (const t of [x, m]) t.dispose();
});

test('CUDA: what this build can do; asking for it on a CPU-only build fails with what to install', (t) => {
  const c = cudaInfo();
  assert.equal(typeof c.built, 'boolean');
  assert.equal(c.names.length, c.count);
  if (c.available) return t.diagnostic(`CUDA here: ${c.names.join(', ')}`);
  assert.equal(resolveDevice('auto'), 'cpu');
  assert.throws(() => setDefaultDevice('cuda'), c.built ? /no CUDA device is visible/ : /built against a CPU-only libtorch.*LIBTORCH=/);
  assert.throws(() => validateConfig({ ...TRAIN_DEFAULTS, device: 'cuda:0' }), /invalid config: device 'cuda:0'/);
  assert.throws(() => resolveDevice('tpu'), /device must be cpu, cuda, cuda:N or auto, got 'tpu'/);
  assert.equal(defaultDevice(), home, 'a refused device leaves the default as it was');
});

test('a run records its device; checkpoints and kept models load onto the run device', async () => {
  const dir = tempDir('dev');
  const store = new Store(path.join(dir, 'runs.sqlite'));
  const cfg = { model: 'mlp', modelConfig: { depth: 3, hidden: 16 }, data: 'mnist' as const, method: 'tjml' as const, epochs: 2, batchSize: 64, lr: 0.05, trainSubset: 256, testSubset: 128, device: 'auto' };
  await train(cfg, { store, quiet: true, stopAfter: 1 });
  const first = store.runs()[0];
  const was = JSON.parse(first.engine);
  store.setEngine(first.id, JSON.stringify({ ...was, device: 'cuda:1' })); // as if epoch 1 ran on a GPU
  const r = await train(cfg, { store, quiet: true });
  assert.deepEqual(JSON.parse(store.getRun(r.runId!)!.engine).device, ['cuda:1', defaultDevice()], 'a resume on another device is recorded');
  store.setEngine(first.id, JSON.stringify(was));
  const engine = JSON.parse(store.getRun(r.runId!)!.engine);
  if (resolveDevice('auto') === 'cpu') assert.equal(engine.device, 'cpu');
  else assert.ok(engine.device.startsWith('cuda') && engine.gpu, 'the device and the GPU are named');
  const { loadModel } = await import('../src');
  const { net } = loadModel(path.join(dir, 'models', `run-${r.runId}.safetensors`));
  assert.equal(net.params()[0].device, defaultDevice());
  net.dispose();
  store.close();
});
