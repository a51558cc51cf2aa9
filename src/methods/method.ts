// One interface for every training method. A method turns a batch into parameter updates;
// `gradients` gives the update direction without applying it (used for BP-angle diagnostics).
import { OptimizerSpec, Tensor } from '../engine';
import { FeedbackInit, FeedbackMode } from '../layers';

export const METHODS = ['bp', 'tjml', 'tjml-exact', 'ijml', 'pjml', 'ldrl', 'fwdtp', 'dtp', 'drl'] as const;
export type MethodName = (typeof METHODS)[number];

export interface FeedbackTraining {
  /** Feedback updates per batch, per block (a number applies to all blocks). */
  iterations: number | number[];
  /** Feedback learning rate per block. */
  lr: number | number[];
  /**
   * Feedback optimizer: 'sgd' (with `momentum`; default) or 'adam', which Meulemans et al. use
   * for DTP/DRL: their losses are means over all elements, so SGD steps shrink with layer size.
   */
  optimizer?: 'sgd' | 'adam' | { kind: 'sgd' | 'adam' };
  /** Noise scale sigma per block. */
  sigma: number | number[];
  momentum: number;
  /** Initialisation of the parametric feedback. */
  init: FeedbackInit;
  /**
   * The top block's feedback: 'gradient' (its exact J^T, never trained: the penultimate target is
   * the gradient step h_{N-1} - beta dL/dh_{N-1}, as in Lee et al. 2015's DTP, Algorithm 1) or
   * 'learned'. Default: 'gradient' for dtp, 'learned' for the others.
   */
  topTarget?: 'gradient' | 'learned';
  /** Epochs of feedback-only training before the first forward update (Meulemans et al.'s epochs_fb). */
  pretrainEpochs?: number;
}

export interface MethodConfig {
  method: MethodName;
  /** Forward learning rate (the schedule scales it per epoch). */
  lr: number;
  optimizer: OptimizerSpec;
  /** Nudging strength of the first target t_N = h_N - beta dL/dh_N. */
  beta: number;
  /** Analytical feedback variant; defaults from the method name. */
  feedbackMode?: FeedbackMode;
  /** Learned-feedback settings (ldrl, dtp, drl; fwdtp uses only `init`). */
  feedback?: FeedbackTraining;
}

export interface StepResult {
  loss: number;
  correct: number;
  n: number;
  /** Milliseconds spent training feedback functions in this step. */
  feedbackMs: number;
  /** Milliseconds spent on targets and forward updates. */
  forwardMs: number;
}

export interface Gradients {
  /** One gradient per parameter of each block (null: unused). */
  perBlock: (Tensor | null)[][];
  logits: Tensor;
  loss: Tensor;
}

export interface Method {
  readonly name: MethodName;
  /** One training step on a batch (feedback training, then the forward update). */
  step(x: Tensor, y: Tensor): StepResult;
  /** The forward update direction for a batch, in gradient units; changes nothing. */
  gradients(x: Tensor, y: Tensor, beta?: number): Gradients;
  /** Sets the forward learning rate (schedules). */
  setLr(lr: number): void;
  /** Tensors to checkpoint beyond the network (feedback weights). */
  extraParams(): Tensor[];
  /** Optimizer states, for checkpoints. */
  optimizerState(): Float32Array[][];
  loadOptimizerState(s: Float32Array[][]): void;
  dispose(): void;
}

/** Per-block value from a number or an array (validated length). */
export function perBlock(v: number | number[], n: number, what: string): number[] {
  if (typeof v === 'number') return new Array(n).fill(v);
  if (v.length !== n) throw new Error(`${what}: expected ${n} values (one per block), got ${v.length}`);
  return v;
}
