// Additive coupling (reversible block) on the last dimension split in halves:
//   y1 = x1 + f(x2),  y2 = x2 + g(y1).
// Its feedback is the exact inverse, x2 = y2 - g(y1), x1 = y1 - f(x2), evaluated with the
// current weights (the reversible Mixer of the paper's Table 4); with mode.coupling 'transpose'
// (tjml-exact) it is J^T instead, through f's and g's own J^T feedbacks:
//   u1 = v1 + Jg^T v2,  u2 = v2 + Jf^T u1.
import { Tensor, cat } from '../engine';
import { FeedbackInit, FeedbackMode, Layer, LearnedFeedback } from './layer';
import { Sequential, SequentialCache } from './sequential';

interface CouplingCache {
  f: SequentialCache;
  g: SequentialCache;
}

export class AdditiveCoupling extends Layer<CouplingCache> {
  readonly kind = 'coupling';
  readonly f: Sequential;
  readonly g: Sequential;
  constructor(f: Layer[], g: Layer[], readonly half: number) {
    super();
    this.f = new Sequential(f);
    this.g = new Sequential(g);
  }
  override params(): Tensor[] {
    return [...this.f.params(), ...this.g.params()];
  }
  private split(x: Tensor): [Tensor, Tensor] {
    const d = x.rank - 1;
    if (x.shape[d] !== 2 * this.half) throw new Error(`coupling expects last dimension ${2 * this.half}, got [${x.shape.join(', ')}]`);
    return [x.narrow(d, 0, this.half), x.narrow(d, this.half, this.half)];
  }
  forward(x: Tensor): [Tensor, CouplingCache] {
    const [x1, x2] = this.split(x);
    const [fx, fc] = this.f.forward(x2);
    const y1 = x1.add(fx);
    const [gy, gc] = this.g.forward(y1);
    return [cat([y1, x2.add(gy)], x.rank - 1), { f: fc, g: gc }];
  }
  feedback(t: Tensor, c: CouplingCache, mode: FeedbackMode): Tensor {
    if (mode.coupling === 'transpose') {
      const [v1, v2] = this.split(t);
      const u1 = v1.add(this.g.feedback(v2, c.g, mode));
      return cat([u1, v2.add(this.f.feedback(u1, c.f, mode))], t.rank - 1);
    }
    return this.inverse(t);
  }
  private inverse(t: Tensor): Tensor {
    const [y1, y2] = this.split(t);
    const x2 = y2.sub(this.g.forward(y1)[0]);
    const x1 = y1.sub(this.f.forward(x2)[0]);
    return cat([x1, x2], t.rank - 1);
  }
  override invertsExactly(mode: FeedbackMode): boolean {
    return mode.coupling === 'inverse';
  }
  override linearFeedback(mode: FeedbackMode): boolean {
    return mode.coupling === 'transpose' && this.f.linearFeedback(mode) && this.g.linearFeedback(mode);
  }
  override transposeFeedback(mode: FeedbackMode): boolean {
    return mode.coupling === 'transpose' && this.f.transposeFeedback(mode) && this.g.transposeFeedback(mode);
  }
  override checkMode(mode: FeedbackMode): void {
    if (mode.coupling === 'inverse') return; // f and g only run forward
    this.f.checkMode(mode);
    this.g.checkMode(mode);
  }
  override learnable(_init: FeedbackInit): LearnedFeedback<CouplingCache> {
    return { params: [], apply: (t) => this.inverse(t), weightPairs: [] };
  }
  override describe(): string {
    return `coupling(f: ${this.f.describe()}; g: ${this.g.describe()})`;
  }
}
