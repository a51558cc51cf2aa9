// Hyperparameter sweeps: the grid of lr x beta (x seeds) around a base config, each point an
// ordinary stored run (so a sweep resumes and its runs show up in reports), ranked by the
// accuracy on the held-out split. Meant for tuning on a train/val split (--val), as the paper
// tuned on 45k/5k before the final runs.
import { Store } from '../store/store';
import { train } from './train';
import { TrainConfig, TRAIN_DEFAULTS, validateConfig } from './config';
import { TableName, grid } from './grids';

export interface SweepSpec {
  base: Partial<TrainConfig>;
  lrs: number[];
  betas: number[];
  seeds: number[];
}

export interface SweepPoint {
  lr: number;
  beta: number;
  seed: number;
  /** Accuracy on the held-out split (val if valSize is set, else test); NaN if it diverged. */
  heldOutAcc: number;
  trainAcc: number;
  error?: string;
}

/** A table's full-profile cell for (method or variant label, data), as a sweep base (budget fields dropped). */
export function gridBase(table: TableName, method: string, data: string): Partial<TrainConfig> {
  const cell = grid(table, 'full', 1).find((c) => c.label === method && c.config.data === data);
  if (!cell) throw new Error(`sweep: ${table} has no ${method} run on ${data}`);
  // a sweep ranks on its own validation split: a cell's early stopping (which reports test) is dropped
  const { epochs: _e, trainSubset: _t, testSubset: _s, seed: _d, valSize: _v, earlyStop: _x, ...rest } = cell.config;
  return { ...rest, name: `sweep/${cell.config.name}` };
}

/** Parses "0.01,0.1" into numbers, with the flag's name in the error. */
export function numberList(flag: string, s: string): number[] {
  const v = s.split(',').filter(Boolean).map(Number);
  if (!v.length || v.some((x) => !Number.isFinite(x) || x <= 0)) throw new Error(`--${flag} expects positive numbers separated by commas, got '${s}'`);
  return v;
}

/**
 * Sweep runs are named sweep/<source>/<model-data>/<method> (source: the grid table, or 'custom'
 * for a sweep from flags), so that the report lists them together; returns [name, row, method].
 */
export function sweepName(base: Partial<TrainConfig>): [string, string, string] {
  const c = { ...TRAIN_DEFAULTS, ...base };
  const parts = base.name?.split('/') ?? [];
  const [src, row, method] = parts.length === 4 && parts[0] === 'sweep' ? parts.slice(1) : ['custom', `${c.model}-${c.data}`, c.method];
  return [`sweep/${src}/${row}/${method}`, `${src}/${row}`, method];
}

export function sweepConfigs(s: SweepSpec): Partial<TrainConfig>[] {
  const out: Partial<TrainConfig>[] = [];
  const [name] = sweepName(s.base);
  for (const lr of s.lrs) for (const beta of s.betas) for (const seed of s.seeds) out.push({ ...s.base, name, lr, beta, seed });
  return out;
}

export async function runSweep(s: SweepSpec, o: { store: Store; dataDir?: string; quiet?: boolean; log?: (l: string) => void }): Promise<SweepPoint[]> {
  const configs = sweepConfigs(s);
  configs.forEach((c) => validateConfig({ ...TRAIN_DEFAULTS, ...c }));
  if (configs.some((c) => c.earlyStop)) throw new Error('sweep: points are ranked on their held-out split, but early stopping reports test accuracy; drop --early-stop (a sweep can use --val)');
  const points: SweepPoint[] = [];
  for (const [i, c] of configs.entries()) {
    o.log?.(`[${i + 1}/${configs.length}] lr ${c.lr} beta ${c.beta} seed ${c.seed}`);
    try {
      const r = await train(c, { store: o.store, dataDir: o.dataDir, quiet: o.quiet });
      points.push({ lr: c.lr!, beta: c.beta!, seed: c.seed!, heldOutAcc: r.testAcc, trainAcc: r.trainAcc });
    } catch (e) {
      points.push({ lr: c.lr!, beta: c.beta!, seed: c.seed!, heldOutAcc: NaN, trainAcc: NaN, error: (e as Error).message });
    }
  }
  return points;
}
