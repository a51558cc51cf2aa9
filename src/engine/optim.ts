// Optimizers and learning-rate schedules, in TypeScript over in-place engine ops.
// Semantics follow torch.optim (coupled L2 weight decay for SGD/Adam, decoupled for AdamW).
import { Tensor, noGrad, tidy } from './tensor';
import { tensor, zerosLike } from './ops';

export interface ParamGroup {
  params: Tensor[];
  /** Overrides the optimizer's lr for this group (per-layer feedback rates). */
  lr?: number;
}

export interface Optimizer {
  lr: number;
  /** Applies one update; grads are aligned with `params` (null: no update for that one). */
  step(grads: (Tensor | null)[]): void;
  readonly params: Tensor[];
  dispose(): void;
  /** Optimizer state as plain arrays, for checkpoints. */
  state(): Float32Array[];
  loadState(s: Float32Array[]): void;
}

export interface SGDConfig {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD implements Optimizer {
  lr: number;
  private buf: (Tensor | null)[];
  constructor(readonly params: Tensor[], private c: SGDConfig) {
    this.lr = c.lr;
    this.buf = params.map(() => null);
  }
  step(grads: (Tensor | null)[]): void {
    const { momentum = 0, weightDecay = 0, nesterov = false } = this.c;
    noGrad(() =>
      tidy(() => {
        this.params.forEach((p, i) => {
          let g = grads[i];
          if (!g) return;
          if (weightDecay) g = g.add(p.mul(weightDecay));
          if (momentum) {
            let b = this.buf[i];
            if (!b) b = this.buf[i] = g.clone().keep();
            else b.mulInPlace(momentum).addInPlace(g);
            g = nesterov ? g.add(b.mul(momentum)) : b;
          }
          p.addInPlace(g, -this.lr);
        });
      }),
    );
  }
  dispose(): void {
    this.buf.forEach((b) => b?.dispose());
    this.buf = this.params.map(() => null);
  }
  state(): Float32Array[] {
    return this.buf.map((b) => (b ? b.data() : new Float32Array(0)));
  }
  loadState(s: Float32Array[]): void {
    this.dispose();
    this.buf = this.params.map((p, i) => (s[i]?.length ? fromHost(s[i], p) : null));
  }
}

export interface AdamConfig {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** AdamW: decoupled weight decay. */
  decoupled?: boolean;
}

export class Adam implements Optimizer {
  lr: number;
  private m: Tensor[];
  private v: Tensor[];
  private t = 0;
  constructor(readonly params: Tensor[], private c: AdamConfig) {
    this.lr = c.lr;
    this.m = params.map((p) => zerosLike(p).keep());
    this.v = params.map((p) => zerosLike(p).keep());
  }
  step(grads: (Tensor | null)[]): void {
    const [b1, b2] = this.c.betas ?? [0.9, 0.999];
    const eps = this.c.eps ?? 1e-8;
    const wd = this.c.weightDecay ?? 0;
    this.t++;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    noGrad(() =>
      tidy(() => {
        this.params.forEach((p, i) => {
          let g = grads[i];
          if (!g) return;
          if (wd && this.c.decoupled) p.mulInPlace(1 - this.lr * wd);
          else if (wd) g = g.add(p.mul(wd));
          this.m[i].mulInPlace(b1).addInPlace(g, 1 - b1);
          this.v[i].mulInPlace(b2).addcmulInPlace(g, g, 1 - b2);
          const denom = this.v[i].div(bc2).sqrt().add(eps);
          p.addcdivInPlace(this.m[i], denom, -this.lr / bc1);
        });
      }),
    );
  }
  dispose(): void {
    [...this.m, ...this.v].forEach((t) => t.dispose());
  }
  state(): Float32Array[] {
    return [Float32Array.of(this.t), ...this.m.map((t) => t.data()), ...this.v.map((t) => t.data())];
  }
  loadState(s: Float32Array[]): void {
    const n = this.params.length;
    this.t = s[0][0];
    tidy(() =>
      this.params.forEach((p, i) => {
        this.m[i].copyInPlace(tensor(s[1 + i], p.shape));
        this.v[i].copyInPlace(tensor(s[1 + n + i], p.shape));
      }),
    );
  }
}

function fromHost(a: Float32Array, like: Tensor): Tensor {
  return tensor(a, like.shape).keep();
}

export type OptimizerSpec =
  | ({ kind: 'sgd' } & Omit<SGDConfig, 'lr'>)
  | ({ kind: 'adam' | 'adamw' } & Omit<AdamConfig, 'lr' | 'decoupled'>);

export function makeOptimizer(params: Tensor[], lr: number, spec: OptimizerSpec): Optimizer {
  // plain-JS callers get this instead of a TypeError from inside
  if (typeof spec !== 'object' || spec === null)
    throw new Error(`optimizer must be an object such as { kind: 'sgd', momentum: 0.9 } or { kind: 'adam' }, got ${JSON.stringify(spec) ?? 'undefined'}`);
  if (spec.kind === 'sgd') return new SGD(params, { ...spec, lr });
  if (spec.kind === 'adam' || spec.kind === 'adamw') return new Adam(params, { ...spec, lr, decoupled: spec.kind === 'adamw' });
  throw new Error(`unknown optimizer '${(spec as { kind: string }).kind}' (expected sgd, adam or adamw)`);
}

// ---------- schedules: lr as a function of the epoch (stepped once per epoch) ----------

export type Schedule =
  | { kind: 'constant' }
  | { kind: 'cosine'; tMax: number; etaMin?: number; warmup?: number }
  | { kind: 'step'; stepSize: number; gamma: number };

export function lrAt(base: number, epoch: number, s: Schedule): number {
  switch (s.kind) {
    case 'constant':
      return base;
    case 'step':
      return base * s.gamma ** Math.floor(epoch / s.stepSize);
    case 'cosine': {
      const w = s.warmup ?? 0;
      if (epoch < w) return (base * (epoch + 1)) / w;
      const e = Math.min(epoch - w, s.tMax);
      const lo = s.etaMin ?? 0;
      return lo + ((base - lo) * (1 + Math.cos((Math.PI * e) / s.tMax))) / 2;
    }
  }
}
