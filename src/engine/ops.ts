// Tensor creation, neural-network kernels and autograd entry points.
import { native, setThreads } from './native';
import { DType, Shape, Tensor, withGrad } from './tensor';

const T = (h: ReturnType<typeof native.randn>) => new Tensor(h);

function checkShape(shape: Shape, op: string): number[] {
  for (const d of shape)
    if (!Number.isInteger(d) || d < 0) throw new Error(`${op}: bad shape [${shape.join(', ')}]`);
  return [...shape];
}

// ---------- creation ----------

/** Copies host data into a new tensor (on `device`, else the default device). Plain arrays become float32. */
export function tensor(
  data: Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array | number[],
  shape?: Shape,
  dtype?: DType,
  device?: string,
): Tensor {
  const arr = Array.isArray(data) ? Float32Array.from(data) : data;
  return T(native.fromArray(arr, checkShape(shape ?? [arr.length], 'tensor'), dtype, device));
}
export function full(shape: Shape, value: number, dtype: DType = 'float32', device?: string): Tensor {
  return T(native.full(checkShape(shape, 'full'), value, dtype, device));
}
export const zeros = (shape: Shape, dtype: DType = 'float32', device?: string) => full(shape, 0, dtype, device);
export const ones = (shape: Shape, dtype: DType = 'float32', device?: string) => full(shape, 1, dtype, device);
/** Zeros shaped, typed and placed like t. */
export const zerosLike = (t: Tensor) => full(t.shape, 0, t.dtype, t.device);
/** Standard normal samples from the global generator (see manualSeed). */
export const randn = (shape: Shape, device?: string) => T(native.randn(checkShape(shape, 'randn'), device));
/** Normal samples shaped and placed like t. */
export const randnLike = (t: Tensor) => randn(t.shape, t.device);
/** Uniform [0, 1) samples. */
export const rand = (shape: Shape, device?: string) => T(native.rand(checkShape(shape, 'rand'), device));
export const uniform = (shape: Shape, lo: number, hi: number, device?: string) => {
  // intermediates disposed by hand: parameters are made outside any scope
  const r = rand(shape, device);
  const scaled = r.mul(hi - lo);
  r.dispose();
  const out = scaled.add(lo);
  scaled.dispose();
  return out;
};
export const randperm = (n: number, device?: string) => T(native.randperm(n, device));
export const arange = (n: number, dtype: DType = 'int64', device?: string) => T(native.arange(n, dtype, device));
export const eye = (n: number, device?: string) => T(native.eye(n, device));
export { resolveDevice, setDefaultDevice } from './native';
export type { CudaInfo } from './native';
/** The device new tensors are made on. */
export const defaultDevice = () => native.defaultDevice();
export const cudaInfo = () => native.cudaInfo();
export const cudaAvailable = () => native.cudaInfo().available;
export const deviceCount = () => native.cudaInfo().count;
/** The GPU behind a CUDA device name ('cuda', 'cuda:1'); undefined for the CPU. */
export function gpuName(device = native.defaultDevice()): string | undefined {
  return device.startsWith('cuda') ? native.cudaInfo().names[Number(device.split(':')[1] ?? 0)] : undefined;
}
/** Milliseconds, after the default device's queued work is done: step timers stay true on a GPU. */
export function now(): number {
  native.synchronize();
  return performance.now();
}
/** Seeds libtorch's global generator (weight init, noise, randperm). */
export const manualSeed = (seed: number) => native.manualSeed(seed);

export const where = (cond: Tensor, a: Tensor, b: Tensor) => T(native.where(cond.h, a.h, b.h));
export const cat = (xs: Tensor[], dim = 0) => T(native.cat(xs.map((x) => x.h), dim));
export const matmul = (a: Tensor, b: Tensor) => T(native.matmul(a.h, b.h));

// ---------- activations ----------

