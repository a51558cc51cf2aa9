// Conv2d. Analytical feedback: transposed convolution with the same weight and no bias
// (the 180-degree rotated kernel; equals the conv's input VJP exactly).
import { Tensor, conv2d, convTranspose2d } from '../engine';
import { FeedbackInit, FeedbackMode, Layer, LearnedFeedback, initBound, param } from './layer';

interface Cache {
  inSize: [number, number];
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
  forward(x: Tensor): [Tensor, Cache] {
    if (x.rank !== 4 || x.shape[1] !== this.cin)
      throw new Error(`conv2d expects [B, ${this.cin}, H, W], got [${x.shape.join(', ')}]`);
    return [conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding }), { inSize: [x.shape[2], x.shape[3]] }];
  }
  /** Extra rows a strided transposed conv needs to restore the input size. */
  private outputPadding(t: Tensor, c: Cache): number {
    const full = (t.shape[2] - 1) * this.stride - 2 * this.padding + this.k;
    return c.inSize[0] - full;
  }
  feedback(t: Tensor, c: Cache, mode: FeedbackMode): Tensor {
    this.checkMode(mode);
    return convTranspose2d(t, this.weight, null, { stride: this.stride, padding: this.padding, outputPadding: this.outputPadding(t, c) });
  }
  override checkMode(mode: FeedbackMode): void {
    if (mode.linear !== 'transpose')
      throw new Error(`conv2d has no '${mode.linear}' feedback (inverse/pseudo-inverse are defined for linear layers only)`);
  }
  /** ConvTranspose2d(cout -> cin) with its own weight and bias (scalingDTP's feedback conv). */
  override learnable(init: FeedbackInit): LearnedFeedback<Cache> {
    const bound = initBound(init, this.cin * this.k * this.k);
    const w = param([this.cout, this.cin, this.k, this.k], bound);
    const b = param([this.cin], bound);
    return {
      params: [w, b],
      apply: (t, c) => convTranspose2d(t, w, b, { stride: this.stride, padding: this.padding, outputPadding: this.outputPadding(t, c) }),
      weightPairs: [[this.weight, w, false]],
    };
  }
  override describe(): string {
    return `conv${this.k}x${this.k}(${this.cin}->${this.cout}${this.stride > 1 ? `, s${this.stride}` : ''}${this.padding ? `, p${this.padding}` : ''})`;
  }
}
