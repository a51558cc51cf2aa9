// Composition F = F_k o ... o F_1. Its analytical feedback applies the layers' feedbacks in
// reverse order, G = G_1 o ... o G_k (eq. 41); the same holds for learned feedbacks.
import { Tensor } from '../engine';
import { FeedbackInit, FeedbackMode, Layer, prefixed, LearnedFeedback, VjpAt } from './layer';

/** Each layer's cache and each layer's input (a forward tensor, with its graph, for vjpPoints). */
export interface SequentialCache {
  layers: unknown[];
  inputs: Tensor[];
}

export class Sequential extends Layer<SequentialCache> {
  readonly kind = 'sequential';
  constructor(readonly layers: Layer[]) {
    super();
    if (!layers.length) throw new Error('sequential: needs at least one layer');
  }
  override params(): Tensor[] {
    return this.layers.flatMap((l) => l.params());
  }
  override namedParams(): [string, Tensor][] {
    return this.layers.flatMap((l, i) => prefixed(`${i}.`, l.namedParams()));
  }
  forward(x: Tensor): [Tensor, SequentialCache] {
    const c: SequentialCache = { layers: [], inputs: [] };
    let h = x;
    for (const l of this.layers) {
      c.inputs.push(h);
      const [y, lc] = l.forward(h);
      c.layers.push(lc);
      h = y;
    }
    return [h, c];
  }
  /** Each layer's difference at its cached input, bottom first. */
  override forwardDiff(_x: Tensor, dx: Tensor, c: SequentialCache): Tensor {
    return this.layers.reduce((d, l, i) => l.forwardDiff(c.inputs[i], d, c.layers[i]), dx);
  }
  feedback(t: Tensor, c: SequentialCache, mode: FeedbackMode): Tensor {
    return this.feedbackThrough(t, c, mode, this.layers.length, 0);
  }
  /** Layers [from-1 .. to]'s feedbacks applied to t, top first. */
  private feedbackThrough(t: Tensor, c: SequentialCache, mode: FeedbackMode, from: number, to: number): Tensor {
    let g = t;
    for (let i = from - 1; i >= to; i--) g = this.layers[i].feedback(g, c.layers[i], mode);
    return g;
  }
  override linearFeedback(mode: FeedbackMode): boolean {
    return this.layers.every((l) => l.linearFeedback(mode));
  }
  override transposeFeedback(mode: FeedbackMode): boolean {
    return this.layers.every((l) => l.transposeFeedback(mode));
  }
  /** Index of the lowest layer of the top run whose feedbacks are all J^T (length if none). */
  private transposeRunStart(mode: FeedbackMode): number {
    let i = this.layers.length;
    while (i > 0 && this.layers[i - 1].transposeFeedback(mode)) i--;
    return i;
  }
  override vjpPoints(c: SequentialCache, mode: FeedbackMode): Tensor[] {
    const k = this.layers.length;
    const i = this.transposeRunStart(mode);
    if (i === k) return this.layers[k - 1].vjpPoints(c.layers[k - 1], mode);
    return i > 0 ? [c.inputs[i]] : [];
  }
  override feedbackDiff(h: Tensor, d: Tensor, c: SequentialCache, mode: FeedbackMode, needPoint = true, vjp?: VjpAt): [Tensor | null, Tensor] {
    const k = this.layers.length;
    const pointBelow = (i: number) => needPoint || this.layers.slice(0, i).some((l) => !l.linearFeedback(mode));
    let point: Tensor | null = h;
    let diff = d;
    let i = k - 1;
    // The top J^T run's difference is the VJP at its input, when the caller has it.
    const run = vjp ? this.transposeRunStart(mode) : k;
    const known = run < k ? vjp?.get(c.inputs[run]) : undefined;
    if (known) {
      diff = known;
      point = pointBelow(run) ? this.feedbackThrough(h, c, mode, k, run) : null;
      i = run - 1;
    }
    for (; i >= 0; i--) {
      // Layer i's output point is needed only if a layer below it (or the caller) uses points.
      // Once no point is carried, every layer left is linear (that is why it was dropped).
      if (!point) {
        diff = this.layers[i].feedback(diff, c.layers[i], mode);
        continue;
      }
      // Only the top layer can hold vjpPoints (they lie on the top run's path).
      [point, diff] = this.layers[i].feedbackDiff(point, diff, c.layers[i], mode, pointBelow(i), i === k - 1 ? vjp : undefined);
    }
    return [point, diff];
  }
  override checkMode(mode: FeedbackMode): void {
    for (const l of this.layers) l.checkMode(mode);
  }
  override learnable(init: FeedbackInit): LearnedFeedback<SequentialCache> {
    const parts = this.layers.map((l) => l.learnable(init));
    return {
      params: parts.flatMap((p) => p.params),
      apply: (t, c) => {
        let g = t;
        for (let i = parts.length - 1; i >= 0; i--) g = parts[i].apply(g, c.layers[i]);
        return g;
      },
      weightPairs: parts.flatMap((p) => p.weightPairs),
      // Only when a part forms its own difference: chained differences, the points carried down.
      diff: parts.some((p) => p.diff)
        ? (h, d, c) => {
            let point = h;
            let diff = d;
            for (let i = parts.length - 1; i >= 0; i--) {
              const p = parts[i];
              const below = i > 0 || !p.diff ? p.apply(point, c.layers[i]) : null;
              diff = p.diff ? p.diff(point, diff, c.layers[i]) : p.apply(point.add(diff), c.layers[i]).sub(below!);
              if (below) point = below;
            }
            return diff;
          }
        : undefined,
    };
  }
  override describe(): string {
    return this.layers.map((l) => l.describe()).join(' -> ');
  }
}
