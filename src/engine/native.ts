// Loads the libtorch addon once. Thread settings must be in the environment before libtorch
// (and the OpenBLAS it links) is loaded, so they are set here, ahead of the require.
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { OMP_WAIT_DEFAULT, chooseBlasCore } from './blascore';

/** Opaque handle to an at::Tensor owned by the addon. */
export interface NativeHandle {
  dispose(): void;
  readonly disposed: boolean;
}

type H = NativeHandle;
type Num = number;
/** The addon's function table (see native/addon.cc). */
export interface NativeModule {
  NativeTensor: unknown;
  shape(t: H): number[];
  dtype(t: H): string;
  liveCount(): number;
  fromArray(data: Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array, shape: number[], dtype?: string, device?: string): H;
  toArray(t: H): Float32Array | Float64Array | Int32Array | Uint8Array;
  item(t: H): number;
  // creation: on `device` when given, else the default device
  full(shape: number[], value: Num, dtype: string, device?: string): H;
  randn(shape: number[], device?: string): H;
  rand(shape: number[], device?: string): H;
  randperm(n: Num, device?: string): H;
  arange(n: Num, dtype: string, device?: string): H;
  eye(n: Num, device?: string): H;
  manualSeed(seed: Num): void;
  unary(op: string, x: H): H;
  binary(op: string, a: H, b: H | Num): H;
  where(c: H, a: H, b: H): H;
  clamp(x: H, lo: Num | null, hi: Num | null): H;
  toDtype(x: H, dtype: string): H;
  activation(name: string, z: H, param?: Num): H;
  activationDerivative(name: string, z: H, param?: Num): H;
  activationBackward(name: string, t: H, z: H, param?: Num): H;
  leakyReluDiff(h: H, d: H, slope: Num): H;
  eluVarsigmaDiff(h: H, d: H, alpha: Num): H;
  layerNormFeedback(t: H, x: H, mean: H, rstd: H, gamma: H, d: Num, exact: boolean): H;
  reduce(op: string, x: H, dims: number[] | null, keepdim: boolean): H;
  argmax(x: H, dim: Num, keepdim: boolean): H;
  reshape(x: H, shape: number[]): H;
  permute(x: H, dims: number[]): H;
  transpose(x: H, a: Num, b: Num): H;
  narrow(x: H, dim: Num, start: Num, len: Num): H;
  cat(xs: H[], dim: Num): H;
  indexSelect(x: H, dim: Num, idx: H): H;
  flip(x: H, dims: number[]): H;
  expand(x: H, shape: number[]): H;
  pad2d(x: H, pads: number[], mode: string): H;
  matmul(a: H, b: H): H;
  linear(x: H, w: H, b: H | null): H;
  conv2d(x: H, w: H, b: H | null, stride: number[], padding: number[]): H;
  convTranspose2d(x: H, w: H, b: H | null, stride: number[], padding: number[], outputPadding: number[]): H;
  convBackward(dy: H, x: H, w: H, stride: number[], padding: number[], mask: number[]): (H | null)[];
  maxPool2d(x: H, k: Num, s: Num, p: Num): [H, H];
  maxUnpool2d(y: H, idx: H, size: number[]): H;
  maxPool2dAdjoint(dy: H, x: H, k: Num, s: Num, p: Num, idx: H): H;
  layerNorm(x: H, shape: number[], w: H | null, b: H | null, eps: Num): H;
  layerNormStats(x: H, shape: number[], w: H | null, b: H | null, eps: Num): H[];
  softmax(x: H, dim: Num): H;
  logSoftmax(x: H, dim: Num): H;
  crossEntropy(logits: H, labels: H, reduction: string): H;
  oneHot(labels: H, n: Num): H;
  inverse(x: H): H;
  pinverse(x: H): H;
  addInPlace(a: H, b: H, alpha: Num): void;
  mulInPlace(a: H, s: Num): void;
  addcmulInPlace(a: H, b: H, c: H, v: Num): void;
  addcdivInPlace(a: H, b: H, c: H, v: Num): void;
  copyInPlace(a: H, b: H): void;
  zeroInPlace(a: H): void;
  setRequiresGrad(t: H, on: boolean): void;
  requiresGrad(t: H): boolean;
  equal(a: H, b: H): boolean;
  gradOf(t: H): H | null;
  clearGrad(t: H): void;
  backward(loss: H, grad: H | null, retain: boolean): void;
  grad(outs: H[], ins: H[], gradOuts: H[] | null, retain: boolean, create: boolean): (H | null)[];
  setGradEnabled(on: boolean): boolean;
  setNumThreads(n: Num): void;
  getNumThreads(): number;
  runtimeInfo(): { parallel: string; config: string; threads: number };
  /** Sets OpenBLAS's thread count; false when the BLAS is not OpenBLAS. */
  setBlasThreads(n: Num): boolean;
  blasInfo(): BlasInfo;
  device(t: H): string;
  toDevice(t: H, device: string): H;
  /** Sets the device creation ops use; returns its canonical name. Throws for CUDA on a CPU-only build. */
  setDefaultDevice(device: string): string;
  defaultDevice(): string;
  cudaInfo(): CudaInfo;
  /** Waits for the default device's queued work (no-op on the CPU). */
  synchronize(): void;
}

