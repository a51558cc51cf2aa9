// What happens inside TP: how far each block's update is from BP's gradient, and how far
// learned feedback weights are from the transposed forward weights.
import { Tensor, cat, noGrad, tidy } from '../engine';
import { Method } from '../methods/method';
import { LearnedTP } from '../methods/learned';
import { Network } from '../models/network';
import { Backprop } from '../methods/bp';

/** Angle in degrees between two lists of tensors taken as one flat vector each. */
export function angleDeg(a: Tensor[], b: Tensor[]): number {
  return tidy(() => {
    const A = cat(a.map((t) => t.reshape([-1])));
    const B = cat(b.map((t) => t.reshape([-1])));
    const den = A.norm().item() * B.norm().item();
    if (den === 0) return NaN;
    const c = A.mul(B).sum().item() / den;
    return (Math.acos(Math.max(-1, Math.min(1, c))) * 180) / Math.PI;
  });
}

/**
 * Per block: angle between the method's update direction (targets from a small beta, as
 * scalingDTP's CompareToBackprop does) and the BP gradient of mean cross-entropy.
 * Small beta keeps first-order accuracy; too small loses float32 precision in t - h.
 */
export function bpAngles(method: Method, net: Network, x: Tensor, y: Tensor, beta = 0.01): number[] {
  return tidy(() => {
    const bp = new Backprop(net, { method: 'bp', lr: 1, optimizer: { kind: 'sgd' }, beta: 1 });
    const g = bp.gradients(x, y).perBlock;
    bp.dispose();
    const t = method.gradients(x, y, beta).perBlock;
    return g.map((gb, n) => {
      const pairs = gb.map((v, i) => [v, t[n][i]] as const).filter(([a, b]) => a && b) as [Tensor, Tensor][];
      return pairs.length ? angleDeg(pairs.map((p) => p[1]), pairs.map((p) => p[0])) : NaN;
    });
  });
}

/** Per block of a learned-feedback method: angle and relative distance ||F - G|| / ||F||. */
export function weightAngles(m: LearnedTP): { angle: number; distance: number }[] {
  const top = m.fb.length - 1;
  return m.fb.map((fb, n) =>
    noGrad(() =>
      tidy(() => {
        // a gradient top feeds back W^T itself: its unused learnable weights say nothing
        if (!fb.weightPairs.length || (m.gradientTop && n === top)) return { angle: NaN, distance: NaN };
        const F = fb.weightPairs.map(([f]) => f);
        const G = fb.weightPairs.map(([, g, transposed]) => (transposed ? g.T : g));
        const dist = tidy(() => {
          const d = F.map((f, i) => f.sub(G[i]).square().sum().item()).reduce((a, b) => a + b, 0);
          const n = F.map((f) => f.square().sum().item()).reduce((a, b) => a + b, 0);
          return Math.sqrt(d / n);
        });
        return { angle: angleDeg(F, G), distance: dist };
      }),
    ),
  );
}
