// Conv2d. Analytical feedback: transposed convolution with the same weight and no bias
// (the 180-degree rotated kernel; equals the conv's input VJP exactly). It runs as the conv's
// input-gradient kernel (convolution_backward), which libtorch's CPU build executes ~5x faster
// than conv_transpose2d for these shapes (measured: 13 vs 68 ms, LeNet conv2 at batch 256).
import { Tensor, conv2d, conv2dBackward } from '../engine';
import { FeedbackInit, FeedbackMode, Layer, LearnedFeedback, initBound, param } from './layer';

interface Cache {
  /** The forward input: its shape fixes the output size of the transposed conv. */
  x: Tensor;
}

export class Conv2d extends Layer<Cache> {
  readonly kind = 'conv2d';
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly cin: number, readonly cout: number, readonly k: number, readonly stride = 1, readonly padding = 0, bias = true) {
    super();
    const bound = 1 / Math.sqrt(cin * k * k);
    this.weight = param([cout, cin, k, k], bound);
    this.bias = bias ? param([cout], bound) : null;
  }
  override params(): Tensor[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }
  override namedParams(): [string, Tensor][] {
    return this.bias ? [['weight', this.weight], ['bias', this.bias]] : [['weight', this.weight]];
  }
  forward(x: Tensor): [Tensor, Cache] {
    if (x.rank !== 4 || x.shape[1] !== this.cin)
      throw new Error(`conv2d expects [B, ${this.cin}, H, W], got [${x.shape.join(', ')}]`);
    return [conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding }), { x }];
  }
  /** conv_transpose2d(t, w) sized to the forward input. */
  private transposed(t: Tensor, w: Tensor, c: Cache): Tensor {
    return conv2dBackward(t, c.x, w, { stride: this.stride, padding: this.padding, need: [true, false, false] })[0]!;
  }
  feedback(t: Tensor, c: Cache, mode: FeedbackMode): Tensor {
    this.checkMode(mode);
    return this.transposed(t, this.weight, c);
  }
  override transposeFeedback(mode: FeedbackMode): boolean {
    return mode.linear === 'transpose';
  }
  override checkMode(mode: FeedbackMode): void {
    if (mode.linear !== 'transpose')
      throw new Error(`conv2d has no '${mode.linear}' feedback (inverse/pseudo-inverse are defined for linear layers only)`);
  }
  /** ConvTranspose2d(cout -> cin) with its own weight and bias (scalingDTP's feedback conv). */
  override learnable(init: FeedbackInit): LearnedFeedback<Cache> {
    // the ConvTranspose2d's default fan-in (its weight's dim 1 x k x k) is the forward conv's
    const bound = initBound(init, this.cin * this.k * this.k, this.cin * this.k * this.k);
    const w = param([this.cout, this.cin, this.k, this.k], bound);
    const b = param([this.cin], bound);
    return {
      params: [w, b],
      apply: (t, c) => this.transposed(t, w, c).add(b.reshape([1, this.cin, 1, 1])),
      weightPairs: [[this.weight, w, false]],
    };
  }
  override describe(): string {
    return `conv${this.k}x${this.k}(${this.cin}->${this.cout}${this.stride > 1 ? `, s${this.stride}` : ''}${this.padding ? `, p${this.padding}` : ''})`;
  }
}
