// Stored runs grouped into report rows (Agg): one per setting, budget profile, method and config,
// seeds pooled; the helpers that name a row's setting and budget, and the grid runs that blew up.
import { Store } from '../../store/store';
import { fromRow, EpochMetrics, earlyStopOf } from '../train';
import { TrainConfig, configDiff, runKey } from '../config';
import { BUDGETS, TableName, isTable } from '../grids';
import { threadsOf } from '../runlist';
import { mean, median, std } from '../stats';

export interface Agg {
  /** 'table1'.., 'sweep' or 'runs'. */
  table: string;
  /** full | quick | custom (tables); the budget decides, so quick and full runs never mix. */
  profile: string;
  row: string;
  method: string;
  /** The group's config (seed 0's fields; seeds differ only in seed). */
  config: TrainConfig;
  /** Intra-op threads the runs used ('2 threads'): per-image times only compare at equal counts. */
  threads: string;
  seeds: number;
  train: number[];
  test: number[];
  /** Each run's best epoch on the test set: optimistic (picked on test), shown beside the final. */
  bestTest: number[];
  epochS: number[];
  /** Milliseconds per training image (epoch time / images): comparable across budgets. */
  msPerImage: number[];
  feedbackS: number[];
  curves: EpochMetrics[][];
  budget: string;
  /** Set when the cell holds several configs: the fields where this one differs ('lr=0.1'). */
  variant?: string;
}

/** A grid run's name ('table1/lenet-mnist/ldrl') as [table, row, cell label]; null for sweeps and other runs. */
export function gridCell(name: string): [string, string, string] | null {
  const p = name.split('/');
  return p.length === 3 && isTable(p[0]) ? [p[0], p[1], p[2]] : null;
}

/** A run that blew up (loss over 10x its first) or failed: sweeps list it as a point, grids in their own section. */
export const blownUpStatus = (status: string) => status === 'diverged' || status === 'failed';

/** Mean ± std in %, or the value alone for one seed (a std of one run says nothing). */
export const pct = (a: number[]) => (a.length === 1 ? (100 * a[0]).toFixed(2) : `${(100 * mean(a)).toFixed(2)} ± ${(100 * std(a)).toFixed(2)}`);

export function profileOf(table: string, c: TrainConfig): string {
  const b = BUDGETS[table as TableName];
  if (!b) return 'custom';
  const same = (x?: { epochs: number; trainSubset?: number; testSubset?: number }) =>
    !!x && x.epochs === c.epochs && x.trainSubset === c.trainSubset && x.testSubset === c.testSubset && (!c.valSize || !!c.earlyStop);
  return same(b.full) ? 'full' : same(b.medium) ? 'medium' : same(b.quick) ? 'quick' : 'custom';
}

/**
 * A setting as the summary and the opening lines name it: the row, and under other budgets
 * ('custom', where runs of several budgets meet) the budget too, so only equal budgets compare.
 */
export function settingOf(profile: string, row: string, c: TrainConfig): string {
  return profile === 'custom' ? `${row} (${budgetLabel(c)})` : row;
}
/** A run's budget as settings under other budgets name it: '10 ep, train 10000, test all'. */
export const budgetLabel = (c: TrainConfig) => `${c.epochs} ep, train ${c.trainSubset ?? 'all'}, test ${c.testSubset ?? 'all'}`;
export const settingOfAgg = (a: Agg) => settingOf(a.profile, a.row, a.config);
export const profileTitle = (t: string, prof: string) => (prof === 'custom' ? `${t}, other budgets` : `${t}, ${prof} budget`);

/**
 * Finished runs grouped by setting, budget profile and method; seeds of one config form a group.
 * No run is dropped: when one cell holds runs of several configs (a retuned lr, a user's second
 * run), each config is its own row, labelled by the fields where it differs (`variant`).
 */
