// The layer contract. A layer holds, side by side:
//   forward      F(x) -> y, plus whatever the feedback needs from that pass (the cache);
//   feedback     the analytical G* minimising the transposed Jacobian matching loss (TJML),
//                mapping a point in output space to input space;
//   learnable    a parametric feedback (LDRL/DTP/DRL train it, FWDTP freezes it).
// Adding a layer is one file implementing this class.
import { Tensor, uniform } from '../engine';

/** How each analytical feedback is formed. `tjmlPaper` is the paper's choice; `exact` is J^T. */
export interface FeedbackMode {
  /** integral: varsigma (eq. 27); hadamard: sigma(sigma'(z) * t) (eq. 29); linear: sigma'(z) * t (exact J^T); inverse: sigma^-1. */
  activation: 'integral' | 'hadamard' | 'linear' | 'inverse';
  /** unpool: MaxUnpool with forward indices (paper); adjoint: scatter-add, the exact J^T. */
  pool: 'unpool' | 'adjoint';
  /** decomposed: mean + SD normalisation with s frozen (eqs. 30-35); exact: the full LN J^T. */
  layerNorm: 'decomposed' | 'exact';
  /** transpose: W^T (TJML); inverse: W^-1 (IJML); pinv: W^+ (PJML). */
  linear: 'transpose' | 'inverse' | 'pinv';
  /** inverse: a coupling block's exact inverse (the reversible Mixer, Table 4); transpose: its J^T. */
  coupling: 'inverse' | 'transpose';
}

export const FEEDBACK_MODES = {
  tjml: { activation: 'integral', pool: 'unpool', layerNorm: 'decomposed', linear: 'transpose', coupling: 'inverse' },
  exact: { activation: 'linear', pool: 'adjoint', layerNorm: 'exact', linear: 'transpose', coupling: 'transpose' },
  ijml: { activation: 'inverse', pool: 'unpool', layerNorm: 'decomposed', linear: 'inverse', coupling: 'inverse' },
  pjml: { activation: 'inverse', pool: 'unpool', layerNorm: 'decomposed', linear: 'pinv', coupling: 'inverse' },
} satisfies Record<string, FeedbackMode>;

/** A trainable (or frozen) feedback function for one layer. */
export interface LearnedFeedback<C = unknown> {
  params: Tensor[];
  apply(t: Tensor, cache: C): Tensor;
  /**
   * G(h + d) - G(h), where the feedback can form it without subtracting two large points (an
   * exact inverse); absent: the caller subtracts two apply()s.
   */
  diff?(h: Tensor, d: Tensor, cache: C): Tensor;
  /** [forward weight, feedback weight, feedback stored transposed?] triples, for weight angles. */
  weightPairs: [Tensor, Tensor, boolean][];
}

/**
 * VJPs the local losses computed anyway, by forward tensor: J^T d at that tensor for the
 * block's target offset d. Where a feedback is exactly J^T, its difference is this VJP.
 */
export type VjpAt = Map<Tensor, Tensor>;

export interface FeedbackInit {
  /**
   * 'default': PyTorch's default init of the feedback layer; 'forward': the forward weight's
   * init scale, U(+-1/sqrt(forward fan-in)) (feedback alignment's convention, so a random G
   * starts with W^T's magnitude); 'uniform': U(-scale, scale).
   */
  kind: 'default' | 'forward' | 'uniform';
  scale?: number;
}

/** Names under a container's prefix ('0.' + 'weight'). */
export const prefixed = (prefix: string, named: [string, Tensor][]): [string, Tensor][] => named.map(([n, t]) => [prefix + n, t]);