export type ActivationName = 'leaky_relu' | 'elu' | 'tanh' | 'gelu' | 'relu' | 'identity';
/** sigma(z); `param` is the LeakyReLU slope or the ELU alpha. */
export const activation = (name: ActivationName, z: Tensor, param = 0) => T(native.activation(name, z.h, param));
/** sigma'(z), element-wise. */
export const activationDerivative = (name: ActivationName, z: Tensor, param = 0) =>
  T(native.activationDerivative(name, z.h, param));

/** sigma'(z) * t (the activation's exact J^T t) on libtorch's backward kernel. */
export const activationBackward = (name: ActivationName, t: Tensor, z: Tensor, param = 0) =>
  T(native.activationBackward(name, t.h, z.h, param));

/** LeakyReLU(h + d) - LeakyReLU(h), fused, exact where h + d and h share a sign. */
export const leakyReluDiff = (h: Tensor, d: Tensor, slope: number) => T(native.leakyReluDiff(h.h, d.h, slope));
/** varsigma(h + d) - varsigma(h) for ELU's integral feedback (eq. 27), fused and free of cancellation. */
export const eluVarsigmaDiff = (h: Tensor, d: Tensor, alpha: number) => T(native.eluVarsigmaDiff(h.h, d.h, alpha));
/**
 * LayerNorm's feedback over the last dimension d for an output-space t, given the forward input
 * and its statistics: exact J^T t (libtorch's LayerNorm backward) or the decomposed form
 * (gamma t - mean(gamma t)) * rstd (eqs. 30-35), one native pass each.
 */
export const layerNormFeedback = (t: Tensor, x: Tensor, mean: Tensor, rstd: Tensor, gamma: Tensor, exact: boolean) =>
  T(native.layerNormFeedback(t.h, x.h, mean.h, rstd.h, gamma.h, gamma.shape[0], exact));

// ---------- layers ----------

/** y = x W^T + b, W: [out, in]. */
export const linear = (x: Tensor, w: Tensor, b?: Tensor | null) => T(native.linear(x.h, w.h, b ? b.h : null));

export interface Conv2dOpts {
  stride?: number;
  padding?: number;
}
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null | undefined, o: Conv2dOpts = {}): Tensor {
  const s = o.stride ?? 1;
  const p = o.padding ?? 0;
  return T(native.conv2d(x.h, w.h, b ? b.h : null, [s, s], [p, p]));
}
/**
 * Transposed convolution with a weight in the forward conv's layout [out, in, k, k]; with the
 * same weight it is the input-gradient (VJP) of conv2d. `outputPadding` fixes the size when
 * the stride drops rows.
 */
export function convTranspose2d(
  x: Tensor,
  w: Tensor,
  b: Tensor | null | undefined,
  o: Conv2dOpts & { outputPadding?: number } = {},
): Tensor {
  const s = o.stride ?? 1;
  const p = o.padding ?? 0;
  const op = o.outputPadding ?? 0;
  return T(native.convTranspose2d(x.h, w.h, b ? b.h : null, [s, s], [p, p], [op, op]));
}
/** Explicit conv2d backward: [dx, dw, db], each null unless requested. */
export function conv2dBackward(
  dy: Tensor,
  x: Tensor,
  w: Tensor,
  o: Conv2dOpts & { need?: [boolean, boolean, boolean] } = {},
): (Tensor | null)[] {
  const s = o.stride ?? 1;
  const p = o.padding ?? 0;
  const need = (o.need ?? [true, true, true]).map((v) => (v ? 1 : 0));
  return native.convBackward(dy.h, x.h, w.h, [s, s], [p, p], need).map((h) => (h ? T(h) : null));
}
/** Max pooling: returns [y, argmax indices]. */
export function maxPool2d(x: Tensor, kernel: number, stride = kernel, padding = 0): [Tensor, Tensor] {
  const [y, i] = native.maxPool2d(x.h, kernel, stride, padding);
  return [T(y), T(i)];
}
/** MaxUnpool: puts each value at its argmax; repeated indices overwrite (not sum). */
export const maxUnpool2d = (y: Tensor, indices: Tensor, size: [number, number]) =>
  T(native.maxUnpool2d(y.h, indices.h, size));
