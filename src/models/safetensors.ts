// Trained models as safetensors files (the format PyTorch, JAX and others read): an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
// then the raw little-endian data. The parameters are stored under their stable names
// (Network.namedParams: 'blocks.0.1.weight'), and the model's config travels in the header's
// __metadata__, so `loadModel` rebuilds the network without being told what it was.
import * as fs from 'node:fs';
import { noGrad, tensor, tidy } from '../engine';
import { Network } from './network';
import { buildModel } from './index';

/** What a saved model says about itself (stored as JSON in __metadata__.targetprop). */
export interface ModelMeta {
  /** Registry name (lenet, mlp, ...); a custom network's own name otherwise. */
  model: string;
  modelConfig: Record<string, unknown>;
  inputShape: [number, number, number];
  classes: number;
  /** Free-form provenance: dataset, method, run id, accuracy. */
  [k: string]: unknown;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Writes the network's parameters and `meta` to `file` (atomically). */
export function saveModel(file: string, net: Network, meta: Partial<ModelMeta> = {}): void {
  const named = net.namedParams();
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  const full: ModelMeta = { model: net.name, modelConfig: {}, inputShape: net.inputShape, classes: net.classes, ...meta };
  header.__metadata__ = { targetprop: JSON.stringify(full) };
  let offset = 0;
  const chunks: Buffer[] = [];
  for (const [name, p] of named) {
    const data = p.data();
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: 'F32', shape: p.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  // the spec lets the header be padded with spaces; 8-byte alignment keeps the data aligned
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  fs.writeFileSync(`${file}.tmp`, Buffer.concat([len, Buffer.from(json), ...chunks]));
  fs.renameSync(`${file}.tmp`, file);
}

/** The parsed file: its metadata and each tensor's float32 data. Bad files fail with the file's name and what is wrong. */
export function readSafetensors(file: string): { meta: ModelMeta | null; tensors: Map<string, { shape: number[]; data: Float32Array }> } {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such model file`);
  if (fs.statSync(file).isDirectory()) throw new Error(`${file}: expected a model file, found a folder`);
  const buf = fs.readFileSync(file);
  const bad = (what: string) => new Error(`${file}: not a safetensors model file (${what})`);
  if (buf.length < 8) throw bad('shorter than its 8-byte header length');
  const n = Number(buf.readBigUInt64LE(0));
  if (n > buf.length - 8) throw bad(`header length ${n} exceeds the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch (e) {
    throw bad(`header is not JSON: ${(e as Error).message}`);
  }
  const body = buf.subarray(8 + n);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = v as HeaderEntry;
    if (e.dtype !== 'F32') throw new Error(`${file}: tensor '${name}' is ${e.dtype}; targetprop models are F32`);
    const [a, b] = e.data_offsets;
    const count = e.shape.reduce((x, y) => x * y, 1);
    if (!(a >= 0 && b <= body.length && b - a === 4 * count)) throw bad(`tensor '${name}' has byte range [${a}, ${b}) for shape [${e.shape}]`);
    tensors.set(name, { shape: e.shape, data: new Float32Array(body.buffer.slice(body.byteOffset + a, body.byteOffset + b)) });
  }
  const m = (header.__metadata__ as Record<string, string> | undefined)?.targetprop;
  return { meta: m ? (JSON.parse(m) as ModelMeta) : null, tensors };
}

/** Copies a saved model's parameters into `net` (same names and shapes), e.g. a custom network built by hand. */
export function loadWeights(net: Network, file: string): void {
  const { tensors } = readSafetensors(file);
  const named = net.namedParams();
  const missing = named.filter(([n]) => !tensors.has(n)).map(([n]) => n);
  const extra = [...tensors.keys()].filter((k) => !named.some(([n]) => n === k));
  if (missing.length || extra.length)
    throw new Error(`${file}: parameters do not match the network (missing: ${missing.join(', ') || 'none'}; not in the network: ${extra.join(', ') || 'none'})`);
  for (const [name, p] of named) {
    const t = tensors.get(name)!;
    if (t.shape.join() !== p.shape.join()) throw new Error(`${file}: '${name}' has shape [${t.shape}], the network's is [${p.shape}]`);
  }
  noGrad(() => named.forEach(([name, p]) => tidy(() => p.copyInPlace(tensor(tensors.get(name)!.data, p.shape)))));
}

/** Rebuilds a saved registry model (lenet, mlp, ...) from its metadata and loads its weights. */
export function loadModel(file: string): { net: Network; meta: ModelMeta } {
  const { meta } = readSafetensors(file);
  if (!meta) throw new Error(`${file}: no targetprop metadata; build the network yourself and call loadWeights(net, file)`);
  const net = buildModel(meta.model, meta.inputShape, meta.modelConfig);
  try {
    loadWeights(net, file);
  } catch (e) {
    net.dispose();
    throw e;
  }
  return { net, meta };
}
