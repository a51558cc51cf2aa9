// One training run: config -> validated setup -> epochs (progress bar, metrics, diagnostics,
// checkpoint per epoch in the store) -> final accuracies. Re-running the same config resumes.
import { execSync } from 'node:child_process';
import { Schedule, Tensor, blasChoice, blasInfo, defaultDevice, gpuName, setDefaultDevice, getNumThreads, lrAt, manualSeed, noGrad, now, tensor, tick, tidy } from '../engine';
import { Augment, BatchLoader, NO_AUGMENT } from '../data/loader';
import { Dataset, DatasetName, Split, loadDataset, spec, subset, trainValSplit } from '../data/datasets';
import { FeedbackTraining, Method, MethodConfig, createMethod } from '../methods';
import { LearnedTP } from '../methods/learned';
import { ModelMeta, Network, buildModel, saveModel } from '../models';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bpAngles, weightAngles } from '../diagnostics/angles';
import { blockAlignment, blockTJML } from '../diagnostics/jml';
import { TargetProp } from '../methods/tp';
import { Progress } from '../cli/progress';
import { EpochRow, RunRow, Store, packArrays, unpackArrays } from '../store/store';
import { TRAIN_DEFAULTS, TrainConfig, identityKey, runKey, validateConfig } from './config';
import { evaluate } from './evaluate';

export interface RunResult {
  runId: number | null;
  trainAcc: number;
  testAcc: number;
  epochs: EpochMetrics[];
}
export interface EpochMetrics {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAcc: number;
  testLoss: number;
  testAcc: number;
  feedbackS: number;
  forwardS: number;
  imgPerS: number;
  bpAngles?: number[];
  weightAngles?: { angle: number; distance: number }[];
  /** Relative TJML of each block's feedback as used (see diagnostics/jml.ts blockTJML). */
  tjml?: number[];
  /** cos(v, J_F J_G v) per block: whether feedback and forward agree in direction (blockAlignment). */
  alignment?: number[];
  /** Validation accuracy (early-stopping runs, where testAcc is on the test set). */
  valAcc?: number;
  /** The run's first training loss (epoch 0 only): the reference divergence is judged against, kept for resumes. */
  initialLoss?: number;
  /**
   * Wall seconds of the whole epoch: training, evaluation and diagnostics (the checkpoint write
   * aside). `targetprop runs` estimates an unfinished run's time left from it.
   */
  epochS?: number;
}

/** How far above the run's first loss the running loss may rise before the run counts as diverged. */
export const DIVERGENCE_FACTOR = 10;

/**
 * Divergence, checked every step: a non-finite loss at once, and a finite explosion once the
 * loss's running mean (EMA, weight 0.2, so one noisy batch does not end a run) exceeds
 * DIVERGENCE_FACTOR times the run's first loss (a fresh network's loss is about ln(classes)).
 * Returns why, or null.
 */
export class DivergenceGuard {
  private ema: number | null = null;
  constructor(public reference: number | null) {}
  check(loss: number): string | null {
    if (!Number.isFinite(loss)) return `loss ${loss}`;
    this.reference ??= loss;
    this.ema = this.ema === null ? loss : 0.8 * this.ema + 0.2 * loss;
    if (this.ema > DIVERGENCE_FACTOR * Math.max(this.reference, 1e-3))
      return `running loss ${this.ema.toPrecision(4)}, over ${DIVERGENCE_FACTOR}x the run's first loss ${this.reference.toPrecision(4)}`;
    return null;
  }
}

/** The seed of an epoch's random stream (feedback noise, diagnostics' probes): a resumed run draws what an uninterrupted one draws. */
export function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca77)) >>> 0;
}

/**
 * Early stopping's state after some epochs: the best-validation epoch (the first of equals) and
 * whether `patience` epochs have passed since it without improvement.
 */
export function earlyStopState(valAccs: number[], patience: number): { best: number; stop: boolean } {
  let best = -1;
  valAccs.forEach((v, i) => {
    if (best < 0 || v > valAccs[best]) best = i;
  });
  return { best, stop: best >= 0 && valAccs.length - 1 - best >= patience };
}

/** Early stopping's state for a run's epochs so far (epochs without val accuracy count as NaN). */
export const earlyStopOf = (epochs: EpochMetrics[], patience: number) => earlyStopState(epochs.map((m) => m.valAcc ?? NaN), patience);

function gitCommit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: __dirname, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}

