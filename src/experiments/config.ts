// A training run's config: its fields and defaults, the checks that reject a bad one before any
// data loads, and its identity (the key a rerun resumes under).
import { createHash } from 'node:crypto';
import { OptimizerSpec, Schedule, defaultDevice, setDefaultDevice } from '../engine';
import { DatasetName, spec } from '../data/datasets';
import { FeedbackTraining, MethodConfig, isMethod, METHODS } from '../methods';
import { checkModelConfig, MODELS, ModelName } from '../models';
import { FeedbackMode } from '../layers';
import { checkTrainConfig } from './schema';

export interface TrainConfig {
  /** Label for reports (defaults to model/data/method). */
  name?: string;
  /** Free labels shown by `targetprop runs` (like the name, not part of the run's identity). */
  tags?: string[];
  /**
   * cpu, cuda, cuda:N or auto (CUDA when available); default TARGETPROP_DEVICE, else cpu. The
   * network, optimizer and feedback state, batches and evaluation live there. Like the thread
   * count, not part of the run's identity: the run records each device it ran on.
   */
  device?: string;
  model: string;
  modelConfig?: Record<string, unknown>;
  data: DatasetName;
  method: MethodConfig['method'];
  epochs: number;
  batchSize: number;
  lr: number;
  beta: number;
  optimizer: OptimizerSpec;
  schedule: Schedule;
  feedback?: Partial<FeedbackTraining>;
  feedbackMode?: FeedbackMode;
  seed: number;
  augment: boolean;
  /** Use only the first N training / test examples (quick runs). */
  trainSubset?: number;
  testSubset?: number;
  /**
   * Hold out this many training examples as validation. Without earlyStop the epochs' held-out
   * accuracy is on it (sweeps rank on it; the test set is not looked at).
   */
  valSize?: number;
  /**
   * Early stopping on the validation split (needs valSize): training ends once validation
   * accuracy has not improved for `patience` epochs, and the run reports the train and test
   * accuracy of its best-validation epoch. Test is then evaluated every epoch beside val.
   */
  earlyStop?: { patience: number };
  /** BP-angle / weight-angle diagnostics every N epochs (0: off). */
  diagnosticsEvery: number;
  diagnosticsBeta: number;
}

export const TRAIN_DEFAULTS: TrainConfig = {
  model: 'lenet',
  data: 'mnist',
  method: 'tjml',
  epochs: 1,
  batchSize: 128,
  lr: 0.05,
  beta: 0.01,
  optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 1e-4 },
  schedule: { kind: 'cosine', tMax: 85, etaMin: 1e-5 },
  seed: 0,
  augment: false,
  trainSubset: 10000,
  testSubset: 2000,
  diagnosticsEvery: 1,
  diagnosticsBeta: 0.01,
};

/** Rejects bad configs with a message naming the field, before any data is loaded. */
export function validateConfig(c: TrainConfig): void {
  const bad = (m: string) => {
    throw new Error(`invalid config: ${m}`);
  };
  try {
    checkTrainConfig(c);
  } catch (e) {
    bad((e as Error).message);
  }
  if (!isMethod(c.method)) bad(`unknown method '${c.method}' (expected one of: ${METHODS.join(', ')})`);
  if (!Object.hasOwn(MODELS, c.model)) bad(`unknown model '${c.model}' (expected one of: ${Object.keys(MODELS).join(', ')})`);
  try {
    checkModelConfig(c.model as ModelName, c.modelConfig ?? {});
  } catch (e) {
    bad((e as Error).message);
  }
  const counts = spec(c.data).counts;
  if (!(Number.isInteger(c.epochs) && c.epochs > 0)) bad(`epochs must be a positive integer, got ${c.epochs}`);
  if (!(Number.isInteger(c.batchSize) && c.batchSize > 0)) bad(`batch size must be a positive integer, got ${c.batchSize}`);
  if (!(c.lr > 0)) bad(`lr must be > 0, got ${c.lr}`);
  if (c.method !== 'bp' && !(c.beta > 0)) bad(`beta must be > 0, got ${c.beta}`);
  for (const k of ['trainSubset', 'testSubset', 'valSize'] as const)
    if (c[k] !== undefined && !(Number.isInteger(c[k]) && c[k]! > 0)) bad(`${k} must be a positive integer, got ${c[k]}`);
  // a subset larger than the split would train on all of it under a config that says otherwise
  if (c.trainSubset !== undefined && c.trainSubset > counts.train)
    bad(`trainSubset ${c.trainSubset} is more than ${c.data}'s ${counts.train} training images (leave it unset, --full-data, for all)`);
  if (c.testSubset !== undefined && c.testSubset > counts.test)
    bad(`testSubset ${c.testSubset} is more than ${c.data}'s ${counts.test} test images (leave it unset, --full-data, for all)`);
  const nTrain = c.trainSubset ?? counts.train;
  if (c.valSize !== undefined && c.valSize >= nTrain) bad(`valSize ${c.valSize} leaves no training images (of ${nTrain}); hold out fewer`);
  if (c.device !== undefined) {
    // CUDA asked of a CPU-only build (or a machine without a GPU) fails here, before any data loads
    const before = defaultDevice();
    try {
      setDefaultDevice(c.device);
    } catch (e) {
      bad(`${(e as Error).message.replace(/^setDefaultDevice\(\): /, '')}`);
    } finally {
      setDefaultDevice(before);
    }
  }
  if (c.earlyStop) {
    if (!c.valSize) bad('earlyStop needs a validation split (valSize, --val N) to stop on');
    if (!(Number.isInteger(c.earlyStop.patience) && c.earlyStop.patience > 0)) bad(`earlyStop.patience must be a positive integer, got ${c.earlyStop.patience}`);
  }
}

/** JSON with object keys sorted at every depth, so equal configs hash equally. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** A short hash of a value's canonical JSON: the key a run is stored and resumed under. */
export function identityKey(v: unknown): string {
  return createHash('sha1').update(canonical(v)).digest('hex').slice(0, 20);
}

/** Identity of a run for resuming: everything that changes its result (not its name or logging). */
export function runKey(c: TrainConfig): string {
  const { name: _n, tags: _t, device: _v, diagnosticsEvery: _d, ...rest } = c;
  return identityKey(rest);
}

/** A config's leaf fields by dotted path ('optimizer.kind'), their values as JSON. */
function leaves(v: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) leaves(x, prefix ? `${prefix}.${k}` : k, out);
  else out[prefix] = JSON.stringify(v);
  return out;
}

/** The fields (other than `skipped`) where config c differs from some config of its group. */
export function configDiff(c: TrainConfig, group: TrainConfig[], skipped = ['lr', 'beta', 'seed', 'name']): string {
  const mine = leaves(c);
  const all = group.map((g) => leaves(g));
  const keys = new Set(all.flatMap((a) => Object.keys(a)));
  const skip = new Set(skipped);
  return [...keys]
    .filter((k) => !skip.has(k) && all.some((a) => a[k] !== mine[k]))
    .sort()
    .map((k) => `${k}=${mine[k] ?? (k === 'trainSubset' || k === 'testSubset' ? 'all' : 'unset')}`)
    .join(', ');
}
