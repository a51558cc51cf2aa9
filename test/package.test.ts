// The package as a user gets it: `npm pack`, installed into an empty project, imported by name.
// The README's Library example is compiled there with strict TypeScript against the installed
// types only (no devDependencies of ours) and run: it trains a custom MLP with TJML-DTP, saves,
// reloads and evaluates it. The tarball holds no tests, benchmarks or figures. The native addon
// and better-sqlite3 are copied from this checkout's build instead of compiled again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Network, Linear, Sequential, Activation, Flatten, saveModel, readSafetensors, loadWeights, loadModel, buildModel } from '../src';
import { manualSeed } from '../src/engine';
import { tempDir } from './tmpdir';

const ROOT = path.join(__dirname, '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TARGETPROP_THREADS: '1' } });

test('npm pack -> install into an empty project -> the README example compiles, trains, saves, reloads', () => {
  const dir = tempDir('pkg');
  const tgz = path.join(dir, run(NPM, ['pack', '--silent', '--pack-destination', dir], ROOT).trim().split('\n').at(-1)!);
  const files = run('tar', ['tzf', tgz], dir).split('\n').filter(Boolean);
  for (const f of ['package/dist/src/index.js', 'package/dist/src/index.d.ts', 'package/LICENSE', 'package/native/addon.cc', 'package/binding.gyp', 'package/README.md'])
    assert.ok(files.includes(f), `tarball holds ${f}`);
  const stray = files.filter((f) => /^package\/(test|bench|docs|dist\/test|dist\/bench)\/|\.svg$|\.sqlite/.test(f));
  assert.deepEqual(stray, [], 'no tests, benchmarks, docs or figures in the tarball');

  const app = path.join(dir, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  run(NPM, ['install', tgz, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], app);
  const mod = path.join(app, 'node_modules');
  fs.cpSync(path.join(ROOT, 'build', 'Release', 'targetprop_native.node'), path.join(mod, 'targetprop', 'build', 'Release', 'targetprop_native.node'));
  fs.cpSync(path.join(ROOT, 'node_modules', 'better-sqlite3', 'build'), path.join(mod, 'better-sqlite3', 'build'), { recursive: true });

  // the README's example, verbatim
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const example = readme.split('## Library')[1].split('```ts\n')[1].split('```')[0];
  fs.writeFileSync(path.join(app, 'index.ts'), example);
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  run(process.execPath, [tsc, '--strict', '--target', 'es2022', '--module', 'commonjs', '--esModuleInterop', 'index.ts'], app);
  const out = run(process.execPath, ['index.js'], app);
  const trained = Number(/TJML-DTP: test accuracy ([\d.]+) %/.exec(out)?.[1]);
  const reloaded = Number(/reloaded: test accuracy ([\d.]+) %/.exec(out)?.[1]);
  assert.ok(trained > 60, `the custom MLP learned (${out.trim()})`);
  assert.equal(reloaded, trained, 'the reloaded model evaluates as the trained one');
  assert.match(out, /BP angles [\d.]+, [\d.]+, [\d.]+ deg/);

  // ESM import by name, and the namespaces
  fs.writeFileSync(path.join(app, 'esm.mjs'), "import { fit, models, METHODS, tidy } from 'targetprop';\nconsole.log(typeof fit, typeof models.mlp, METHODS.length, typeof tidy);\n");
  assert.equal(run(process.execPath, ['esm.mjs'], app).trim(), 'function function 9 function');
});

test('safetensors: the layout follows the format byte by byte; names are stable; a registry model reloads from its metadata', () => {
  manualSeed(3);
  const net = new Network('tiny', [new Sequential([new Flatten(), new Linear(4, 3), new Activation('tanh')]), new Sequential([new Linear(3, 2)])], [1, 2, 2], 2);
  assert.deepEqual(net.namedParams().map(([n]) => n), ['blocks.0.1.weight', 'blocks.0.1.bias', 'blocks.1.0.weight', 'blocks.1.0.bias']);
  assert.deepEqual(net.namedParams().map(([, p]) => p), net.params(), 'names follow params() order');
  const file = path.join(tempDir('st'), 'm.safetensors');
  saveModel(file, net, { data: 'none' });
  // read it by the specification, not by our reader
  const b = fs.readFileSync(file);
  const n = Number(b.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0, 'data starts 8-byte aligned');
  const header = JSON.parse(b.subarray(8, 8 + n).toString('utf8'));
  assert.deepEqual(header['blocks.0.1.weight'], { dtype: 'F32', shape: [3, 4], data_offsets: [0, 48] });
  assert.deepEqual(header['blocks.1.0.bias'].data_offsets, [48 + 12 + 24, 48 + 12 + 24 + 8]);
  const w = net.namedParams()[0][1].data();
  assert.deepEqual(new Float32Array(b.buffer.slice(b.byteOffset + 8 + n, b.byteOffset + 8 + n + 48)), w);
  assert.equal(JSON.parse(header.__metadata__.targetprop).model, 'tiny');
  assert.equal(b.length, 8 + n + 4 * (12 + 3 + 6 + 2), 'nothing after the last tensor');
  // load into a fresh network of the same structure
  const twin = new Network('tiny', [new Sequential([new Flatten(), new Linear(4, 3), new Activation('tanh')]), new Sequential([new Linear(3, 2)])], [1, 2, 2], 2);
  loadWeights(twin, file);
  twin.params().forEach((p, i) => assert.deepEqual(p.data(), net.params()[i].data()));
  const other = new Network('tiny', [new Sequential([new Flatten(), new Linear(4, 5)])], [1, 2, 2], 5);
  assert.throws(() => loadWeights(other, file), /parameters do not match the network \(missing: none; not in the network: blocks\.1\.0\.weight, blocks\.1\.0\.bias\)/);
  assert.throws(() => loadModel(file), /unknown model 'tiny'/, 'a custom network is not in the registry');
  fs.writeFileSync(`${file}.bad`, b.subarray(0, 20));
  assert.throws(() => loadWeights(twin, `${file}.bad`), /not a safetensors model file \(header length \d+ exceeds the file\)/);
  // a registry model comes back from its metadata alone
  const lenet = buildModel('lenet', [1, 28, 28], { channels: [4, 8], hidden: 16 });
  saveModel(file, lenet, { model: 'lenet', modelConfig: { channels: [4, 8], hidden: 16 } });
  const { net: back, meta } = loadModel(file);
  assert.equal(meta.model, 'lenet');
  back.params().forEach((p, i) => assert.deepEqual(p.data(), lenet.params()[i].data()));
  for (const x of [net, twin, other, lenet, back]) x.dispose();
  assert.ok(readSafetensors(file).tensors.size > 0);
});
