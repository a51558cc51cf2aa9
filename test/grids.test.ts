import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectCells } from '../src/cli/main';
import { grid, TableName, tunedDefaults } from '../src/experiments/grids';
import { setup } from '../src/experiments/train';
import { TRAIN_DEFAULTS, runKey } from '../src/experiments/config';

test('every cell of every paper grid is a valid config that builds its model and method', () => {
  for (const table of ['table1', 'table2', 'table3', 'table4'] as TableName[])
    for (const profile of ['quick', 'full'] as const) {
      const cells = grid(table, profile, 2);
      assert.ok(cells.length > 0);
      const keys = new Set(cells.map((c) => runKey({ ...TRAIN_DEFAULTS, ...c.config })));
      assert.equal(keys.size, cells.length, `${table}/${profile}: each run has its own resume key`);
      const base = { ...TRAIN_DEFAULTS, ...cells[0].config };
      assert.notEqual(runKey(base), runKey({ ...base, optimizer: { kind: 'adam' } }), 'nested fields are part of the key');
      assert.equal(runKey(base), runKey({ ...base, name: 'renamed', diagnosticsEvery: 5 }));
      for (const c of cells.filter((x) => x.config.seed === 0)) {
        const { net, method } = setup({ ...TRAIN_DEFAULTS, ...c.config });
        method.dispose();
        net.dispose();
      }
    }
});

test('figure 2 timings: one row per size with all three timings', () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { matrixTimings } = require('../src/experiments/figure2') as typeof import('../src/experiments/figure2');
  const rows = matrixTimings([8, 16], 1);
  assert.deepEqual(rows.map((r) => r.n), [8, 16]);
  for (const r of rows) for (const v of [r.inverseMs, r.pinverseMs, r.transposeMs]) assert.ok(Number.isFinite(v) && v >= 0);
});

test('reproduce --methods/--data pick grid cells without changing their configs', () => {
  const all = grid('table1', 'full', 2);
  const some = selectCells(all, { _: [], methods: 'tjml,bp', data: 'mnist' });
  assert.equal(some.length, 4);
  assert.deepEqual([...new Set(some.map((c) => c.config.method))].sort(), ['bp', 'tjml']);
  assert.ok(some.every((c) => c.config.data === 'mnist' && all.includes(c)));
  assert.equal(selectCells(all, { _: [] }).length, all.length);
  // the FW-DTP-BN variant is picked by its label: FWDTP on LeNet with batch-standardized blocks
  const bn = selectCells(all, { _: [], methods: 'fwdtp-bn', data: 'cifar10' });
  assert.deepEqual(bn.map((c) => [c.config.name, c.config.method, c.config.modelConfig?.norm]), [0, 1].map(() => ['table1/lenet-cifar10/fwdtp-bn', 'fwdtp', 'batch']));
  assert.ok(selectCells(all, { _: [], methods: 'fwdtp' }).every((c) => c.config.modelConfig?.norm === undefined), 'plain fwdtp cells stay plain');
});

test('the full profile trains and tests on all of the data (no quick subsets from the defaults)', () => {
  for (const table of ['table1', 'table2', 'table3', 'table4'] as TableName[])
    for (const c of grid(table, 'full', 1)) {
      const cfg = { ...TRAIN_DEFAULTS, ...c.config };
      assert.equal(cfg.trainSubset, undefined, `${c.config.name}: trainSubset`);
      assert.equal(cfg.testSubset, undefined, `${c.config.name}: testSubset`);
    }
});

test("train's defaults per model and method are the grids' settings, budget excluded", () => {
  const cell = (table: TableName, model: string, method: string) => grid(table, 'full', 1).find((c) => c.config.model === model && c.label === method)!.config;
  const fw = tunedDefaults('lenet', 'fwdtp')!;
  const want = cell('table1', 'lenet', 'fwdtp');
  assert.equal(fw.table, 'table1');
  assert.deepEqual(fw.settings, { lr: want.lr, beta: want.beta, batchSize: want.batchSize, optimizer: want.optimizer, schedule: want.schedule, feedback: want.feedback });
  assert.equal(tunedDefaults('simple-vgg', 'tjml-exact')!.settings.lr, cell('table2', 'simple-vgg', 'tjml').lr, 'analytical variants take TJML settings');
  assert.deepEqual(tunedDefaults('mixer', 'ldrl')!.settings.optimizer, cell('table3', 'mixer', 'ldrl').optimizer);
  // a grid that runs the variant itself wins: Table 4's tjml-exact trains at BP's lr, not TJML's
  assert.equal(tunedDefaults('reversible-mixer', 'tjml-exact')!.settings.lr, cell('table4', 'reversible-mixer', 'tjml-exact').lr);
  assert.notEqual(cell('table4', 'reversible-mixer', 'tjml-exact').lr, cell('table4', 'reversible-mixer', 'tjml').lr);
  assert.equal(tunedDefaults('mlp', 'dtp')!.table, 'mlp', "the MLP table's tuned DTP");
  assert.equal(tunedDefaults('mlp', 'dtp')!.settings.lr, cell('mlp', 'mlp', 'dtp').lr);
  assert.equal(tunedDefaults('simple-vgg', 'dtp'), null);
  // LeNet's LDRL was re-tuned on digits (CIFAR-10's forward lr diverged on MNIST): train picks the dataset's cell
  assert.equal(tunedDefaults('lenet', 'ldrl', 'mnist')!.settings.lr, grid('table1', 'full', 1).find((c) => c.label === 'ldrl' && c.config.data === 'mnist')!.config.lr);
  assert.equal(tunedDefaults('lenet', 'ldrl', 'cifar10')!.settings.lr, grid('table1', 'full', 1).find((c) => c.label === 'ldrl' && c.config.data === 'cifar10')!.config.lr);
  assert.notEqual(tunedDefaults('lenet', 'ldrl', 'mnist')!.settings.lr, tunedDefaults('lenet', 'ldrl', 'cifar10')!.settings.lr);
  assert.equal(tunedDefaults('simple-vgg', 'bp', 'mnist')!.data, 'cifar10', 'a dataset the grid does not run falls back to its cell');
});
