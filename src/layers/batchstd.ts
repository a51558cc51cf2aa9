// Batch standardization without affine parameters, FW-DTP's "-BN" variants (Shibuya et al. 2023):
// y = (x - mean) / s, s = sqrt(var + eps), statistics over the batch (and the spatial positions of
// a conv map), per feature or channel. As in FW-DTP the batch's own statistics are used at test
// time too (no running averages), so evaluation batches must not be tiny (a lone example of a
// [N, D] input standardizes to 0): evaluate() spreads the test set evenly over its batches.
// Feedback: LayerNorm's rule (eqs. 30-35, standardizeFeedback) over the batch dimensions instead of the feature one.
//   decomposed: mean normalisation W = I - 11^T/m (symmetric, so G = W) then SD normalisation with
//               s frozen from the forward pass: G(t) = W t / s;
//   exact:      J^T t = (1/s) (W t - xh mean(xh * t)), xh the standardized input.
// FeedbackMode.layerNorm picks between them for every normalisation layer.
import { Tensor, tidy } from '../engine';
import { FeedbackMode, Layer } from './layer';
import { standardizeFeedback } from './layernorm';

interface Cache {
  xhat: Tensor;
  rstd: Tensor;
}

export class BatchStandardize extends Layer<Cache> {
  readonly kind = 'batchstd';
  constructor(readonly eps = 1e-5) {
    super();
  }
  /** Dimensions the statistics run over: all but the feature (dim 1). */
  private dims(x: Tensor): number[] {
    if (x.rank !== 2 && x.rank !== 4) throw new Error(`batchstd expects [N, D] or [N, C, H, W] input, got [${x.shape.join(', ')}]`);
    return x.rank === 2 ? [0] : [0, 2, 3];
  }
  forward(x: Tensor): [Tensor, Cache] {
    const dims = this.dims(x);
    const mean = x.mean(dims, true);
    const rstd = x.var(dims, true).add(this.eps).rsqrt();
    const xhat = x.sub(mean).mul(rstd);
    return [xhat, { xhat, rstd }];
  }
  feedback(t: Tensor, c: Cache, mode: FeedbackMode): Tensor {
    this.checkMode(mode);
    const dims = this.dims(t);
    return tidy(() => standardizeFeedback(t, c.rstd.detach(), dims, mode.layerNorm === 'exact' ? c.xhat.detach() : undefined));
  }
  override transposeFeedback(mode: FeedbackMode): boolean {
    return mode.layerNorm === 'exact';
  }
  override checkMode(mode: FeedbackMode): void {
    if (mode.linear !== 'transpose') throw new Error(`batchstd is not invertible: no '${mode.linear}' feedback`);
  }
  override describe(): string {
    return 'batchstd';
  }
}