export interface TrainOptions {
  store?: Store;
  quiet?: boolean;
  dataDir?: string;
  /** Called after each epoch (CLI prints; tests inspect). */
  onEpoch?: (m: EpochMetrics) => void;
  /** Stop after this many epochs in this process (tests simulate a crash). */
  stopAfter?: number;
  /**
   * Save the trained network here (safetensors with its config) when the run ends. A run with a
   * store also keeps its final network as <store dir>/models/run-<id>.safetensors.
   */
  saveTo?: string;
}

/** Where a finished run's network is kept: beside the store, models/run-<id>.safetensors (none for an in-memory store). */
export function keptModelFile(store: Store, runId: number): string | null {
  return store.file === ':memory:' ? null : path.join(path.dirname(path.resolve(store.file)), 'models', `run-${runId}.safetensors`);
}

export function setup(c: TrainConfig): { net: Network; method: Method } {
  validateConfig(c);
  manualSeed(c.seed);
  const s = spec(c.data);
  const net = buildModel(c.model, s.shape, c.modelConfig ?? {});
  try {
    const method = createMethod(net, {
      method: c.method,
      lr: c.lr,
      beta: c.beta,
      optimizer: c.optimizer,
      feedbackMode: c.feedbackMode,
      feedback: c.feedback ? ({ ...c.feedback } as FeedbackTraining) : undefined,
    });
    return { net, method };
  } catch (e) {
    // e.g. ijml on a conv net: the model's weights go with the rejected method
    net.dispose();
    throw e;
  }
}

function checkpointOf(net: Network, method: Method): Buffer {
  const params = [...net.params(), ...method.extraParams()].map((p) => p.data());
  const opt = method.optimizerState();
  return packArrays([Float32Array.of(params.length, opt.length, ...opt.map((o) => o.length)), ...params, ...opt.flat()]);
}

function restore(net: Network, method: Method, buf: Buffer): void {
  const arrays = unpackArrays(buf);
  const [np, no, ...lens] = arrays[0];
  const params = [...net.params(), ...method.extraParams()];
  if (np !== params.length) throw new Error(`checkpoint holds ${np} tensors, model has ${params.length}`);
  noGrad(() => params.forEach((p, i) => tidy(() => p.copyInPlace(tensor(arrays[1 + i], p.shape)))));
  let k = 1 + np;
  const opt = Array.from({ length: no }, (_, j) => arrays.slice(k, (k += lens[j])));
  method.loadOptimizerState(opt);
}

/** Loader epoch indices for pre-training: their own shuffles and augmentations, apart from training's. */
const PRETRAIN_EPOCHS_FROM = 1_000_000;

export async function train(cfg: Partial<TrainConfig>, o: TrainOptions = {}): Promise<RunResult> {
  const c: TrainConfig = { ...TRAIN_DEFAULTS, ...cfg };
  validateConfig(c);
  const ds = loadDataset(c.data, { dataDir: o.dataDir });
  const splits = splitsOf(ds, c);
  return onDevice(c.device, async () => {
    const { net, method } = setup(c);
    try {
      return await runLoop(net, method, splits, {
        name: c.name ?? `${c.model}/${c.data}/${c.method}`,
        seed: c.seed,
        epochs: c.epochs,
        batchSize: c.batchSize,
        lr: c.lr,
        beta: c.method === 'bp' ? null : c.beta,
        schedule: c.schedule,
        augment: c.augment ? { cropPadding: 4, flip: c.data === 'cifar10' } : NO_AUGMENT,
        earlyStop: c.earlyStop,
        diagnosticsEvery: c.diagnosticsEvery,
        diagnosticsBeta: c.diagnosticsBeta,
        key: runKey(c),
        config: JSON.stringify(c),
        modelMeta: { model: c.model, modelConfig: c.modelConfig ?? {}, data: c.data, method: c.method },
      }, o);
    } finally {
      method.dispose();
      net.dispose();
    }
  });
}

/** Runs `f` with `device` (resolved; default TARGETPROP_DEVICE, else cpu) as the default device, then restores the previous one. */
async function onDevice<T>(device: string | undefined, f: () => Promise<T>): Promise<T> {
  const before = defaultDevice();
  setDefaultDevice(device ?? process.env.TARGETPROP_DEVICE ?? 'cpu');
  try {
    return await f();
  } finally {
    setDefaultDevice(before);
  }
}