/** Exact transposed Jacobian of max pooling: repeated indices sum. */
export const maxPool2dAdjoint = (dy: Tensor, x: Tensor, kernel: number, stride: number, padding: number, indices: Tensor) =>
  T(native.maxPool2dAdjoint(dy.h, x.h, kernel, stride, padding, indices.h));
export function pad2d(x: Tensor, pads: [number, number, number, number], mode: 'edge' | 'zeros'): Tensor {
  return T(native.pad2d(x.h, pads, mode));
}
export const layerNorm = (x: Tensor, shape: number[], w: Tensor | null, b: Tensor | null, eps = 1e-5) =>
  T(native.layerNorm(x.h, shape, w ? w.h : null, b ? b.h : null, eps));
/** LayerNorm plus the statistics of its pass: [y, mean, rstd], mean and rstd shaped [..., 1] per normalised row. */
export function layerNormStats(x: Tensor, shape: number[], w: Tensor | null, b: Tensor | null, eps = 1e-5): [Tensor, Tensor, Tensor] {
  const [y, mean, rstd] = native.layerNormStats(x.h, shape, w ? w.h : null, b ? b.h : null, eps).map(T);
  const statShape = [...x.shape.slice(0, x.rank - shape.length), ...shape.map(() => 1)];
  return [y, mean.reshape(statShape), rstd.reshape(statShape)];
}
export const softmax = (x: Tensor, dim = -1) => T(native.softmax(x.h, dim));
export const logSoftmax = (x: Tensor, dim = -1) => T(native.logSoftmax(x.h, dim));
/** Cross-entropy of logits [B, C] against int64 labels [B]. */
export const crossEntropy = (logits: Tensor, labels: Tensor, reduction: 'mean' | 'sum' | 'none' = 'mean') =>
  T(native.crossEntropy(logits.h, labels.h, reduction));
export const oneHot = (labels: Tensor, classes: number) => T(native.oneHot(labels.h, classes));

// ---------- linear algebra ----------

export const inverse = (a: Tensor) => T(native.inverse(a.h));
/** Moore-Penrose pseudo-inverse (SVD based). */
export const pinverse = (a: Tensor) => T(native.pinverse(a.h));

// ---------- autograd ----------

/**
 * Gradients of sum(outputs_i * gradOutputs_i) w.r.t. inputs (torch.autograd.grad). Returns
 * null for inputs that the outputs do not depend on.
 */
export function grad(
  outputs: Tensor[],
  inputs: Tensor[],
  gradOutputs?: Tensor[] | null,
  o: { retainGraph?: boolean; createGraph?: boolean } = {},
): (Tensor | null)[] {
  return native
    .grad(outputs.map((t) => t.h), inputs.map((t) => t.h), gradOutputs ? gradOutputs.map((t) => t.h) : null, !!o.retainGraph, !!o.createGraph)
    .map((h) => (h ? T(h) : null));
}

/** Vector-Jacobian product v^T J_f(x) via autograd: the reference for every feedback test. */
export function vjp(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  const xi = x.detach().requiresGrad(true);
  const [g] = withGrad(() => grad([f(xi)], [xi], [v]));
  if (!g) throw new Error('vjp: output does not depend on the input');
  return g;
}

// ---------- runtime ----------

export const setNumThreads = (n: number) => setThreads(n);
export const getNumThreads = () => native.getNumThreads();
export const runtimeInfo = () => native.runtimeInfo();
export const blasInfo = () => native.blasInfo();
/** OpenBLAS's own thread count (setNumThreads sets it with libtorch's under an OpenMP OpenBLAS); false if not OpenBLAS. */
export const setBlasThreads = (n: number) => native.setBlasThreads(n);
