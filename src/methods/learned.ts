// Methods with parametric feedback G_n (one per block, built from each layer's `learnable`):
//   fwdtp  G fixed at its random init (Shibuya et al. 2023);
//   ldrl   local difference reconstruction loss (Ernoult et al. 2022, eqs. 9-11);
//   dtp    reconstruction loss MSE(G(F(x + e)), x + e) (Lee et al. 2015, eq. 6);
//          the penultimate target is a gradient step (their Algorithm 1): feedback.topTarget;
//   drl    difference reconstruction through all upper blocks (Meulemans et al. 2020).
// The first block's feedback is never used for targets, so it is never trained.
import { Adam, Optimizer, SGD, Tensor, grad, noGrad, now, randnLike, tidy, withGrad } from '../engine';
import { FEEDBACK_MODES, LearnedFeedback, SequentialCache } from '../layers';
import { Network } from '../models/network';
import { FeedbackTraining, MethodConfig, MethodName, perBlock } from './method';
import { BlockFeedback, ForwardPass, TargetProp } from './tp';

export const DEFAULT_FEEDBACK: FeedbackTraining = {
  iterations: 1,
  lr: 1e-3,
  sigma: 0.1,
  momentum: 0.9,
  init: { kind: 'default' },
};

export class LearnedTP extends TargetProp {
  readonly fb: LearnedFeedback[];
  private fbOpts: (Optimizer | null)[];
  private iters: number[];
  private sigma: number[];
  readonly pretrainEpochs: number;
  /** The top block feeds back its exact J^T (topTarget 'gradient'). */
  readonly gradientTop: boolean;
  protected feedbackFn: BlockFeedback;

  constructor(name: MethodName, net: Network, cfg: MethodConfig) {
    super(name, net, cfg);
    const f = { ...DEFAULT_FEEDBACK, ...cfg.feedback };
    const N = net.blocks.length;
    this.iters = perBlock(f.iterations, N, `${name} feedback iterations`);
    this.sigma = perBlock(f.sigma, N, `${name} feedback sigma`);
    const lrs = perBlock(f.lr, N, `${name} feedback lr`);
    if (this.iters.some((k) => !(Number.isInteger(k) && k >= 0))) throw new Error(`${name}: feedback iterations must be integers >= 0`);
    if (this.sigma.some((s) => !(s > 0))) throw new Error(`${name}: feedback sigma must be > 0`);
    const pre = f.pretrainEpochs ?? 0;
    if (!(Number.isInteger(pre) && pre >= 0)) throw new Error(`${name}: feedback pretrainEpochs must be an integer >= 0, got ${pre}`);
    if (pre > 0 && name === 'fwdtp') throw new Error('fwdtp: feedback is frozen, so pretrainEpochs does not apply');
    this.pretrainEpochs = pre;
    const inits = ['default', 'forward', 'uniform'];
    if (!inits.includes(f.init?.kind)) throw new Error(`${name}: feedback init kind must be one of ${inits.join(', ')}, got '${f.init?.kind}'`);
    if (f.init.kind === 'uniform' && f.init.scale !== undefined && !(f.init.scale > 0))
      throw new Error(`${name}: feedback init scale must be > 0, got ${f.init.scale}`);
    this.fb = net.blocks.map((b) => b.learnable(f.init));
    const trained = name !== 'fwdtp';
    this.trainsFeedback = trained;
    // a name, or an object of the forward optimizer's form ({kind: 'adam'})
    const kind = (typeof f.optimizer === 'object' && f.optimizer ? f.optimizer.kind : f.optimizer) ?? 'sgd';
    if (kind !== 'sgd' && kind !== 'adam') throw new Error(`${name}: feedback optimizer must be 'sgd' or 'adam', got '${kind}'`);
    const opt = (ps: Tensor[], lr: number): Optimizer => (kind === 'adam' ? new Adam(ps, { lr }) : new SGD(ps, { lr, momentum: f.momentum }));
    const top = f.topTarget ?? (name === 'dtp' ? 'gradient' : 'learned');
    if (top !== 'gradient' && top !== 'learned') throw new Error(`${name}: feedback topTarget must be 'gradient' or 'learned', got '${top}'`);
    this.gradientTop = top === 'gradient';
    const learned = (n: number) => n > 0 && !(this.gradientTop && n === N - 1);
    this.fbOpts = this.fb.map((g, n) => (trained && learned(n) && g.params.length && this.iters[n] > 0 ? opt(g.params, lrs[n]) : null));
    if (!trained) this.fb.forEach((g) => g.params.forEach((p) => p.requiresGrad(false)));
    this.feedbackFn = (n, h, d, c) =>
      learned(n) ? this.fbDiff(n, h, d, c) : net.blocks[n].feedbackDiff(h, d, c as SequentialCache, FEEDBACK_MODES.exact, false)[1];
  }

