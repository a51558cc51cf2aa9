// Element-wise activation sigma. J = J^T = diag(sigma'(z)), so the analytical feedbacks are:
//   integral  varsigma(y) = \int sigma'(sigma^-1(y)) dy  (eq. 27): varsigma'(y) matches J^T at
//             y = sigma(z) exactly, and needs no cached state;
//   hadamard  sigma(sigma'(z) * t)                        (eq. 29);
//   linear    sigma'(z) * t                               (exact J^T, linear in t);
//   inverse   sigma^-1(t)                                 (IJML/PJML).
import { ActivationName, Tensor, activation, activationBackward, activationDerivative, eluVarsigmaDiff, leakyReluDiff, tidy, where } from '../engine';
import { FeedbackInit, FeedbackMode, Layer, LearnedFeedback } from './layer';

interface Cache {
  z: Tensor;
}

export class Activation extends Layer<Cache> {
  readonly kind = 'activation';
  /** `param`: LeakyReLU slope (default 0.01) or ELU alpha (default 1). */
  constructor(readonly fn: ActivationName, readonly param = fn === 'elu' ? 1 : fn === 'leaky_relu' ? 0.01 : 0) {
    super();
  }
  forward(x: Tensor): [Tensor, Cache] {
    return [activation(this.fn, x, this.param), { z: x }];
  }
  feedback(t: Tensor, c: Cache, mode: FeedbackMode): Tensor {
    this.checkMode(mode);
    switch (mode.activation) {
      case 'linear':
        return activationBackward(this.fn, t, c.z, this.param);
      case 'hadamard':
        return tidy(() => activation(this.fn, activationDerivative(this.fn, c.z, this.param).mul(t), this.param));
      case 'integral':
        return this.varsigma(t);
      case 'inverse':
        return this.inverse(t);
    }
  }
  override linearFeedback(mode: FeedbackMode): boolean {
    return mode.activation === 'linear';
  }
  override transposeFeedback(mode: FeedbackMode): boolean {
    return mode.activation === 'linear';
  }
  /** LeakyReLU is piecewise linear: sigma(x + dx) - sigma(x) is formed without cancellation. */
  override forwardDiff(x: Tensor, dx: Tensor, c: Cache): Tensor {
    if (this.fn === 'leaky_relu') return leakyReluDiff(x, dx, this.param);
    if (this.fn === 'identity') return dx.clone();
    return super.forwardDiff(x, dx, c);
  }
  /**
   * varsigma(h + d) - varsigma(h) formed without cancellation (subtracting two varsigma values
   * loses float32 precision as beta, and so d, shrinks): piecewise linear for LeakyReLU, piecewise
   * quadratic for ELU (native kernels), cubic for tanh.
   */
  override feedbackDiff(h: Tensor, d: Tensor, c: Cache, mode: FeedbackMode, needPoint = true): [Tensor | null, Tensor] {
    const diff = mode.activation === 'integral' ? this.varsigmaDiff(h, d) : null;
    if (!diff) return super.feedbackDiff(h, d, c, mode, needPoint);
    return [needPoint ? this.varsigma(h) : null, diff];
  }
  private varsigmaDiff(h: Tensor, d: Tensor): Tensor | null {
    switch (this.fn) {
      case 'leaky_relu':
        return leakyReluDiff(h, d, this.param);
      case 'elu':
        return eluVarsigmaDiff(h, d, this.param);
      case 'tanh':
        // varsigma = y - y^3/3 on [-1, 1]: with u = c(h), v = c(h + d) = u + dc (c the clamp,
        // dc = d exactly inside), varsigma(v) - varsigma(u) = dc (1 - (u^2 + uv + v^2) / 3)
        return tidy(() => {
          const u = h.clamp(-1, 1);
          const inside = h.abs().lt(1);
          const dc = where(inside, d.maximum(h.neg().sub(1)).minimum(h.neg().add(1)), h.add(d).clamp(-1, 1).sub(u));
          const v = u.add(dc);
          return dc.mul(u.square().add(u.mul(v)).add(v.square()).div(-3).add(1));
        });
      case 'identity':
        return d.clone();
      default:
        return null;
    }
  }
  override checkMode(mode: FeedbackMode): void {
    const closed: ActivationName[] = ['leaky_relu', 'elu', 'tanh', 'identity'];
    if ((mode.activation === 'integral' || mode.activation === 'inverse') && !closed.includes(this.fn))
      throw new Error(`activation '${this.fn}' has no closed-form '${mode.activation}' feedback; use one of ${closed.join(', ')} or the 'linear' mode`);
  }
  /** varsigma(y) for each supported sigma (eq. 27). */
  private varsigma(y: Tensor): Tensor {
    const a = this.param;
    return tidy(() => {
      switch (this.fn) {
        case 'leaky_relu': // sigma'(sigma^-1(y)) = 1 (y > 0), a (y < 0): varsigma is LeakyReLU itself
          return activation('leaky_relu', y, a);
        case 'elu': {
          // sigma'(sigma^-1(y)) = alpha + y for -alpha < y < 0: varsigma = alpha y + y^2 / 2, flat below -alpha
          const yc = y.clamp(-a, null);
          return where(y.gt(0), y, yc.mul(a).add(yc.square().mul(0.5)));
        }
        case 'tanh': {
          // sigma'(sigma^-1(y)) = 1 - y^2: varsigma = y - y^3 / 3 on [-1, 1]
          const yc = y.clamp(-1, 1);
          return yc.sub(yc.pow(3).div(3));
        }
        default:
          return y.clone();
      }
    });
  }
  private inverse(y: Tensor): Tensor {
    const a = this.param;
    return tidy(() => {
      switch (this.fn) {
        case 'leaky_relu':
          return where(y.gt(0), y, y.div(a));
        case 'elu':
          return where(y.gt(0), y, y.div(a).add(1).clamp(1e-6, null).log());
        case 'tanh': {
          const yc = y.clamp(-1 + 1e-6, 1 - 1e-6);
          return yc.add(1).div(yc.neg().add(1)).log().mul(0.5);
        }
        default:
          return y.clone();
      }
    });
  }
  /** scalingDTP's parametric feedback applies the same nonlinearity on the feedback path. */
  override learnable(_init: FeedbackInit): LearnedFeedback<Cache> {
    return { params: [], apply: (t) => activation(this.fn, t, this.param), weightPairs: [] };
  }
  override describe(): string {
    return this.fn;
  }
}
