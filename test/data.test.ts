import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as http from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { AddressInfo } from 'node:net';
import { classCounts, dataDir, loadDataset, subset, trainValSplit, SPECS } from '../src/data/datasets';
import { parseIdx, parseCifarBatch, readTar, md5 } from '../src/data/formats';
import { BatchLoader, augmentInto } from '../src/data/loader';
import { fetchDataset } from '../src/data/fetch';
import { tempDir } from './tmpdir';

const tmp = () => tempDir('data');

function idx(dims: number[], fill: (i: number) => number): Buffer {
  const n = dims.reduce((a, b) => a * b, 1);
  const b = Buffer.alloc(4 + 4 * dims.length + n);
  b.writeUInt32BE(0x0800 + dims.length, 0);
  dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  for (let i = 0; i < n; i++) b[4 + 4 * dims.length + i] = fill(i);
  return b;
}

function writeMnistLike(dir: string, nTrain: number, nTest: number, gz: boolean): void {
  fs.mkdirSync(dir, { recursive: true });
  const w = (name: string, buf: Buffer) => fs.writeFileSync(path.join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(buf) : buf);
  w('train-images-idx3-ubyte', idx([nTrain, 28, 28], (i) => i % 251));
  w('train-labels-idx1-ubyte', idx([nTrain], (i) => i % 10));
  w('t10k-images-idx3-ubyte', idx([nTest, 28, 28], (i) => (i * 7) % 256));
  w('t10k-labels-idx1-ubyte', idx([nTest], (i) => (i + 3) % 10));
}

