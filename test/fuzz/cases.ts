// Fuzz cases for the native engine: each case, from its number alone, builds tensors of random
// shapes and dtypes (some disposed) and calls one op with random arguments: tensors, numbers
// (NaN, infinities, fractions, 2^62), integer lists, names, null. Every call must either return or
// throw a JS Error; the parent test treats a signal, a non-zero exit or a timeout as a failure.
// Targeted cases feed the index-taking ops valid shapes with out-of-range indices.
import { native, NativeHandle } from '../../src/engine/native';

/** mulberry32: a small seeded PRNG, so a failing case reruns from its number. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NUMBERS = [0, 1, 2, 3, -1, -2, 0.5, 16, 1e5, -1e5, 1e6, 2 ** 33, 2 ** 53, 2 ** 62, -(2 ** 62), 1e300, NaN, Infinity, -Infinity];
const NAMES = ['sum', 'mean', 'amax', 'var', 'exp', 'log', 'neg', 'abs', 'sqrt', 'tanh', 'sign', 'add', 'sub', 'mul', 'div', 'pow', 'gt', 'eq', 'maximum',
  'leaky_relu', 'elu', 'relu', 'gelu', 'identity', 'none', 'edge', 'zeros', 'float32', 'float64', 'int64', 'int32', 'uint8', 'bool', '', 'bogus'];
const DTYPES = ['float32', 'float64', 'int64', 'int32', 'uint8', 'bool'];
/** Ops left out: setNumThreads / setBlasThreads change the process for later cases (they are called with bad values only). */
const SKIP = new Set(['NativeTensor', 'setNumThreads', 'setBlasThreads']);

export function fuzzCase(i: number, log: (line: string) => void): void {
  const r = rng(0x9e3779b9 ^ (i * 2654435761));
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const int = (n: number) => Math.floor(r() * n);
  const live: NativeHandle[] = [];
  const make = (shape: number[], dtype = pick(DTYPES)): NativeHandle => {
    const t = native.toDtype(native.randn(shape), dtype);
    live.push(t);
    return t;
  };
  const shape = () => Array.from({ length: int(5) }, () => int(5));
  const tensor = (): NativeHandle => {
    const t = make(shape());
    if (r() < 0.1) t.dispose();
    return t;
  };
  const ints = (): number[] => Array.from({ length: int(5) }, () => (r() < 0.8 ? int(6) - 1 : pick(NUMBERS)));
  const arg = (): unknown => {
    const k = r();
    if (k < 0.35) return tensor();
    if (k < 0.6) return pick(NUMBERS);
    if (k < 0.75) return ints();
    if (k < 0.85) return pick(NAMES);
    if (k < 0.9) return r() < 0.5 ? null : undefined;
    if (k < 0.95) return [tensor(), tensor()];
    return r() < 0.5 ? { a: 1 } : new Float32Array(int(8));
  };
  const ops = Object.keys(native).filter((k) => !SKIP.has(k) && typeof (native as unknown as Record<string, unknown>)[k] === 'function');
  let op: string;
  let args: unknown[];
  const targeted = i % 4 === 0;
  if (targeted) {
    // valid shapes, indices out of range by a little or a lot
    const off = pick([16, -64, -1e5, 1e6, 2 ** 40]); // some index of the 8x8 planes (all, for the negative ones) lands outside [0, 64)
    const x = make([2, 3, 8, 8], 'float32');
    const [y, idx] = native.maxPool2d(x, 2, 2, 0);
    live.push(y, idx);
    // a JS number is a double: int64 + double promotes to float, so cast the sum back to int64
    const sum = native.binary('add', idx, off);
    const bad = native.toDtype(sum, 'int64');
    live.push(sum, bad);
    const labels = native.toDtype(native.full([4], off, 'float32'), 'int64');
    live.push(labels);
    const which = int(5);
    op = ['maxPool2dAdjoint', 'maxUnpool2d', 'indexSelect', 'oneHot', 'crossEntropy'][which];
    args = [
      [y, x, 2, 2, 0, bad],
      [y, bad, [8, 8]],
      [x, int(4), labels],
      [labels, 10],
      [make([4, 10], 'float32'), labels, 'mean'],
    ][which];
  } else {
    op = pick(ops);
    args = Array.from({ length: int(7) }, arg);
    if (op === 'setGradEnabled') args = [r() < 0.5];
  }
  log(`case ${i} ${op}${targeted ? ' (indices out of range)' : ''}`);
  try {
    const out = (native as unknown as Record<string, (...a: unknown[]) => unknown>)[op](...args);
    for (const o of [out].flat(2)) if (o && typeof o === 'object' && 'dispose' in o) (o as NativeHandle).dispose();
    if (targeted) throw new Error(`case ${i}: ${op} accepted out-of-range indices`);
  } catch (e) {
    if (!(e instanceof Error)) throw new Error(`case ${i}: ${op} threw a non-Error: ${String(e)}`);
    if (e.message.startsWith(`case ${i}:`)) throw e;
  }
  native.setGradEnabled(true);
  for (const t of live) t.dispose();
}
