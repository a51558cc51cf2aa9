// Difference target propagation, shared by every TP method. Per batch:
//   1. forward, block by block on detached inputs (no gradient flows between blocks);
//   2. feedback training (learned-feedback methods only; timed separately);
//   3. first target t_N = h_N - beta dCE_sum/dh_N = h_N - beta (softmax(h_N) - onehot(y));
//   4. difference correction t_n = G_n(t_{n+1}) + h_n - G_n(h_{n+1})  (DTP, Lee et al. 2015);
//   5. local losses ||F_n(h_n) - t_{n+1}||^2 / (2 beta), averaged over the batch; one step.
// Steps 4 and 5 run together, block by block from the top: block n's local-loss VJP (grad-output
// d_{n+1}, gradients scaled by -1/(beta B) afterwards) passes through the tensors where its
// feedback starts with exact J^T layers (a Linear's W^T), and hands the VJP there to the feedback
// instead of recomputing it; a block whose feedback is J^T throughout takes its whole offset
// from that VJP, at its input (so exact-J^T TJML does BP's FLOPs). targetOffsets / localGradients do the two steps apart (the reference).
// Targets are carried as offsets d_n = t_n - h_n: with d_n = G_n(h_{n+1} + d_{n+1}) - G_n(h_{n+1})
// formed by each layer's feedbackDiff, small offsets (small beta) keep their float32 precision.
// With exact transposed-Jacobian feedback, step 5's gradient equals the BP gradient of mean CE
// (so the same lr means the same step as BP; scalingDTP's 0.5||.||^2 loss is beta times ours).
import { Tensor, grad, noGrad, now, oneHot, softmax, tidy, withGrad, crossEntropy } from '../engine';
import { VjpAt } from '../layers';
import { Network } from '../models/network';
import { BaseMethod } from './base';
import { Gradients, MethodConfig, MethodName, StepResult } from './method';

/**
 * G_n(h + d) - G_n(h) for block n: maps an offset at h in block n's output space to its input
 * space. `vjp`: VJPs of block n's output with grad-output d at the block's vjpPoints, if computed.
 */
export type BlockFeedback = (n: number, h: Tensor, d: Tensor, cache: unknown, vjp?: VjpAt) => Tensor;

export interface ForwardPass {
  /** h_0 = x, h_1 .. h_N, all detached. */
  hs: Tensor[];
  /** Block outputs with their (per-block) autograd graphs. */
  outs: Tensor[];
  caches: unknown[];
  /**
   * Block n's input as a leaf that requires grad, for blocks whose target offset is the VJP at
   * their input (see TargetProp.offsetIsVjp); undefined elsewhere.
   */
  inputs: (Tensor | undefined)[];
}

export abstract class TargetProp extends BaseMethod {
  constructor(name: MethodName, net: Network, cfg: MethodConfig) {
    if (!(cfg.beta > 0)) throw new Error(`${name}: beta must be > 0, got ${cfg.beta}`);
    super(name, net, cfg);
  }

  /** The feedback G_n used for targets. */
  protected abstract feedbackFn: BlockFeedback;
  /** G_n(h + d) - G_n(h): block n's feedback as the method uses it (diagnostics read it here). */
  feedbackDifference(n: number, h: Tensor, d: Tensor, cache: unknown): Tensor {
    return noGrad(() => this.feedbackFn(n, h, d, cache));
  }
  /** Forward tensors of block n at which its VJP gives part of its feedback (see Layer.vjpPoints). */
  protected vjpPoints(_n: number, _cache: unknown): Tensor[] {
    return [];
  }
  /**
   * True when block n's feedback is its exact J^T throughout, so that its target offset
   * G_n(h + d) - G_n(h) = J_n^T d is the VJP at its input that the local loss's VJP runs anyway:
   * the step asks autograd for it beside the parameters' gradients (one fused sweep) instead of
   * recomputing J^T layer by layer.
   */
  protected offsetIsVjp(_n: number): boolean {
    return false;
  }
  /** Trains feedback on the current forward pass (no-op for analytical / fixed feedback). */
  protected trainFeedback(_fp: ForwardPass): void {}
  /** Whether trainFeedback does work (its time is then reported as feedback time). */
  protected trainsFeedback = false;

  forwardPass(x: Tensor): ForwardPass {
    const hs = [x.detach()];
    const outs: Tensor[] = [];
    const caches: unknown[] = [];
    const inputs: (Tensor | undefined)[] = [];
    withGrad(() => {
      this.net.blocks.forEach((b, n) => {
        // a second detached view of h_n, so that hs[n] itself stays out of every graph
        inputs.push(n >= 1 && this.offsetIsVjp(n) ? hs[n].detach().requiresGrad(true) : undefined);
        const [y, c] = b.forward(inputs[n] ?? hs[n]);
        outs.push(y);
        caches.push(c);
        hs.push(y.detach());
      });
    });
    return { hs, outs, caches, inputs };
  }