/** The device a run uses and, on a GPU, its name: stored with the run (engine info). */
function deviceInfo(): { device: string; gpu?: string } {
  const device = defaultDevice();
  const gpu = gpuName(device);
  return gpu ? { device, gpu } : { device };
}

/** Options of `fit`: the budget and loop settings (the CLI's TrainConfig fields of the same names), plus TrainOptions. */
export interface FitOptions extends TrainOptions {
  epochs: number;
  /** Default 128. */
  batchSize?: number;
  /** Base learning rate the schedule scales; default the method's own (its config's lr). */
  lr?: number;
  /** Default constant. */
  schedule?: Schedule;
  /** Seeds data order, augmentation and every epoch's random draws (not the network's init: you built it). Default 0. */
  seed?: number;
  augment?: Augment;
  trainSubset?: number;
  testSubset?: number;
  valSize?: number;
  earlyStop?: { patience: number };
  /** BP angles and Jacobian-matching diagnostics every N epochs (0: off). Default 1. */
  diagnosticsEvery?: number;
  diagnosticsBeta?: number;
  /** Label in the store and progress bar. Default '<network>/<data>/<method>'. */
  name?: string;
  /** Where batches go (the network must already be there: build it after setDefaultDevice). Default: the current default device. */
  device?: string;
}

/**
 * Trains any network built from the layers (a registry model or your own) with any method, in the
 * loop the CLI uses: progress, per-epoch metrics and diagnostics, divergence checks, and, with
 * `store`, checkpoints and resume (the run's identity is the network's structure, the method's
 * config and these options). The network is trained in place and left to the caller (dispose it).
 */
export async function fit(net: Network, method: Method, data: DatasetName | Dataset, o: FitOptions): Promise<RunResult & { net: Network }> {
  const ds = typeof data === 'string' ? loadDataset(data, { dataDir: o.dataDir }) : data;
  const methodCfg = (method as { cfg?: MethodConfig }).cfg;
  const lr = o.lr ?? methodCfg?.lr;
  if (!(typeof lr === 'number' && lr > 0)) throw new Error('fit: lr must be > 0 (pass options.lr, or a method created with an lr)');
  if (!(Number.isInteger(o.epochs) && o.epochs > 0)) throw new Error(`fit: epochs must be a positive integer, got ${o.epochs}`);
  const batchSize = o.batchSize ?? 128;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`fit: batchSize must be a positive integer, got ${batchSize}`);
  const [c, h, w] = net.inputShape;
  if (ds.train.shape.join() !== [c, h, w].join()) throw new Error(`fit: ${net.name} takes [${c}, ${h}, ${w}] images, ${ds.name} has [${ds.train.shape.join(', ')}]`);
  const seed = o.seed ?? 0;
  const opts = { epochs: o.epochs, batchSize, lr, schedule: o.schedule ?? ({ kind: 'constant' } as Schedule), seed, augment: o.augment ?? NO_AUGMENT,
    trainSubset: o.trainSubset, testSubset: o.testSubset, valSize: o.valSize, earlyStop: o.earlyStop };
  // what changes the result: the network's structure and shapes, the method and its config, the budget
  const identity = { network: net.describe(), params: net.namedParams().map(([n, p]) => `${n}:${p.shape.join('x')}`), method: method.name, methodCfg, data: ds.name, ...opts };
  const r = await onDevice(o.device ?? defaultDevice(), () => runLoop(net, method, splitsOf(ds, { ...opts, seed }), {
    ...opts,
    name: o.name ?? `${net.name}/${ds.name}/${method.name}`,
    beta: method.name === 'bp' ? null : methodCfg?.beta ?? null,
    diagnosticsEvery: o.diagnosticsEvery ?? 1,
    diagnosticsBeta: o.diagnosticsBeta ?? 0.01,
    key: identityKey(identity),
    // TrainConfig-shaped (runs and report read model, data, method, budget), the network's structure beside it
    config: JSON.stringify({ name: o.name, model: net.name, data: ds.name, method: method.name, beta: methodCfg?.beta, optimizer: methodCfg?.optimizer, ...opts, network: identity.network }),
    modelMeta: { model: net.name, data: ds.name, method: method.name },
  }, o));
  return { ...r, net };
}

