// TJML-DTP (the paper's Algorithm 2) and its IJML/PJML/exact variants: every feedback is the
// analytical one of its layers, set from the current forward weights; nothing is trained.
import { FEEDBACK_MODES, FeedbackMode, SequentialCache } from '../layers';
import { Tensor } from '../engine';
import { Network } from '../models/network';
import { MethodConfig, MethodName } from './method';
import { BlockFeedback, TargetProp } from './tp';

const DEFAULT_MODE: Partial<Record<MethodName, FeedbackMode>> = {
  tjml: FEEDBACK_MODES.tjml,
  'tjml-exact': FEEDBACK_MODES.exact,
  ijml: FEEDBACK_MODES.ijml,
  pjml: FEEDBACK_MODES.pjml,
};

/** Whether a method sets every feedback analytically (TJML and its variants). */
export function isAnalytical(name: MethodName): boolean {
  return DEFAULT_MODE[name] !== undefined;
}

export class AnalyticalTP extends TargetProp {
  readonly mode: FeedbackMode;
  protected feedbackFn: BlockFeedback;
  constructor(name: MethodName, net: Network, cfg: MethodConfig) {
    super(name, net, cfg);
    const mode = cfg.feedbackMode ?? DEFAULT_MODE[name];
    if (!mode) throw new Error(`${name} is not an analytical-feedback method`);
    this.mode = mode;
    // Blocks 1..N-1 feed targets back; fail now, not mid-epoch, if one has no such feedback.
    net.blocks.forEach((b, n) => {
      if (n === 0) return;
      try {
        b.checkMode(mode);
      } catch (e) {
        throw new Error(`${name} on ${net.name}, block ${n} (${b.describe()}): ${(e as Error).message}`);
      }
    });
    this.feedbackFn = (n, h, d, c, vjp) => this.net.blocks[n].feedbackDiff(h, d, c as SequentialCache, this.mode, false, vjp)[1];
  }
  protected override offsetIsVjp(n: number): boolean {
    return this.net.blocks[n].transposeFeedback(this.mode);
  }
  protected override vjpPoints(n: number, cache: unknown): Tensor[] {
    return this.net.blocks[n].vjpPoints(cache as SequentialCache, this.mode);
  }
}