  /** d_N = -beta (softmax(h_N) - onehot(y)): the output target's offset. */
  private outputOffset(hN: Tensor, y: Tensor, beta: number): Tensor {
    return noGrad(() => softmax(hN, 1).sub(oneHot(y, hN.shape[1])).mul(-beta));
  }

  /** d_n from d_{n+1} through block n's feedback (difference correction). */
  private offsetBelow(fp: ForwardPass, n: number, dUp: Tensor, vjp?: VjpAt): Tensor {
    return this.feedbackFn(n, fp.hs[n + 1], dUp, fp.caches[n], vjp);
  }

  /** Target offsets d_n = t_n - h_n for n = 1 .. N (index 0 is unused), without the local losses. */
  targetOffsets(fp: ForwardPass, y: Tensor, beta: number): Tensor[] {
    return noGrad(() => {
      const N = this.net.blocks.length;
      const d: Tensor[] = new Array(N + 1);
      d[N] = this.outputOffset(fp.hs[N], y, beta);
      for (let n = N - 1; n >= 1; n--) d[n] = this.offsetBelow(fp, n, d[n + 1]);
      return d;
    });
  }

  /** Gradients of the local losses for a given forward pass and target offsets (one VJP). */
  localGradients(fp: ForwardPass, d: Tensor[], beta: number): (Tensor | null)[][] {
    const params = this.net.blocks.map((b) => b.params());
    const B = fp.hs[0].shape[0];
    // dL/d out_n = (F_n(h_n) - t_{n+1}) / (beta B) = (out_n - h_{n+1} - d_{n+1}) / (beta B), and
    // out_n = h_{n+1} in value, so the local losses' gradient is one VJP with -d_{n+1} / (beta B).
    const gouts = noGrad(() => fp.outs.map((_, n) => d[n + 1].mul(-1 / (beta * B))));
    const flat = grad(fp.outs, params.flat(), gouts);
    let k = 0;
    return params.map((ps) => ps.map(() => flat[k++]));
  }

  /**
   * Target offsets and local-loss gradients in one sweep from the top (what a step uses): block
   * n's VJP with grad-output d_{n+1} yields its parameters' gradients (scaled afterwards by
   * -1/(beta B), as localGradients) and, at its vjpPoints, the J^T part of its feedback difference.
   * Equal to targetOffsets + localGradients up to float rounding (tested).
   */
  targetsAndGradients(fp: ForwardPass, y: Tensor, beta: number): { d: Tensor[]; perBlock: (Tensor | null)[][] } {
    const N = this.net.blocks.length;
    const scale = -1 / (beta * fp.hs[0].shape[0]);
    const d: Tensor[] = new Array(N + 1);
    const perBlock: (Tensor | null)[][] = new Array(N);
    d[N] = this.outputOffset(fp.hs[N], y, beta);
    for (let n = N - 1; n >= 0; n--) {
      const ps = this.net.blocks[n].params();
      const input = n >= 1 ? fp.inputs[n] : undefined;
      const pts = input ? [input] : n >= 1 && ps.length ? this.vjpPoints(n, fp.caches[n]) : [];
      const g = ps.length || input ? grad([fp.outs[n]], [...ps, ...pts], [d[n + 1]]) : [];
      noGrad(() => {
        perBlock[n] = ps.map((_, i) => g[i]?.mul(scale) ?? null);
        if (n === 0) return;
        // the whole block's J^T d, from the same VJP (fused); else its feedback, given the VJPs at its points
        const atInput = input ? g[ps.length] : null;
        d[n] = atInput ?? this.offsetBelow(fp, n, d[n + 1], vjpMap(pts, g.slice(ps.length)));
      });
    }
    return { d, perBlock };
  }

  gradients(x: Tensor, y: Tensor, beta = this.cfg.beta): Gradients {
    const fp = this.forwardPass(x);
    const logits = fp.hs[fp.hs.length - 1];
    return { perBlock: this.targetsAndGradients(fp, y, beta).perBlock, logits, loss: noGrad(() => crossEntropy(logits, y)) };
  }

  step(x: Tensor, y: Tensor): StepResult {
    const t0 = now();
    let fbMs = 0;
    const { loss, correct } = tidy(() => {
      const fp = this.forwardPass(x);
      if (this.trainsFeedback) {
        const f0 = now();
        this.trainFeedback(fp);
        fbMs = now() - f0;
      }
      this.opt.step(this.targetsAndGradients(fp, y, this.cfg.beta).perBlock.flat());
      return this.batchStats(fp.hs[fp.hs.length - 1], y);
    });
    return { loss, correct, n: x.shape[0], feedbackMs: fbMs, forwardMs: now() - t0 - fbMs };
  }
}

function vjpMap(points: Tensor[], vjps: (Tensor | null)[]): VjpAt {
  const m: VjpAt = new Map();
  points.forEach((p, i) => vjps[i] && m.set(p, vjps[i]!));
  return m;
}
