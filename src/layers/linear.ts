// Linear y = x W^T + b. Feedback: W^T (TJML), W^-1 (IJML, square only) or W^+ (PJML), the
// last two applied to t - b so that they invert the layer.
import { Tensor, inverse, linear, pinverse, tidy } from '../engine';
import { FeedbackInit, FeedbackMode, Layer, LearnedFeedback, initBound, param } from './layer';

export class Linear extends Layer<null> {
  readonly kind = 'linear';
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly din: number, readonly dout: number, bias = true) {
    super();
    const bound = 1 / Math.sqrt(din);
    this.weight = param([dout, din], bound);
    this.bias = bias ? param([dout], bound) : null;
  }
  override params(): Tensor[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }
  override namedParams(): [string, Tensor][] {
    return this.bias ? [['weight', this.weight], ['bias', this.bias]] : [['weight', this.weight]];
  }
  forward(x: Tensor): [Tensor, null] {
    if (x.shape[x.rank - 1] !== this.din)
      throw new Error(`linear expects last dimension ${this.din}, got [${x.shape.join(', ')}]`);
    return [linear(x, this.weight, this.bias), null];
  }
  /** F(x + dx) - F(x) = dx W^T: the bias cancels exactly. */
  override forwardDiff(_x: Tensor, dx: Tensor, _c: null): Tensor {
    return linear(dx, this.weight, null);
  }
  /** M with G(t) = (t - b) M (IJML/PJML) or t M (TJML). */
  private feedbackMatrix(mode: FeedbackMode): Tensor {
    if (mode.linear === 'transpose') return this.weight;
    return (mode.linear === 'inverse' ? inverse(this.weight) : pinverse(this.weight)).T;
  }
  feedback(t: Tensor, _c: null, mode: FeedbackMode): Tensor {
    this.checkMode(mode);
    return tidy(() => {
      const centred = this.bias && mode.linear !== 'transpose' ? t.sub(this.bias) : t;
      return centred.matmul(this.feedbackMatrix(mode));
    });
  }
  /** G is affine in every mode: the difference is d M. */
  override feedbackDiff(h: Tensor, d: Tensor, c: null, mode: FeedbackMode, needPoint = true): [Tensor | null, Tensor] {
    return [needPoint ? this.feedback(h, c, mode) : null, tidy(() => d.matmul(this.feedbackMatrix(mode)))];
  }
  override transposeFeedback(mode: FeedbackMode): boolean {
    return mode.linear === 'transpose';
  }
  override checkMode(mode: FeedbackMode): void {
    if (mode.linear === 'inverse' && this.din !== this.dout)
      throw new Error(`linear ${this.din}->${this.dout} has no inverse feedback (IJML needs a square weight; use pjml)`);
  }
  /** Linear_b(dout -> din) with its own weight and bias. */
  override learnable(init: FeedbackInit): LearnedFeedback<null> {
    const bound = initBound(init, this.dout, this.din);
    const w = param([this.din, this.dout], bound);
    const b = param([this.din], bound);
    return {
      params: [w, b],
      apply: (t) => linear(t, w, b),
      weightPairs: [[this.weight, w, true]],
    };
  }
  override describe(): string {
    return `linear(${this.din}->${this.dout})`;
  }
}
