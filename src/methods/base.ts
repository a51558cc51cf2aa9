// What every method shares: the forward optimizer over the network's parameters, its lr,
// checkpointable state, and the batch statistics a step reports.
import { Optimizer, Tensor, crossEntropy, makeOptimizer, noGrad } from '../engine';
import { Network } from '../models/network';
import { Gradients, Method, MethodConfig, MethodName, StepResult } from './method';

export abstract class BaseMethod implements Method {
  protected opt: Optimizer;
  constructor(readonly name: MethodName, readonly net: Network, readonly cfg: MethodConfig) {
    this.opt = makeOptimizer(net.params(), cfg.lr, cfg.optimizer);
  }
  abstract step(x: Tensor, y: Tensor): StepResult;
  abstract gradients(x: Tensor, y: Tensor, beta?: number): Gradients;

  /** Mean cross-entropy and number of correct predictions for logits of a batch. */
  protected batchStats(logits: Tensor, y: Tensor): { loss: number; correct: number } {
    return noGrad(() => ({ loss: crossEntropy(logits, y).item(), correct: logits.argmax(1).eq(y).sum().item() }));
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
