// Shape-only layers: their Jacobian is a permutation, so G* is the inverse reshuffle.
import { Tensor } from '../engine';
import { FeedbackMode, Layer } from './layer';

/** A permutation (or averaging) layer: its feedback is J^T in every mode. */
abstract class ShapeLayer<C> extends Layer<C> {
  /** F is linear: F(x + dx) - F(x) = F(dx). */
  override forwardDiff(_x: Tensor, dx: Tensor, _c: C): Tensor {
    return this.forward(dx)[0];
  }
  override transposeFeedback(_m: FeedbackMode): boolean {
    return true;
  }
}

/** [B, ...] -> [B, prod(...)] */
export class Flatten extends ShapeLayer<number[]> {
  readonly kind = 'flatten';
  forward(x: Tensor): [Tensor, number[]] {
    return [x.flatten(1), x.shape];
  }
  feedback(t: Tensor, shape: number[], _m: FeedbackMode): Tensor {
    return t.reshape(shape);
  }
}

/** Conv features [B, C, H, W] -> tokens [B, H*W, C] (patch embedding output). */
export class ToTokens extends ShapeLayer<number[]> {
  readonly kind = 'to-tokens';
  forward(x: Tensor): [Tensor, number[]] {
    const [b, c, h, w] = x.shape;
    return [x.reshape([b, c, h * w]).transpose(1, 2).contiguous(), x.shape];
  }
  feedback(t: Tensor, shape: number[], _m: FeedbackMode): Tensor {
    return t.transpose(1, 2).reshape(shape);
  }
}

/** Swaps two dimensions (token mixing works on [B, C, T]). */
export class Transpose extends ShapeLayer<null> {
  readonly kind = 'transpose';
  constructor(readonly a: number, readonly b: number) {
    super();
  }
  forward(x: Tensor): [Tensor, null] {
    return [x.transpose(this.a, this.b), null];
  }
  feedback(t: Tensor, _c: null, _m: FeedbackMode): Tensor {
    return t.transpose(this.a, this.b);
  }
}

/** Mean over tokens [B, T, C] -> [B, C]. G*(t) = (1/T) 1 t (eqs. 36-37), exactly J^T. */
export class TokenMean extends ShapeLayer<number> {
  readonly kind = 'token-mean';
  forward(x: Tensor): [Tensor, number] {
    return [x.mean([1]), x.shape[1]];
  }
  feedback(t: Tensor, tokens: number, _m: FeedbackMode): Tensor {
    const [b, c] = t.shape;
    return t.div(tokens).reshape([b, 1, c]).expand([b, tokens, c]);
  }
}
