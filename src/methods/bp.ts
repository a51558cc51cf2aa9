// Backpropagation baseline: mean cross-entropy, autograd through the whole network.
import { Tensor, crossEntropy, grad, now, tidy, withGrad } from '../engine';
import { Network } from '../models/network';
import { BaseMethod } from './base';
import { Gradients, MethodConfig, StepResult } from './method';

export class Backprop extends BaseMethod {
  constructor(net: Network, cfg: MethodConfig) {
    super('bp', net, cfg);
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
    const t0 = now();
    const { loss, correct } = tidy(() => {
      const g = this.gradients(x, y);
      this.opt.step(g.perBlock.flat());
      return this.batchStats(g.logits, y);
    });
    return { loss, correct, n: x.shape[0], feedbackMs: 0, forwardMs: now() - t0 };
  }
}
