// Element-wise activation sigma. J = J^T = diag(sigma'(z)), so the analytical feedbacks are:
//   integral  varsigma(y) = \int sigma'(sigma^-1(y)) dy  (eq. 27): varsigma'(y) matches J^T at
//             y = sigma(z) exactly, and needs no cached state;
//   hadamard  sigma(sigma'(z) * t)                        (eq. 29);
//   linear    sigma'(z) * t                               (exact J^T, linear in t);
//   inverse   sigma^-1(t)                                 (IJML/PJML).
import { ActivationName, Tensor, activation, activationDerivative, leakyReluDiff, tidy, where } from '../engine';
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
        return tidy(() => activationDerivative(this.fn, c.z, this.param).mul(t));
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
  /** LeakyReLU's varsigma is piecewise linear: its difference is formed without cancellation. */
  override feedbackDiff(h: Tensor, d: Tensor, c: Cache, mode: FeedbackMode, needPoint = true): [Tensor | null, Tensor] {
    if (mode.activation !== 'integral' || this.fn !== 'leaky_relu') return super.feedbackDiff(h, d, c, mode, needPoint);
    return [needPoint ? activation('leaky_relu', h, this.param) : null, leakyReluDiff(h, d, this.param)];
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