  /** G_n(h + d) - G_n(h): the feedback's own difference where it has one (an exact inverse), else two applications. */
  private fbDiff(n: number, h: Tensor, d: Tensor, c: unknown): Tensor {
    const g = this.fb[n];
    return g.diff ? g.diff(h, d, c) : g.apply(h.add(d), c).sub(g.apply(h, c));
  }

  /** Feedback-only training on one batch (pre-training epochs); returns milliseconds spent. */
  pretrainStep(x: Tensor): number {
    const t0 = now();
    tidy(() => this.trainFeedback(this.forwardPass(x)));
    return now() - t0;
  }

  protected override trainFeedback(fp: ForwardPass): void {
    for (let n = 1; n < this.net.blocks.length; n++) {
      const opt = this.fbOpts[n];
      if (!opt) continue;
      for (let k = 0; k < this.iters[n]; k++)
        tidy(() => {
          const loss = withGrad(() => this.feedbackLoss(n, fp));
          opt.step(grad([loss], this.fb[n].params));
        });
    }
  }

  /** The feedback loss of block n at the current forward point. */
  feedbackLoss(n: number, fp: ForwardPass): Tensor {
    const x = fp.hs[n];
    const y = fp.hs[n + 1];
    const c = fp.caches[n];
    const s = this.sigma[n];
    const G = (t: Tensor, cache: unknown) => this.fb[n].apply(t, cache);
    const F = (v: Tensor) => noGrad(() => this.net.blocks[n].forward(v));
    const B = x.shape[0];
    const meanSum = (t: Tensor) => t.sum().div(B);
    switch (this.name) {
      case 'ldrl': {
        // L = -2 E[dx . (G(F(x + dx)) - G(F(x)))] + E[||G(F(x) + dy) - G(F(x))||^2]
        const r = G(y, c);
        const dx = randnLike(x).mul(s);
        const [yx, cx] = F(x.add(dx));
        const dr = G(yx, cx).sub(r);
        const dy = randnLike(y).mul(s);
        const dry = G(y.add(dy), c).sub(r);
        return meanSum(dx.mul(dr)).mul(-2).add(meanSum(dry.square()));
      }
      case 'dtp': {
        // mean squared error over all elements, as in Lee et al.'s and Meulemans' code
        const xn = x.add(randnLike(x).mul(s));
        const [yn, cn] = F(xn);
        return G(yn, cn).sub(xn).square().mean();
      }
      case 'drl': {
        // Corrupt h_n, propagate to the output, then come back down with difference
        // correction; only block n's feedback gets the gradient (upper ones are constants).
        const N = this.net.blocks.length;
        const xn = x.add(randnLike(x).mul(s));
        let h = xn;
        for (let m = n; m < N; m++) h = noGrad(() => this.net.blocks[m].forward(h)[0]);
        let r = h;
        for (let m = N - 1; m > n; m--) {
          const cm = fp.caches[m];
          r = noGrad(() => fp.hs[m].add(this.feedbackFn(m, fp.hs[m + 1], r.sub(fp.hs[m + 1]), cm)));
        }
        const rec = G(r, c).add(x).sub(G(y, c));
        // (1/sigma^2) MSE, as Meulemans et al.'s DRL loss
        return rec.sub(xn).square().mean().div(s * s);
      }
      default:
        throw new Error(`${this.name} has no feedback loss`);
    }
  }

  override extraParams(): Tensor[] {
    return this.fb.flatMap((g) => g.params);
  }
  override optimizerState(): Float32Array[][] {
    return [...super.optimizerState(), ...this.fbOpts.map((o) => (o ? o.state() : []))];
  }
  override loadOptimizerState(s: Float32Array[][]): void {
    super.loadOptimizerState(s);
    this.fbOpts.forEach((o, i) => o?.loadState(s[i + 1] ?? []));
  }
  override dispose(): void {
    super.dispose();
    this.fbOpts.forEach((o) => o?.dispose());
    this.fb.forEach((g) => g.params.forEach((p) => p.dispose()));
  }
}