/** Training, evaluation and (early stopping) validation splits of a config: val, when held out, replaces test unless early stopping reports test. */
function splitsOf(ds: Dataset, c: { trainSubset?: number; testSubset?: number; valSize?: number; seed: number; earlyStop?: unknown }): Splits {
  let train = subset(ds.train, c.trainSubset);
  let evalSplit = subset(ds.test, c.testSubset);
  let val: Split | null = null;
  if (c.valSize) {
    const tv = trainValSplit(train, c.valSize, c.seed);
    train = tv.train;
    if (c.earlyStop) val = tv.val;
    else evalSplit = tv.val;
  }
  return { train, eval: evalSplit, val, mean: ds.mean, std: ds.std };
}

/** The data a training loop reads: uint8 splits on the host and the normalisation. */
export interface Splits {
  train: Split;
  /** Evaluated every epoch and reported as test accuracy (the validation split when one is held out without early stopping). */
  eval: Split;
  /** Early stopping's validation split. */
  val: Split | null;
  mean: number[];
  std: number[];
}

/** Everything the loop needs beyond network and method; `key` and `config` identify the run in a store. */
interface LoopSpec {
  name: string;
  seed: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** null for BP (no beta to lower when it diverges). */
  beta: number | null;
  schedule: Schedule;
  augment: Augment;
  earlyStop?: { patience: number };
  diagnosticsEvery: number;
  diagnosticsBeta: number;
  key: string;
  config: string;
  modelMeta: Partial<ModelMeta>;
}

/**
 * The training loop `train` (the CLI) and `fit` (the library) share: resume from the store, feedback
 * pre-training, epochs with progress, per-step divergence checks, evaluation, diagnostics, a
 * checkpoint per epoch, the kept model file. It leaves the network and method to its caller.
 */
async function runLoop(net: Network, method: Method, s: Splits, l: LoopSpec, o: TrainOptions): Promise<RunResult> {
  const name = l.name;
  const run = o.store?.openRun({
    key: l.key,
    name,
    config: l.config,
    seed: l.seed,
    git: gitCommit(),
    engine: JSON.stringify({ threads: getNumThreads(), node: process.version, blas: { ...blasInfo(), chosen: blasChoice().source }, ...deviceInfo() }),
  });
  // an unfinished run (running, or stopped by hand) is this process's to train until it returns
  if (run && (run.status === 'running' || run.status === 'stopped')) o.store!.claimRun(run.id);
  try {
    return await trainRun(net, method, s, l, o, run);
  } finally {
    if (run) o.store!.releaseRun(run.id);
  }
}

