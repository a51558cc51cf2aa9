// MaxPool2d. Feedback: MaxUnpool with the forward indices (the paper's choice, exact J^T only
// when windows do not overlap), or the scatter-add adjoint (exact J^T for any pool).
import { Tensor, maxPool2d, maxPool2dAdjoint, maxUnpool2d } from '../engine';
import { FeedbackMode, Layer } from './layer';

interface Cache {
  x: Tensor;
  idx: Tensor;
}

export class MaxPool2d extends Layer<Cache> {
  readonly kind = 'maxpool2d';
  constructor(readonly k: number, readonly stride = k, readonly padding = 0) {
    super();
  }
  forward(x: Tensor): [Tensor, Cache] {
    const [y, idx] = maxPool2d(x, this.k, this.stride, this.padding);
    return [y, { x, idx }];
  }
  feedback(t: Tensor, c: Cache, mode: FeedbackMode): Tensor {
    if (mode.pool === 'adjoint') return maxPool2dAdjoint(t, c.x, this.k, this.stride, this.padding, c.idx);
    return maxUnpool2d(t, c.idx, [c.x.shape[2], c.x.shape[3]]);
  }
  override transposeFeedback(mode: FeedbackMode): boolean {
    return mode.pool === 'adjoint';
  }
  override describe(): string {
    return `maxpool${this.k}/${this.stride}${this.padding ? `p${this.padding}` : ''}`;
  }
}
