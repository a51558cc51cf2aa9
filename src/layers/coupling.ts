// Additive coupling (reversible block) on the last dimension split in halves:
//   y1 = x1 + f(x2),  y2 = x2 + g(y1).
// Its feedback is the exact inverse, x2 = y2 - g(y1), x1 = y1 - f(x2), evaluated with the
// current weights (the reversible Mixer of the paper's Table 4). Every mode uses the inverse.
import { Tensor, cat } from '../engine';
import { FeedbackInit, FeedbackMode, Layer, LearnedFeedback } from './layer';
import { Sequential } from './sequential';

export class AdditiveCoupling extends Layer<null> {
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
  forward(x: Tensor): [Tensor, null] {
    const [x1, x2] = this.split(x);
    const y1 = x1.add(this.f.forward(x2)[0]);
    const y2 = x2.add(this.g.forward(y1)[0]);
    return [cat([y1, y2], x.rank - 1), null];
  }
  feedback(t: Tensor, _c: null, _m: FeedbackMode): Tensor {
    const [y1, y2] = this.split(t);
    const x2 = y2.sub(this.g.forward(y1)[0]);
    const x1 = y1.sub(this.f.forward(x2)[0]);
    return cat([x1, x2], t.rank - 1);
  }
  override invertsExactly(_m: FeedbackMode): boolean {
    return true;
  }
  override linearFeedback(_m: FeedbackMode): boolean {
    return false;
  }
  override learnable(_init: FeedbackInit): LearnedFeedback<null> {
    return { params: [], apply: (t, c) => this.feedback(t, c, {} as FeedbackMode), weightPairs: [] };
  }
  override describe(): string {
    return `coupling(f: ${this.f.describe()}; g: ${this.g.describe()})`;
  }
}