async function trainRun(net: Network, method: Method, s: Splits, l: LoopSpec, o: TrainOptions, run: RunRow | undefined): Promise<RunResult> {
  const name = l.name;
  const epochs: EpochMetrics[] = run ? o.store!.epochs(run.id).map(fromRow) : [];
  if (run?.status === 'done') {
    if (o.saveTo) {
      const kept = keptModelFile(o.store!, run.id);
      if (!kept || !fs.existsSync(kept)) throw new Error(`${name}: run ${run.id} finished before runs kept their models; \`targetprop runs --retire ${run.id} --why ...\` lets it train again`);
      fs.copyFileSync(kept, o.saveTo);
    }
    return { runId: run.id, trainAcc: run.train_acc ?? NaN, testAcc: run.test_acc ?? NaN, epochs };
  }
  // a diverged run is a result: rerunning its config reports it instead of diverging again
  if (run && (run.status === 'diverged' || run.status === 'failed'))
    throw new Error(`${name}: run ${run.id} ${run.note ?? 'diverged'} (earlier; \`targetprop runs --retire ${run.id} --why ...\` lets this config train afresh)`);
  // a run stopped by hand is taken up again when its command is rerun
  if (run?.status === 'stopped') {
    if (!o.quiet) process.stderr.write(`${name}: run ${run.id} was stopped (${run.note ?? 'no reason given'}); taking it up again\n`);
    o.store!.reopenRun(run.id);
  }
  // resumed at another thread count or on another device: its epoch times mix them, so it lists every one it ran with
  if (run && epochs.length) {
    const was = JSON.parse(run.engine) as { threads?: number | number[]; device?: string | string[] };
    const seen = [was.threads ?? []].flat();
    const threads = getNumThreads();
    const devices = [was.device ?? 'cpu'].flat();
    const device = defaultDevice();
    if (!seen.includes(threads) || !devices.includes(device))
      o.store!.setEngine(run.id, JSON.stringify({ ...was, threads: seen.includes(threads) ? was.threads : [...seen, threads], device: devices.includes(device) ? was.device ?? 'cpu' : [...devices, device] }));
  }
  let start = 0;
  const ck = run ? o.store!.checkpoint(run.id) : undefined;
  if (ck) {
    restore(net, method, ck.data);
    start = ck.epoch + 1;
    if (!o.quiet) process.stderr.write(`${name}: resuming after epoch ${ck.epoch + 1}\n`);
  }
  const loader = new BatchLoader(s.train, { batchSize: l.batchSize, shuffle: true, seed: l.seed, augment: l.augment, mean: s.mean, std: s.std });
  // Feedback pre-training (learned-feedback methods): only on a fresh start; its time counts as
  // feedback time of epoch 1. A crash before epoch 1 is stored repeats it, as it repeats epoch 1.
  const pretrainMs = start === 0 && method instanceof LearnedTP ? await pretrainFeedback(method, loader, l.seed, name, o.quiet) : 0;
  let done = 0;
  const stopped = () => !!l.earlyStop && earlyStopOf(epochs, l.earlyStop.patience).stop;
  const guard = new DivergenceGuard(epochs[0]?.initialLoss ?? null);
  const diverged = (e: number, step: number, why: string): Error => {
    const knobs = l.beta === null ? `lower lr (${l.lr})` : `lower lr (${l.lr}) or beta (${l.beta})`;
    const msg = `diverged in epoch ${e + 1}, step ${step + 1}: ${why}; ${knobs}`;
    if (run) o.store!.finishRun(run.id, 'diverged', null, null, msg);
    return new Error(`${name}: training ${msg}`);
  };
  for (let e = start; e < l.epochs && !stopped(); e++) {
    if (o.stopAfter !== undefined && done >= o.stopAfter) break;
    const t0 = now();
    // every random draw of the epoch (feedback noise, probes) comes from the epoch's own seed
    manualSeed(epochSeed(l.seed, e));
    const lr = lrAt(l.lr, e, l.schedule);
    method.setLr(lr);
    const bar = o.quiet ? null : new Progress({ label: `${name} ${e + 1}/${l.epochs}`, total: loader.numBatches, unit: 'img' });
    let loss = 0;
    let correct = 0;
    let n = 0;
    let fb = e === 0 ? pretrainMs : 0;
    let fw = 0;
    let diagBatch: { x: Tensor; y: Tensor } | null = null;
    let step = 0;
    for (const b of loader.epoch(e)) {
      const r = method.step(b.x, b.y);
      const why = guard.check(r.loss);
      if (why) {
        b.x.dispose(), b.y.dispose(), diagBatch?.x.dispose(), diagBatch?.y.dispose();
        bar?.finish();
        throw diverged(e, step, why);
      }
      step++;
      loss += r.loss * r.n;
      correct += r.correct;
      n += r.n;
      fb += r.feedbackMs;
      fw += r.forwardMs;
      if (!diagBatch && l.diagnosticsEvery && (e + 1) % l.diagnosticsEvery === 0) diagBatch = { x: b.x, y: b.y };
      else b.x.dispose(), b.y.dispose();
      bar?.tick(1, r.n, { loss: loss / n, acc: correct / n });
      await tick();
    }
    bar?.finish();
    const ev = evaluate(net, s.eval, s.mean, s.std);
    const m: EpochMetrics = {
      epoch: e,
      lr,
      trainLoss: loss / n,
      trainAcc: correct / n,
      testLoss: ev.loss,
      testAcc: ev.acc,
      feedbackS: fb / 1000,
      forwardS: fw / 1000,
      imgPerS: n / ((fb + fw) / 1000),
    };
    if (s.val) m.valAcc = evaluate(net, s.val, s.mean, s.std).acc;
    if (diagBatch) {
      Object.assign(m, diagnose(net, method, diagBatch, l.diagnosticsBeta));
      diagBatch.x.dispose();
      diagBatch.y.dispose();
    }
    if (e === 0) m.initialLoss = guard.reference ?? undefined;
    m.epochS = (now() - t0) / 1000;
    epochs.push(m);
    if (run)
      o.store!.commitEpoch(toRow(run.id, m), e + 1 < l.epochs ? checkpointOf(net, method) : null);
    o.onEpoch?.(m);
    done++;
  }
  // an early-stopping run reports its best-validation epoch
  const es = l.earlyStop ? earlyStopOf(epochs, l.earlyStop.patience) : null;
  const last = es && es.best >= 0 ? epochs[es.best] : epochs[epochs.length - 1];
  const finished = epochs.length === l.epochs || !!es?.stop;
  if (run && finished) o.store!.finishRun(run.id, 'done', last.trainAcc, last.testAcc);
  if (finished && (o.saveTo || run)) {
    const meta = { ...l.modelMeta, mean: s.mean, std: s.std, epochs: epochs.length, testAcc: last.testAcc, runId: run?.id ?? null };
    if (o.saveTo) saveModel(o.saveTo, net, meta);
    const kept = run && keptModelFile(o.store!, run.id);
    if (kept) {
      fs.mkdirSync(path.dirname(kept), { recursive: true });
      saveModel(kept, net, meta);
    }
  }
  return { runId: run?.id ?? null, trainAcc: last?.trainAcc ?? NaN, testAcc: last?.testAcc ?? NaN, epochs };
}

