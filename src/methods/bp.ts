// Backpropagation baseline: mean cross-entropy, autograd through the whole network.
import { Optimizer, Tensor, crossEntropy, grad, makeOptimizer, tidy, withGrad } from '../engine';
import { Network } from '../models/network';
import { Gradients, Method, MethodConfig, StepResult } from './method';

export class Backprop implements Method {
  readonly name = 'bp' as const;
  private opt: Optimizer;
  constructor(readonly net: Network, readonly cfg: MethodConfig) {
    this.opt = makeOptimizer(net.params(), cfg.lr, cfg.optimizer);
  }
  gradients(x: Tensor, y: Tensor): Gradients {
    return withGrad(() => {
      const logits = this.net.forward(x);
      const loss = crossEntropy(logits, y);
      const params = this.net.blocks.map((b) => b.params());
      const flat = grad([loss], params.flat());
      let k = 0;
      return { perBlock: params.map((ps) => ps.map(() => flat[k++])), logits: logits.detach(), loss: loss.detach() };
    });
  }
  step(x: Tensor, y: Tensor): StepResult {
    const t0 = performance.now();
    const { loss, correct } = tidy(() => {
      const g = this.gradients(x, y);
      this.opt.step(g.perBlock.flat());
      return { loss: g.loss.item(), correct: g.logits.argmax(1).eq(y).sum().item() };
    });
    return { loss, correct, n: x.shape[0], feedbackMs: 0, forwardMs: performance.now() - t0 };
  }
  setLr(lr: number): void {
    this.opt.lr = lr;
  }
  extraParams(): Tensor[] {
    return [];
  }
  optimizerState(): Float32Array[][] {
    return [this.opt.state()];
  }
  loadOptimizerState(s: Float32Array[][]): void {
    this.opt.loadState(s[0]);
  }
  dispose(): void {
    this.opt.dispose();
  }
}
