import { Tensor, cat, tick, tidy } from '../src/engine';

/**
 * Full collections with event-loop turns between them, so that N-API finalizers and
 * FinalizationRegistry callbacks (watchLeaks) have run before a test counts tensors.
 */
export async function settleGc(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    global.gc?.();
    await tick();
    await new Promise((r) => setTimeout(r, 10));
  }
}

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
