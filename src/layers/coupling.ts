// Additive coupling (reversible block) on the last dimension split in halves:
//   y1 = x1 + f(x2),  y2 = x2 + g(y1).
// Its feedback is the exact inverse, x2 = y2 - g(y1), x1 = y1 - f(x2), evaluated with the
// current weights (the reversible Mixer of the paper's Table 4); with mode.coupling 'transpose'
// (tjml-exact) it is J^T instead, through f's and g's own J^T feedbacks:
//   u1 = v1 + Jg^T v2,  u2 = v2 + Jf^T u1.
// DTP needs the inverse's difference G(y + d) - G(y) for small d. Subtracting two inverses
// loses it to float32 rounding once activations grow (a trained reversible Mixer's do; the
// methods test builds the case), so it is formed from f's and g's differences:
//   e2 = d2 - (g(y1 + d1) - g(y1)),  e1 = d1 - (f(x2 + e2) - f(x2)).
import { Tensor, cat, noGrad, tidy, uniform } from '../engine';
import { FeedbackInit, FeedbackMode, Layer, prefixed, LearnedFeedback } from './layer';
import { Linear } from './linear';
import { Sequential, SequentialCache } from './sequential';

interface CouplingCache {
  f: SequentialCache;
  g: SequentialCache;
  /** The output's second half, y2: with y1 = g's input it identifies the forward point. */
  out2: Tensor;
}

export class AdditiveCoupling extends Layer<CouplingCache> {
  readonly kind = 'coupling';
  readonly f: Sequential;
  readonly g: Sequential;
  /**
   * `twins` builds fresh layers shaped as f and g: the parametric feedback (LDRL, FWDTP, DTP, DRL)
   * is then an inverse of the same form with its own untied f' and g', trained (or frozen) like
   * any learned feedback. Without it the parametric feedback is the exact inverse itself.
   */
  constructor(f: Layer[], g: Layer[], readonly half: number, private readonly twins?: () => [Layer[], Layer[]]) {
    super();
    this.f = new Sequential(f);
    this.g = new Sequential(g);
  }
  override params(): Tensor[] {
    return [...this.f.params(), ...this.g.params()];
  }
  override namedParams(): [string, Tensor][] {
    return [...prefixed('f.', this.f.namedParams()), ...prefixed('g.', this.g.namedParams())];
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
    const y2 = x2.add(gy);
    return [cat([y1, y2], x.rank - 1), { f: fc, g: gc, out2: y2 }];
  }
  feedback(t: Tensor, c: CouplingCache, mode: FeedbackMode): Tensor {
    if (mode.coupling === 'transpose') {
      const [v1, v2] = this.split(t);
      const u1 = v1.add(this.g.feedback(v2, c.g, mode));
      return cat([u1, v2.add(this.f.feedback(u1, c.f, mode))], t.rank - 1);
    }
    return this.inverse(t);
  }
  override feedbackDiff(h: Tensor, d: Tensor, c: CouplingCache, mode: FeedbackMode, needPoint = true): [Tensor | null, Tensor] {
    if (mode.coupling !== 'inverse') return super.feedbackDiff(h, d, c, mode, needPoint);
    return [needPoint ? this.inverse(h) : null, this.inverseDiff(h, d, c)];
  }
  /**
   * G(h + d) - G(h) for the inverse G. g runs at h1 and f at x2 = h2 - g(h1); at the forward
   * output (every training step) those are the forward pass's own evaluations, reused from `c`;
   * elsewhere (diagnostics' shifted points) they are evaluated afresh.
   */
  inverseDiff(h: Tensor, d: Tensor, c: CouplingCache): Tensor {
    const [h1, h2] = this.split(h);
    const atForward = h1.equals(c.g.inputs[0]) && h2.equals(c.out2);
    return this.inverseDiffWith(this.f, this.g, h, d, atForward ? c : null);
  }
  /** The inverse's difference with the given f and g, at their evaluations in `c` or afresh at h. */
  private inverseDiffWith(f: Sequential, g: Sequential, h: Tensor, d: Tensor, c: CouplingCache | null): Tensor {
    const [h1, h2] = this.split(h);
    const [d1, d2] = this.split(d);
    let gc = c?.g;
    let fc = c?.f;
    if (!gc || !fc) {
      const [gh, gcNew] = g.forward(h1);
      gc = gcNew;
      fc = f.forward(h2.sub(gh))[1];
    }
    const e2 = d2.sub(g.forwardDiff(h1, d1, gc));
    const e1 = d1.sub(f.forwardDiff(fc.inputs[0], e2, fc));
    return cat([e1, e2], d.rank - 1);
  }
  private inverse(t: Tensor, f = this.f, g = this.g): Tensor {
    const [y1, y2] = this.split(t);
    const x2 = y2.sub(g.forward(y1)[0]);
    const x1 = y1.sub(f.forward(x2)[0]);
    return cat([x1, x2], t.rank - 1);
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
  override learnable(init: FeedbackInit): LearnedFeedback<CouplingCache> {
    if (!this.twins) return { params: [], apply: (t) => this.inverse(t), diff: (h, d, c) => this.inverseDiff(h, d, c), weightPairs: [] };
    const [fl, gl] = this.twins();
    const f = new Sequential(fl);
    const g = new Sequential(gl);
    const params = [...f.params(), ...g.params()];
    // the twins start at PyTorch's default init (= 'forward': same shapes); 'uniform' redraws them
    if (init.kind === 'uniform') noGrad(() => params.forEach((p) => tidy(() => p.copyInPlace(uniform(p.shape, -(init.scale ?? 1e-3), init.scale ?? 1e-3)))));
    const linears = (s: Sequential) => s.layers.filter((l): l is Linear => l instanceof Linear);
    const pairs = (a: Sequential, b: Sequential): [Tensor, Tensor, boolean][] => linears(a).map((l, i) => [l.weight, linears(b)[i].weight, false]);
    return {
      params,
      apply: (t) => this.inverse(t, f, g),
      diff: (h, d) => this.inverseDiffWith(f, g, h, d, null),
      weightPairs: [...pairs(this.f, f), ...pairs(this.g, g)],
    };
  }
  override describe(): string {
    return `coupling(f: ${this.f.describe()}; g: ${this.g.describe()})`;
  }
}