/** The learned feedbacks' pre-training epochs (feedback loss only; forward weights untouched): their time in ms. */
async function pretrainFeedback(method: LearnedTP, loader: BatchLoader, seed: number, name: string, quiet?: boolean): Promise<number> {
  let ms = 0;
  for (let p = 0; p < method.pretrainEpochs; p++) {
    manualSeed(epochSeed(seed, PRETRAIN_EPOCHS_FROM + p));
    const bar = quiet ? null : new Progress({ label: `${name} feedback pre-training ${p + 1}/${method.pretrainEpochs}`, total: loader.numBatches, unit: 'img' });
    for (const b of loader.epoch(PRETRAIN_EPOCHS_FROM + p)) {
      ms += method.pretrainStep(b.x);
      bar?.tick(1, b.x.shape[0], {});
      b.x.dispose();
      b.y.dispose();
      await tick();
    }
    bar?.finish();
  }
  return ms;
}

/**
 * An epoch's diagnostics on one of its batches: angles to the BP gradient per block, feedback-forward
 * weight angles (learned feedback), and per block the relative TJML of the feedback used and the
 * feedback-forward alignment, on the batch's first 32 images.
 */
function diagnose(net: Network, method: Method, batch: { x: Tensor; y: Tensor }, beta: number): Partial<EpochMetrics> {
  const d: Partial<EpochMetrics> = {};
  if (method.name !== 'bp') d.bpAngles = bpAngles(method, net, batch.x, batch.y, beta);
  if (method instanceof LearnedTP) d.weightAngles = weightAngles(method);
  if (method instanceof TargetProp) {
    const probe = batch.x.narrow(0, 0, Math.min(32, batch.x.shape[0]));
    d.tjml = tidy(() => blockTJML(method, net, probe));
    d.alignment = tidy(() => blockAlignment(method, net, probe));
    probe.dispose();
  }
  return d;
}

/** An epoch's metrics as the store's row (fromRow reads it back). */
export function toRow(runId: number, m: EpochMetrics): EpochRow {
  return {
    run_id: runId,
    epoch: m.epoch,
    lr: m.lr,
    train_loss: m.trainLoss,
    train_acc: m.trainAcc,
    test_loss: m.testLoss,
    test_acc: m.testAcc,
    feedback_s: m.feedbackS,
    forward_s: m.forwardS,
    img_per_s: m.imgPerS,
    // per-epoch extras (diagnostics, val accuracy where test is reported beside it, the epoch's
    // wall time): JSON, so databases and exports of earlier versions stay readable by both
    diagnostics: JSON.stringify({ bpAngles: m.bpAngles, weightAngles: m.weightAngles, tjml: m.tjml, alignment: m.alignment, valAcc: m.valAcc, initialLoss: m.initialLoss, epochS: m.epochS }),
  };
}

/** A stored epoch row as metrics (toRow's inverse). */
export function fromRow(r: EpochRow): EpochMetrics {
  const d = JSON.parse(r.diagnostics || '{}');
  return {
    epoch: r.epoch,
    lr: r.lr,
    trainLoss: r.train_loss,
    trainAcc: r.train_acc,
    testLoss: r.test_loss,
    testAcc: r.test_acc,
    feedbackS: r.feedback_s,
    forwardS: r.forward_s,
    imgPerS: r.img_per_s,
    bpAngles: d.bpAngles ?? undefined,
    weightAngles: d.weightAngles ?? undefined,
    tjml: d.tjml ?? undefined,
    alignment: d.alignment ?? undefined,
    valAcc: d.valAcc ?? undefined,
    initialLoss: d.initialLoss ?? undefined,
    epochS: d.epochS ?? undefined,
  };
}