export function aggregate(store: Store): Agg[] {
  const groups = new Map<string, Agg>();
  for (const r of store.runs()) {
    const parts = r.name.split('/');
    // diverged sweep points are listed too (as diverged): where a method blows up is a result
    if (r.status !== 'done' && !(blownUpStatus(r.status) && parts[0] === 'sweep')) continue;
    const c = JSON.parse(r.config) as TrainConfig;
    const [table, row] =
      gridCell(r.name) ??
      (parts[0] === 'sweep' && parts.length === 4 ? ['sweep', `${parts[1]}/${parts[2]}`] : ['runs', `${c.model}-${c.data}`]);
    const profile = table === 'sweep' ? 'tuning' : profileOf(table, c);
    // a grid cell's (or its sweep's) label: the method, or a variant of it (table1's 'fwdtp-bn')
    const method = table === 'runs' ? c.method : parts[parts.length - 1];
    const { seed: _s, ...noSeed } = c;
    const key = `${table}|${profile}|${row}|${method}|${runKey({ ...noSeed, seed: 0 })}`;
    const eps = store.epochs(r.id).map(fromRow);
    const threads = threadsOf(r.engine);
    const g =
      groups.get(key) ??
      ({
        table,
        profile,
        row,
        method,
        config: c,
        threads,
        seeds: 0,
        train: [],
        test: [],
        bestTest: [],
        epochS: [],
        msPerImage: [],
        feedbackS: [],
        curves: [],
        budget:
          `${c.epochs} ep, train ${c.trainSubset ?? 'all'}${c.valSize ? ` - val ${c.valSize}` : ''}, test ${c.testSubset ?? 'all'}, batch ${c.batchSize}, ${threads}` +
          (c.earlyStop
            ? `; early stop (patience ${c.earlyStop.patience}): accuracies at the best-val epoch (first run: epoch ${earlyStopOf(eps, c.earlyStop.patience).best + 1}, stopped after ${eps.length})`
            : ''),
      } as Agg);
    g.seeds++;
    g.train.push(r.train_acc ?? NaN);
    g.test.push(r.test_acc ?? NaN);
    g.bestTest.push(eps.length ? Math.max(...eps.map((e) => e.testAcc)) : NaN);
    g.epochS.push(median(eps.map((e) => e.feedbackS + e.forwardS)));
    g.msPerImage.push(median(eps.map((e) => 1000 / e.imgPerS)));
    g.feedbackS.push(median(eps.map((e) => e.feedbackS)));
    g.curves.push(eps);
    groups.set(key, g);
  }
  const all = [...groups.values()];
  for (const g of all) {
    if (g.table === 'sweep') continue; // the sweep table has its own columns for what differs
    const siblings = all.filter((x) => x.table === g.table && x.profile === g.profile && x.row === g.row && x.method === g.method);
    if (siblings.length > 1) g.variant = configDiff(g.config, siblings.map((x) => x.config), ['seed', 'name', 'tags']) || 'same settings';
  }
  return all;
}

/** A row's method label: the method, and where one cell holds several configs, what sets this one apart. */
export const methodLabel = (a: Agg) => (a.variant ? `${a.method} (${a.variant})` : a.method);

/** A grid run that diverged or failed: in no table, but the report says so where its cell would be. */
export interface BlownUp {
  table: string;
  profile: string;
  row: string;
  /** The row, with the budget under other budgets (settingOf). */
  setting: string;
  /** Its budget (budgetLabel). */
  budget: string;
  method: string;
  status: string;
  /** Epochs it finished before it stopped. */
  epochs: number;
}

/** The runs of `table`'s `setting` under `profile` that blew up. */
export const blownAt = (bs: BlownUp[], table: string, profile: string, setting: string) => bs.filter((b) => b.table === table && b.profile === profile && b.setting === setting);

export function blownUpRuns(store: Store): BlownUp[] {
  return store.runs().flatMap((r) => {
    const cell = gridCell(r.name);
    if (!blownUpStatus(r.status) || !cell) return [];
    const [table, row, method] = cell;
    const c = JSON.parse(r.config) as TrainConfig;
    const profile = profileOf(table, c);
    return [{ table, row, setting: settingOf(profile, row, c), budget: budgetLabel(c), method, status: r.status, profile, epochs: store.epochs(r.id).length }];
  });
}

/** Of a cell's groups, the one its grid ran: the most seeds, then the best test accuracy. */
export const mainGroup = (gs: Agg[]) => [...gs].sort((a, b) => b.seeds - a.seeds || mean(b.test) - mean(a.test))[0];

export const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
/** ' [3 seeds]' after a mean over several seeds; nothing after a single run. */
export const seedsNote = (a: Agg) => (a.seeds > 1 ? ` [${a.seeds} seeds]` : '');
