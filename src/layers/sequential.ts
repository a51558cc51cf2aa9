// Composition F = F_k o ... o F_1. Its analytical feedback applies the layers' feedbacks in
// reverse order, G = G_1 o ... o G_k (eq. 41); the same holds for learned feedbacks.
import { Tensor } from '../engine';
import { FeedbackInit, FeedbackMode, Layer, LearnedFeedback } from './layer';

export class Sequential extends Layer<unknown[]> {
  readonly kind = 'sequential';
  constructor(readonly layers: Layer[]) {
    super();
    if (!layers.length) throw new Error('sequential: needs at least one layer');
  }
  override params(): Tensor[] {
    return this.layers.flatMap((l) => l.params());
  }
  forward(x: Tensor): [Tensor, unknown[]] {
    const caches: unknown[] = [];
    let h = x;
    for (const l of this.layers) {
      const [y, c] = l.forward(h);
      caches.push(c);
      h = y;
    }
    return [h, caches];
  }
  feedback(t: Tensor, caches: unknown[], mode: FeedbackMode): Tensor {
    let g = t;
    for (let i = this.layers.length - 1; i >= 0; i--) g = this.layers[i].feedback(g, caches[i], mode);
    return g;
  }
  override linearFeedback(mode: FeedbackMode): boolean {
    return this.layers.every((l) => l.linearFeedback(mode));
  }
  override feedbackDiff(h: Tensor, d: Tensor, caches: unknown[], mode: FeedbackMode, needPoint = true): [Tensor | null, Tensor] {
    let point: Tensor | null = h;
    let diff = d;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      // Layer i's output point is needed only if a layer below it (or the caller) uses points.
      // Once no point is carried, every layer left is linear (that is why it was dropped).
      if (!point) {
        diff = this.layers[i].feedback(diff, caches[i], mode);
        continue;
      }
      const below = needPoint || this.layers.slice(0, i).some((l) => !l.linearFeedback(mode));
      [point, diff] = this.layers[i].feedbackDiff(point, diff, caches[i], mode, below);
    }
    return [point, diff];
  }
  override invertsExactly(mode: FeedbackMode): boolean {
    return this.layers.every((l) => l.invertsExactly(mode));
  }
  override checkMode(mode: FeedbackMode): void {
    for (const l of this.layers) l.checkMode(mode);
  }
  override learnable(init: FeedbackInit): LearnedFeedback<unknown[]> {
    const parts = this.layers.map((l) => l.learnable(init));
    return {
      params: parts.flatMap((p) => p.params),
      apply: (t, caches) => {
        let g = t;
        for (let i = parts.length - 1; i >= 0; i--) g = parts[i].apply(g, caches[i]);
        return g;
      },
      weightPairs: parts.flatMap((p) => p.weightPairs),
    };
  }
  override describe(): string {
    return this.layers.map((l) => l.describe()).join(' -> ');
  }
}
