// targetprop's public API. The engine (tensors, scopes, optimizers, schedules) and the pieces a
// network is built from (layers, models, methods) are exported flat, as are the training and I/O
// entry points; each area is also a namespace (`models.mlp`, `data.loadDataset`, ...).
//
//   import { fit, models, createMethod, saveModel, loadModel, evaluate } from 'targetprop';

// engine: Tensor, tensor(), tidy(), keep/dispose, ops, optimizers, schedules, threads, devices info
export * from './engine';
// layers: Layer (the class to extend), Linear, Conv2d, MaxPool2d, Activation, LayerNorm, Residual, Sequential, ...
export * from './layers';
// methods: createMethod, METHODS, Method and its configs (bp, tjml, tjml-exact, ijml, pjml, ldrl, fwdtp, dtp, drl)
export { createMethod, isMethod, METHODS } from './methods';
export type { Method, MethodName, MethodConfig, FeedbackTraining, StepResult, Gradients } from './methods';
// models: Network, buildModel, the registry, and saving / loading trained networks (safetensors)
export { Network, buildModel, MODELS, hiddenBlock, saveModel, loadModel, loadWeights, readSafetensors } from './models';
export type { ModelName, ModelMeta } from './models';
// training: the shared loop for any network (fit), the config-driven run (train), evaluation
export { fit, train, DivergenceGuard } from './experiments/train';
export type { FitOptions, TrainOptions, RunResult, EpochMetrics, Splits } from './experiments/train';
export { validateConfig, runKey, TRAIN_DEFAULTS } from './experiments/config';
export type { TrainConfig } from './experiments/config';
export { evaluate, predict } from './experiments/evaluate';
// data: datasets (verified), the seeded loader
export { loadDataset, subset, trainValSplit, classCounts, DATASETS, SPECS } from './data/datasets';
export type { Dataset, DatasetName, Split } from './data/datasets';
export { BatchLoader, NO_AUGMENT } from './data/loader';
export type { Augment, Batch, LoaderOptions } from './data/loader';
// diagnostics: angles to BP, Jacobian matching
export { bpAngles, weightAngles, angleDeg } from './diagnostics/angles';
export { blockTJML, blockAlignment, jmlEstimates } from './diagnostics/jml';
// results store
export { Store } from './store/store';
export type { RunRow, EpochRow } from './store/store';
export { exportRuns, importRuns, readExports } from './store/export';

export * as models from './models';
export * as methods from './methods';
export * as layers from './layers';
export * as data from './data/datasets';
export * as diagnostics from './diagnostics/angles';