function tar(files: Record<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of Object.entries(files)) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 'latin1');
    h.write(data.length.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
    h.write('0', 156, 'latin1');
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

function cifarBatch(n: number, offset: number): Buffer {
  const b = Buffer.alloc(n * 3073);
  for (let i = 0; i < n; i++) {
    b[i * 3073] = (i + offset) % 10;
    for (let j = 1; j < 3073; j++) b[i * 3073 + j] = (i + j) % 256;
  }
  return b;
}

test('IDX parser: raw and gzip; truncation, bad magic and trailing bytes are named errors', () => {
  const good = idx([3, 2, 2], (i) => i);
  assert.deepEqual(parseIdx(good, 'a').dims, [3, 2, 2]);
  assert.deepEqual([...parseIdx(gzipSync(good), 'a.gz').data], [...Array(12).keys()]);
  assert.throws(() => parseIdx(good.subarray(0, good.length - 1), 'f.idx'), /f\.idx: truncated: header says 12 bytes/);
  assert.throws(() => parseIdx(Buffer.concat([good, Buffer.from([0])]), 'f.idx'), /f\.idx: 1 unexpected trailing bytes/);
  const bad = Buffer.from(good);
  bad.writeUInt32BE(0x0d03, 0);
  assert.throws(() => parseIdx(bad, 'f.idx'), /f\.idx: not a ubyte IDX file/);
  assert.throws(() => parseIdx(Buffer.from([0x1f, 0x8b, 1, 2, 3]), 'g.gz'), /g\.gz: corrupt gzip data/);
});

test('synthetic MNIST-format dataset loads from the data dir, with counts checked', () => {
  const dir = tmp();
  writeMnistLike(path.join(dir, 'mnist'), 60000, 10000, true);
  const ds = loadDataset('mnist', { dataDir: dir, verify: false, offlineDirs: { mnist: [] } });
  assert.equal(ds.train.n, 60000);
  assert.equal(ds.test.labels[0], 3);
  assert.deepEqual(classCounts(ds.train), new Array(10).fill(6000));
  assert.throws(() => loadDataset('mnist', { dataDir: dir, offlineDirs: { mnist: [] } }), /checksum mismatch: md5 of decompressed data/);
  const short = tmp();
  writeMnistLike(path.join(short, 'mnist'), 100, 10000, false);
  assert.throws(() => loadDataset('mnist', { dataDir: short, verify: false, offlineDirs: { mnist: [] } }), /train-images-idx3-ubyte: holds 100 images, expected 60000/);
  assert.throws(() => loadDataset('mnist', { dataDir: tmp(), offlineDirs: { mnist: [] } }), /mnist: dataset not found\. Looked in: .*targetprop data fetch mnist/);
  assert.throws(() => loadDataset('imagenet'), /unknown dataset 'imagenet'/);
});

test('CIFAR-10 binary format: tar.gz archive and unpacked folder; bad records are named', () => {
  const files: Record<string, Buffer> = {};
  for (let i = 1; i <= 5; i++) files[`cifar-10-batches-bin/data_batch_${i}.bin`] = cifarBatch(10000, i);
  files['cifar-10-batches-bin/test_batch.bin'] = cifarBatch(10000, 0);
  const dir = tmp();
  fs.mkdirSync(path.join(dir, 'cifar10'));
  fs.writeFileSync(path.join(dir, 'cifar10', 'cifar-10-binary.tar.gz'), gzipSync(tar(files)));
  const ds = loadDataset('cifar10', { dataDir: dir, verify: false });
  assert.equal(ds.train.n, 50000);
  assert.deepEqual(ds.train.shape, [3, 32, 32]);
  assert.equal(ds.test.labels[7], 7);
  assert.equal(ds.train.images[1], 2, 'first record, pixel 1 = (0 + 2) % 256');
  assert.throws(() => parseCifarBatch(Buffer.alloc(3072), 'x.bin'), /x\.bin: size 3072 is not a multiple of the 3073-byte/);
  const badLabel = cifarBatch(1, 0);
  badLabel[0] = 12;
  assert.throws(() => parseCifarBatch(badLabel, 'y.bin'), /y\.bin: record 0 has label 12/);
  assert.throws(() => readTar(tar(files).subarray(0, 5000), 'z.tar'), /z\.tar: truncated tar/);
  const dir2 = tmp();
  fs.mkdirSync(path.join(dir2, 'cifar10', 'cifar-10-batches-bin'), { recursive: true });
  fs.writeFileSync(path.join(dir2, 'cifar10', 'cifar-10-batches-bin', 'test_batch.bin'), cifarBatch(10000, 0));
  assert.throws(() => loadDataset('cifar10', { dataDir: dir2, verify: false }), /data_batch_1\.bin: missing/);
});

test('loader: seeded order, every example once per epoch, normalisation, deterministic augmentation', () => {
  const n = 50;
  const split = { images: Uint8Array.from({ length: n * 4 }, (_, i) => Math.floor(i / 4)), labels: Uint8Array.from({ length: n }, (_, i) => i % 10), n, shape: [1, 2, 2] as [number, number, number] };
  const L = new BatchLoader(split, { batchSize: 16, shuffle: true, seed: 5, mean: [0], std: [1 / 255] });
  const ids = (e: number) => [...L.epoch(e)].flatMap((b) => { const d = [...b.x.data()].filter((_, i) => i % 4 === 0); b.x.dispose(); b.y.dispose(); return d; });
  const e0 = ids(0);
  assert.equal(L.numBatches, 4);
  assert.deepEqual([...e0].sort((a, b) => a - b), [...Array(n).keys()]);
  assert.deepEqual(ids(0), e0, 'same seed and epoch: same order');
  assert.notDeepEqual(ids(1), e0, 'epochs reshuffle');
  // crop with edge padding = shift with clamping; flip mirrors
  const img = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const out = new Uint8Array(9);
  augmentInto(img, out, [1, 3, 3], 1, 0, false);
  assert.deepEqual([...out], [4, 5, 6, 7, 8, 9, 7, 8, 9]);
  augmentInto(img, out, [1, 3, 3], 0, 0, true);
  assert.deepEqual([...out], [3, 2, 1, 6, 5, 4, 9, 8, 7]);
  const A = new BatchLoader(split, { batchSize: 50, shuffle: true, seed: 1, augment: { cropPadding: 1, flip: true }, mean: [0], std: [1 / 255] });
  const a1 = [...A.epoch(3)][0];
  const a2 = [...A.epoch(3)][0];
  assert.deepEqual(a1.x.data(), a2.x.data());
  [a1, a2].forEach((b) => (b.x.dispose(), b.y.dispose()));
  assert.equal(subset(split, 10).n, 10);
  const tv = trainValSplit(split, 10, 0);
  assert.equal(tv.train.n + tv.val.n, n);
});

test('data fetch downloads with md5 verification (served from localhost)', async () => {
  const body = Buffer.from('not really cifar');
  const server = http.createServer((req, res) => {
    if (req.url?.endsWith('cifar-10-binary.tar.gz')) {
      res.setHeader('content-length', body.length);
      res.end(body);
    } else (res.statusCode = 404), res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const dir = tmp();
    const got = await fetchDataset('cifar10', { dataDir: dir, mirrors: [url], md5: { 'cifar-10-binary.tar.gz': md5(body) }, quiet: true });
    assert.deepEqual(fs.readFileSync(path.join(got, 'cifar-10-binary.tar.gz')), body);
    await assert.rejects(fetchDataset('cifar10', { dataDir: tmp(), mirrors: [url], quiet: true }), /checksum mismatch: md5 .* expected c32a1d4a/);
    await assert.rejects(fetchDataset('mnist', { dataDir: tmp(), mirrors: [url], quiet: true }), /HTTP 404/);
  } finally {
    server.close();
  }
});

test('real datasets, where installed, match their published checksums and class counts', (t) => {
  for (const name of ['mnist', 'fashion-mnist', 'cifar10'] as const) {
    let ds;
    try {
      ds = loadDataset(name);
    } catch (e) {
      if (/not found/.test((e as Error).message)) {
        t.diagnostic(`${name}: not installed here, skipped`);
        continue;
      }
      throw e;
    }
    assert.equal(ds.train.n, SPECS[name].counts.train);
    assert.equal(ds.test.n, SPECS[name].counts.test);
    if (name !== 'mnist') assert.deepEqual(classCounts(ds.test), new Array(10).fill(1000));
    else assert.deepEqual(classCounts(ds.test), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  }
});

test('data fetch: a silent server times out, a dropped connection leaves no .part, the next mirror is tried, errors name URL and cause', async () => {
  const body = Buffer.alloc(4096, 7);
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/silent/')) return; // never answers
    if (req.url?.startsWith('/drop/')) {
      res.setHeader('content-length', body.length * 4);
      res.write(body);
      setTimeout(() => req.socket.destroy(), 50); // connection lost mid-body
      return;
    }
    res.setHeader('content-length', body.length);
    res.end(body);
  });
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // a port nothing listens on: a closed server's
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const refused = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
  closed.close();
  const md5s = { md5: { 'cifar-10-binary.tar.gz': md5(body) }, quiet: true, stallMs: 300 };
  try {
    const dir = tmp();
    const t0 = Date.now();
    await assert.rejects(
      fetchDataset('cifar10', { dataDir: dir, mirrors: [`${base}/silent/`, `${base}/drop/`, refused], ...md5s }),
      (e: Error) => {
        assert.match(e.message, /could not fetch cifar-10-binary\.tar\.gz from any mirror/);
        assert.match(e.message, new RegExp(`${base}/silent/cifar-10-binary.tar.gz: no data for 0.3 s`));
        assert.match(e.message, new RegExp(`${base}/drop/cifar-10-binary.tar.gz: (terminated|no data)`));
        assert.match(e.message, /ECONNREFUSED/);
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 10_000, 'timed out instead of hanging');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'cifar10')), [], 'no .part file left behind');
    // the next mirror is tried after one that hangs
    const got = await fetchDataset('cifar10', { dataDir: dir, mirrors: [`${base}/silent/`, `${base}/ok/`], ...md5s });
    assert.deepEqual(fs.readFileSync(path.join(got, 'cifar-10-binary.tar.gz')), body);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test('an unpacked CIFAR-10 folder is verified record by record: a flipped byte or a duplicated batch fails', (t) => {
  let archive: string | undefined;
  for (const d of [path.join(dataDir(), 'cifar10'), path.join(__dirname, '..', '..', '..', 'shared', 'datasets')]) {
    const f = path.join(d, 'cifar-10-binary.tar.gz');
    if (fs.existsSync(f)) archive = f;
  }
  if (!archive) return t.diagnostic('CIFAR-10 archive not available here, skipped');
  const files = readTar(gunzipSync(fs.readFileSync(archive)), archive);
  const dir = tmp();
  const folder = path.join(dir, 'cifar10', 'cifar-10-batches-bin');
  fs.mkdirSync(folder, { recursive: true });
  for (const [name, body] of files) if (name.endsWith('.bin')) fs.writeFileSync(path.join(dir, 'cifar10', name), body);
  // the published fingerprints (shared/datasets/README.md) hold for the unpacked records
  const ds = loadDataset('cifar10', { dataDir: dir });
  assert.equal(ds.source, folder);
  const b3 = path.join(folder, 'data_batch_3.bin');
  const orig = fs.readFileSync(b3);
  const flipped = Buffer.from(orig);
  flipped[12345] ^= 1;
  fs.writeFileSync(b3, flipped);
  // (another offline dir list: loads are memoised per dataset and folders)
  assert.throws(() => loadDataset('cifar10', { dataDir: dir, offlineDirs: { cifar10: ['/none-1'] } }), /cifar-10-batches-bin: train records differ from CIFAR-10's \(fingerprint/);
  fs.writeFileSync(b3, orig);
  fs.copyFileSync(path.join(folder, 'data_batch_1.bin'), path.join(folder, 'data_batch_2.bin'));
  assert.throws(() => loadDataset('cifar10', { dataDir: dir, offlineDirs: { cifar10: ['/none-2'] } }), /train records differ/);
});