/** What CUDA this engine can use: built against a CUDA libtorch, GPUs visible, their names. */
export interface CudaInfo {
  built: boolean;
  available: boolean;
  count: number;
  names: string[];
}

/** The BLAS serving GEMMs, as OpenBLAS reports itself ('other' when it is not OpenBLAS). */
export interface BlasInfo {
  name: 'openblas' | 'other';
  config?: string;
  core?: string;
  threading?: 'openmp' | 'pthread' | 'sequential';
  threads?: number;
}

function findAddon(): string {
  const root = path.resolve(__dirname, '..', '..', '..');
  const candidates = [
    path.join(root, 'build', 'Release', 'targetprop_native.node'),
    path.join(root, 'build', 'Debug', 'targetprop_native.node'),
  ];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(
    `native engine not built (looked for ${candidates[0]}). ` +
      'Run `npm run build:native` (needs libtorch: Debian `apt-get install libtorch-dev`, or LIBTORCH=/path/to/libtorch).',
  );
}

// A pthreads OpenBLAS keeps its own pool: held at one thread, or it and libtorch's OpenMP pool
// oversubscribe the cores (engines.md: 0.78-2.2 s per VGG step with both at 2). The OpenMP build
// (what setup installs) shares libtorch's pool, so its GEMMs use every thread (setThreads below).
process.env.OPENBLAS_NUM_THREADS ??= '1';
process.env.OMP_NUM_THREADS ??= String(os.availableParallelism());
process.env.OMP_WAIT_POLICY ??= OMP_WAIT_DEFAULT;

// eslint-disable-next-line @typescript-eslint/no-var-requires
/** The addon, or one line saying why it cannot load (built for another Node.js, libtorch missing). */
function loadAddon(): NativeModule {
  const file = findAddon();
  chooseBlasCore(file);
  try {
    return require(file);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    const hint = /NODE_MODULE_VERSION/.test(msg)
      ? `it was built for another Node.js than this one (${process.version}); rebuild it: npm run build:native`
      : /cannot open shared object|Library not loaded/.test(msg)
        ? 'a library it links is missing (libtorch: Debian `apt-get install libtorch-dev`, or LIBTORCH=/path/to/libtorch, then npm run build:native)'
        : 'rebuild it: npm run build:native';
    throw new Error(`cannot load the native engine ${file}: ${hint} (${msg})`);
  }
}
export const native: NativeModule = loadAddon();

/** Intra-op threads for libtorch, and for OpenBLAS when it shares libtorch's OpenMP pool. */
export function setThreads(n: number): void {
  native.setNumThreads(n);
  if (native.blasInfo().threading === 'openmp') native.setBlasThreads(n);
}
/** TARGETPROP_THREADS, checked: a typo must not crash every command (or ask for 100000 threads). */
export function threadsFromEnv(v: string | undefined, fallback = os.availableParallelism()): number {
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`TARGETPROP_THREADS must be an integer from 1 to 256, got '${v}'`);
  return n;
}
setThreads(threadsFromEnv(process.env.TARGETPROP_THREADS));

/** 'auto' is CUDA when this engine sees a GPU, else the CPU; other names pass through. */
export function resolveDevice(d: string): string {
  if (d === 'auto') return native.cudaInfo().available ? 'cuda' : 'cpu';
  if (!/^(cpu|cuda(:\d+)?|meta)$/.test(d)) throw new Error(`device must be cpu, cuda, cuda:N or auto, got '${d}'`);
  return d;
}
/** Sets the device new tensors are made on (the network, optimizer state, batches of a run). */
export function setDefaultDevice(d: string): string {
  return native.setDefaultDevice(resolveDevice(d));
}
// TARGETPROP_DEVICE: where everything runs unless a run says otherwise (the test suite on a GPU machine)
if (process.env.TARGETPROP_DEVICE) {
  try {
    setDefaultDevice(process.env.TARGETPROP_DEVICE);
  } catch (e) {
    throw new Error(`TARGETPROP_DEVICE: ${(e as Error).message.replace(/^setDefaultDevice\(\): /, '')}`);
  }
}
