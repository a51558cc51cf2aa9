import { Tensor, cat, tidy } from '../src/engine';

/** Max absolute difference between two tensors. */
export function maxDiff(a: Tensor, b: Tensor): number {
  return tidy(() => a.sub(b).abs().amax().item());
}
/** Relative Frobenius error ||a - b|| / ||b||. */
export function relErr(a: Tensor, b: Tensor): number {
  return tidy(() => a.sub(b).norm().item() / b.norm().item());
}
export function flat(ts: Tensor[]): Tensor {
  return cat(ts.map((t) => t.reshape([-1])));
}
