// Jacobian matching losses of a block's feedback G at its forward point x (y = F(x)),
// estimated with random probes (Hutchinson: ||A||_F^2 = E ||A v||^2, v ~ N(0, I)):
//   TJML = ||J_G - J_F^T||^2 / ||J_F^T||^2   (transposed Jacobian matching; TJMC: TJML = 0)
//   IJML = ||J_G J_F - I||^2 / ||I||^2       (inverse; IJMC)
//   PJML = ||J_F J_G J_F - J_F||^2 / ||J_F||^2 (pseudo-inverse; PJMC)
// J_F^T v comes from autograd (VJP); J_G v and J_F u from central differences.
import { Tensor, noGrad, randnLike, tidy, vjp } from '../engine';
import { TargetProp } from '../methods/tp';
import { Network } from '../models/network';

export interface JMLs {
  tjml: number;
  ijml: number;
  pjml: number;
}

export function jmlEstimates(
  F: (x: Tensor) => Tensor,
  G: (t: Tensor) => Tensor,
  x: Tensor,
  o: { probes?: number; eps?: number } = {},
): JMLs {
  const probes = o.probes ?? 8;
  const eps = o.eps ?? 1e-2;
  return tidy(() => {
    const y = noGrad(() => F(x));
    const jvpF = (u: Tensor) => noGrad(() => F(x.add(u.mul(eps))).sub(F(x.sub(u.mul(eps)))).div(2 * eps));
    const jvpG = (v: Tensor) => noGrad(() => G(y.add(v.mul(eps))).sub(G(y.sub(v.mul(eps)))).div(2 * eps));
    const sq = (t: Tensor) => t.square().sum().item();
    let t = [0, 0];
    let i = [0, 0];
    let p = [0, 0];
    for (let k = 0; k < probes; k++)
      tidy(() => {
        const v = randnLike(y);
        const jt = vjp(F, x, v);
        t = [t[0] + sq(jvpG(v).sub(jt)), t[1] + sq(jt)];
        const u = randnLike(x);
        const fu = jvpF(u);
        const gfu = jvpG(fu);
        i = [i[0] + sq(gfu.sub(u)), i[1] + sq(u)];
        p = [p[0] + sq(jvpF(gfu).sub(fu)), p[1] + sq(fu)];
      });
    return { tjml: t[0] / t[1], ijml: i[0] / i[1], pjml: p[0] / p[1] };
  });
}

/**
 * Walks the blocks at the forward point of x and calls `f` for every block n >= 1 with its input,
 * output (detached) and cache; block 0's feedback is never used (NaN).
 */
function perUsedBlock(net: Network, x: Tensor, f: (n: number, input: Tensor, y: Tensor, cache: unknown) => number): number[] {
  return tidy(() =>
    noGrad(() => {
      let h = x.detach();
      return net.blocks.map((block, n) => {
        const [y, cache] = block.forward(h);
        const input = h;
        h = y.detach();
        return n === 0 ? NaN : f(n, input, h, cache);
      });
    }),
  );
}

/** J_G v for block n by central differences of the method's own G(h + d) - G(h), as used. */
function feedbackJvp(method: TargetProp, n: number, y: Tensor, v: Tensor, cache: unknown, eps: number): Tensor {
  return method.feedbackDifference(n, y.sub(v.mul(eps)), v.mul(2 * eps), cache).div(2 * eps);
}

/**
 * Per block n >= 1, the relative TJML of the feedback a TP method actually uses, at the forward
 * point of x: ||J_G - J_F^T||^2 / ||J_F^T||^2 (0: G matches the transposed Jacobian, as TJML-DTP's
 * exact mode does; ~1 or more: unrelated, as random feedback). J_G v by central differences of
 * the method's own G(h + d) - G(h), so nonlinear feedback (varsigma, learned) is measured as used.
 * Block 0's feedback is never used: NaN.
 */
export function blockTJML(method: TargetProp, net: Network, x: Tensor, o: { probes?: number; eps?: number } = {}): number[] {
  const probes = o.probes ?? 4;
  const eps = o.eps ?? 1e-2;
  return perUsedBlock(net, x, (n, input, y, cache) => {
    let num = 0;
    let den = 0;
    for (let k = 0; k < probes; k++)
      tidy(() => {
        const v = randnLike(y);
        const jt = vjp((t) => net.blocks[n].forward(t)[0], input, v);
        const jg = feedbackJvp(method, n, y, v, cache, eps);
        num += jg.sub(jt).square().sum().item();
        den += jt.square().sum().item();
      });
    return num / den;
  });
}

/**
 * Per block n >= 1, how well the feedback and the forward block agree in direction:
 * cos(v, J_F J_G v) pooled over random probes v at the block's output,
 * sum <v, J_F J_G v> / sqrt(sum ||v||^2 sum ||J_F J_G v||^2). Positive means that reaching the
 * target t_n = h_n + J_G d moves the block's output along d (to first order): the condition
 * FW-DTP relies on (Shibuya et al. 2023: J_F J_G positive definite). Exact J^T feedback gives
 * <v, J_F J_F^T v> = ||J_F^T v||^2 > 0; random feedback starts near 0. J_F u and J_G v by
 * central differences of the block and of the method's feedback as used.
 */
export function blockAlignment(method: TargetProp, net: Network, x: Tensor, o: { probes?: number; eps?: number } = {}): number[] {
  const probes = o.probes ?? 4;
  const eps = o.eps ?? 1e-2;
  return perUsedBlock(net, x, (n, input, y, cache) => {
    const F = (t: Tensor) => net.blocks[n].forward(t)[0];
    let dot = 0;
    let vv = 0;
    let ww = 0;
    for (let k = 0; k < probes; k++)
      tidy(() => {
        const v = randnLike(y);
        const u = feedbackJvp(method, n, y, v, cache, eps);
        const w = F(input.add(u.mul(eps))).sub(F(input.sub(u.mul(eps)))).div(2 * eps);
        dot += v.mul(w).sum().item();
        vv += v.square().sum().item();
        ww += w.square().sum().item();
      });
    return ww > 0 ? dot / Math.sqrt(vv * ww) : NaN;
  });
}
