// LayerNorm over the last dimension: y = gamma * (x - mean) / s + beta, s = sqrt(var + eps).
// decomposed (eqs. 30-35): mean normalisation W = I - 11^T/d (symmetric, so G = W) then SD
//   normalisation with s frozen from the forward pass (G = t / s), then the affine (G = gamma * t):
//   G(t) = W (gamma * t) / s. It drops the dependence of s on x, an approximation of J^T.
// exact: J^T t = (1/s) (I - 11^T/d - xh xh^T / d)(gamma * t), xh the normalised input.
import { Tensor, layerNormFeedback, layerNormStats, ones, tidy, zeros } from '../engine';
import { FeedbackInit, FeedbackMode, Layer, LearnedFeedback } from './layer';

/** The forward pass's own statistics (free: the LN kernel computes them); x for the exact mode. */
interface Cache {
  x: Tensor;
  mean: Tensor;
  rstd: Tensor;
}

const centre = (t: Tensor, dims = [-1]) => t.sub(t.mean(dims, true));

/**
 * Feedback of a standardization xh = (x - mean) / s over `dims`, for an output-space t:
 * decomposed (eqs. 30-35) W t / s with W = I - 11^T/m, or, given xh, the exact
 * J^T t = (W t - xh mean(xh * t)) / s. LayerNorm (after its affine) and BatchStandardize share it.
 */
export function standardizeFeedback(t: Tensor, rstd: Tensor, dims: number[], xhat?: Tensor): Tensor {
  const w = centre(t, dims);
  return (xhat ? w.sub(xhat.mul(xhat.mul(t).mean(dims, true))) : w).mul(rstd);
}

export class LayerNorm extends Layer<Cache> {
  readonly kind = 'layernorm';
  readonly gamma: Tensor;
  readonly beta: Tensor;
  constructor(readonly d: number, readonly eps = 1e-5) {
    super();
    this.gamma = ones([d]).keep().requiresGrad(true);
    this.beta = zeros([d]).keep().requiresGrad(true);
  }
  override params(): Tensor[] {
    return [this.gamma, this.beta];
  }
  /** PyTorch's names for LayerNorm's gain and shift. */
  override namedParams(): [string, Tensor][] {
    return [['weight', this.gamma], ['bias', this.beta]];
  }
  forward(x: Tensor): [Tensor, Cache] {
    if (x.shape[x.rank - 1] !== this.d) throw new Error(`layernorm expects last dimension ${this.d}, got [${x.shape.join(', ')}]`);
    const [y, mean, rstd] = layerNormStats(x, [this.d], this.gamma, this.beta, this.eps);
    return [y, { x, mean, rstd }];
  }
  /** One native pass: libtorch's LayerNorm backward (exact) or the decomposed form; standardizeFeedback is the reference (tested). */
  feedback(t: Tensor, c: Cache, mode: FeedbackMode): Tensor {
    this.checkMode(mode);
    return layerNormFeedback(t, c.x, c.mean, c.rstd, this.gamma, mode.layerNorm === 'exact');
  }
  override transposeFeedback(mode: FeedbackMode): boolean {
    return mode.layerNorm === 'exact';
  }
  override checkMode(mode: FeedbackMode): void {
    if (mode.linear !== 'transpose') throw new Error(`layernorm is not invertible: no '${mode.linear}' feedback`);
  }
  /** The decomposed form with its own learnable scale and shift. */
  override learnable(_init: FeedbackInit): LearnedFeedback<Cache> {
    const g = ones([this.d]).keep().requiresGrad(true);
    const b = zeros([this.d]).keep().requiresGrad(true);
    return { params: [g, b], apply: (t, c) => tidy(() => centre(t.mul(g)).mul(c.rstd).add(b)), weightPairs: [] };
  }
  override describe(): string {
    return `layernorm(${this.d})`;
  }
}