export abstract class Layer<C = unknown> {
  abstract readonly kind: string;
  /** Learnable forward parameters. */
  params(): Tensor[] {
    return [];
  }
  /**
   * The parameters with stable names, in params() order ('weight', 'bias'; containers prefix their
   * children's: '0.weight', 'f.1.bias'): saved models and state dicts key on them. Layers with
   * parameters override it; the default numbers them.
   */
  namedParams(): [string, Tensor][] {
    return this.params().map((p, i) => [String(i), p]);
  }
  /** Output for input x and the cache the feedback functions need. */
  abstract forward(x: Tensor): [Tensor, C];
  /**
   * F(x + dx) - F(x), with `cache` from forward(x). The default subtracts two forward outputs,
   * which loses float32 precision when dx is small against x; layers that can form the
   * difference directly (linear maps, piecewise-linear activations) override it. An exact
   * inverse's target offsets are built from these differences (the coupling block).
   */
  forwardDiff(x: Tensor, dx: Tensor, _cache: C): Tensor {
    return this.forward(x.add(dx))[0].sub(this.forward(x)[0]);
  }
  /** Analytical feedback G*(t) at the forward point recorded in `cache`. */
  abstract feedback(t: Tensor, cache: C, mode: FeedbackMode): Tensor;
  /** A parametric feedback; layers without parameters reuse their analytical form. */
  learnable(_init: FeedbackInit): LearnedFeedback<C> {
    return { params: [], apply: (t, c) => this.feedback(t, c, FEEDBACK_MODES.tjml), weightPairs: [] };
  }
  /** True when feedback(t) is linear in t, so G(h + d) - G(h) = G(d) exactly. */
  linearFeedback(_mode: FeedbackMode): boolean {
    return true;
  }
  /**
   * [G(h), G(h + d) - G(h)]: the difference that difference correction needs. For linear G it
   * is G(d), computed directly: the difference of two large points loses float32 precision
   * when d is small (beta -> 0). G(h) is only formed when `needPoint` (a nonlinear feedback
   * further down needs it) or when the difference needs it; otherwise null. `vjp` may hold the
   * VJPs at this layer's vjpPoints, which replace the top J^T feedbacks' differences.
   */
  feedbackDiff(h: Tensor, d: Tensor, cache: C, mode: FeedbackMode, needPoint = true, _vjp?: VjpAt): [Tensor | null, Tensor] {
    if (this.linearFeedback(mode)) return [needPoint ? this.feedback(h, cache, mode) : null, this.feedback(d, cache, mode)];
    const gh = this.feedback(h, cache, mode);
    return [gh, this.feedback(h.add(d), cache, mode).sub(gh)];
  }
  /** True when feedback(t) is exactly J^T t at the forward point (so it equals autograd's VJP). */
  transposeFeedback(_mode: FeedbackMode): boolean {
    return false;
  }
  /**
   * Forward tensors (with their graph) at which the VJP of this layer's output, with the target
   * offset as grad-output, is the first part of feedbackDiff's difference: the input of the top
   * run of layers whose feedback is J^T. The local losses' VJP passes through these tensors anyway,
   * so a method can ask autograd for them for free and hand them to feedbackDiff (one GEMM saved per
   * MLP branch of a Mixer). Empty when there is no such run, or when it covers the whole layer.
   */
  vjpPoints(_cache: C, _mode: FeedbackMode): Tensor[] {
    return [];
  }
  /** Checks the mode is supported before training starts (throws a clear message). */
  checkMode(_mode: FeedbackMode): void {}
  describe(): string {
    return this.kind;
  }
}

/** A leaf parameter: U(-bound, bound), kept out of scopes, requiring grad. */
export function param(shape: number[], bound: number): Tensor {
  return uniform(shape, -bound, bound).keep().requiresGrad(true);
}
/** Bound of a feedback weight's uniform init, given the feedback's and the forward layer's fan-in. */
export function initBound(init: FeedbackInit, fanIn: number, forwardFanIn: number): number {
  if (init.kind === 'uniform') return init.scale ?? 1e-3;
  return 1 / Math.sqrt(init.kind === 'forward' ? forwardFanIn : fanIn);
}
