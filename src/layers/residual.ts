// Skip connection y = x + f(x). J^T = I + J_f^T, so G*(t) = t + g*(t) (eq. 39), where g* is
// the feedback of the branch; the learned feedback mirrors it (scalingDTP's InvertedBasicBlock).
import { Tensor } from '../engine';
import { FeedbackInit, FeedbackMode, Layer, prefixed, LearnedFeedback, VjpAt } from './layer';
import { Sequential, SequentialCache } from './sequential';

export class Residual extends Layer<SequentialCache> {
  readonly kind = 'residual';
  readonly branch: Sequential;
  constructor(layers: Layer[]) {
    super();
    this.branch = new Sequential(layers);
  }
  override params(): Tensor[] {
    return this.branch.params();
  }
  override namedParams(): [string, Tensor][] {
    return prefixed('branch.', this.branch.namedParams());
  }
  forward(x: Tensor): [Tensor, SequentialCache] {
    const [f, c] = this.branch.forward(x);
    return [x.add(f), c];
  }
  feedback(t: Tensor, c: SequentialCache, mode: FeedbackMode): Tensor {
    return t.add(this.branch.feedback(t, c, mode));
  }
  override linearFeedback(mode: FeedbackMode): boolean {
    return this.branch.linearFeedback(mode);
  }
  override transposeFeedback(mode: FeedbackMode): boolean {
    return this.branch.transposeFeedback(mode);
  }
  /** The branch's: the skip path's VJP is d itself. */
  override vjpPoints(c: SequentialCache, mode: FeedbackMode): Tensor[] {
    return this.branch.vjpPoints(c, mode);
  }
  override feedbackDiff(h: Tensor, d: Tensor, c: SequentialCache, mode: FeedbackMode, needPoint = true, vjp?: VjpAt): [Tensor | null, Tensor] {
    const [gh, gd] = this.branch.feedbackDiff(h, d, c, mode, needPoint, vjp);
    return [gh ? h.add(gh) : null, d.add(gd)];
  }
  override checkMode(mode: FeedbackMode): void {
    if (mode.linear !== 'transpose') throw new Error(`residual blocks have no closed-form '${mode.linear}' feedback`);
    this.branch.checkMode(mode);
  }
  override learnable(init: FeedbackInit): LearnedFeedback<SequentialCache> {
    const inner = this.branch.learnable(init);
    return { ...inner, apply: (t, c) => t.add(inner.apply(t, c)) };
  }
  override describe(): string {
    return `x + (${this.branch.describe()})`;
  }
}
