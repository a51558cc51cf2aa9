// Renders stored runs: the paper-layout tables (accuracy mean +- std over seeds, speed
// relative to LDRL), learning curves, BP angles per block, and the Figure 2 timings.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Store } from '../store/store';
import { importRuns, readExports } from '../store/export';
import { fromRow, EpochMetrics, earlyStopOf } from './train';
import { TrainConfig, runKey } from './config';
import { METHOD_COLORS, barChart, lineChart } from '../plot/svg';
import { TimingRow } from './figure2';
import { BUDGETS, TableName, isTable } from './grids';
import { renderRuns, threadsOf, unfinished } from './runlist';
import { mean, median, std } from './stats';

interface Agg {
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
function gridCell(name: string): [string, string, string] | null {
  const p = name.split('/');
  return p.length === 3 && isTable(p[0]) ? [p[0], p[1], p[2]] : null;
}

/** A run that blew up (loss over 10x its first) or failed: sweeps list it as a point, grids in their own section. */
const blownUpStatus = (status: string) => status === 'diverged' || status === 'failed';

/** TJML-DTP test accuracy reported in the paper (Tables 1-4; 5 seeds), for comparison only. */
export const PAPER_TJML: Record<string, number> = {
  'lenet-mnist': 99.3,
  'lenet-fashion-mnist': 91.4,
  'lenet-cifar10': 76.7,
  'simple-vgg-cifar10': 85.2,
  'mixer-cifar10': 56.9,
  'reversible-mixer-cifar10': 42.8,
};

/**
 * Kao et al. 2024 (Counter-Current Learning, NeurIPS), Table 1: their re-runs of the TP baselines on
 * tanh MLPs (SGD, 100 epochs, 5 seeds), test accuracy mean and std. Their FW-DTP row is compared
 * with both our fwdtp and fwdtp-bn (their FLOP table lists FW-DTP-BN; the row's name does not say).
 */
export const PUBLISHED_MLP: Record<string, Record<string, [number, number]>> = {
  'mlp-mnist': { bp: [98.19, 0.1], 'fwdtp-bn': [97.2, 0.16], fwdtp: [97.2, 0.16], ldrl: [93.29, 0.21], drl: [93.05, 0.24] },
  'mlp-fashion-mnist': { bp: [89.58, 0.25], 'fwdtp-bn': [87.78, 0.47], fwdtp: [87.78, 0.47], ldrl: [83.6, 0.2], drl: [83.4, 0.18] },
  'mlp-cifar10': { bp: [50.03, 0.31], 'fwdtp-bn': [45.91, 0.6], fwdtp: [45.91, 0.6], ldrl: [42.19, 0.3], drl: [42.09, 0.27] },
};

/** The published test accuracy a row compares with: the paper's TJML-DTP, or Kao et al.'s MLP re-runs. */
export function published(table: string, row: string, method: string): string {
  if (table === 'mlp') {
    const p = PUBLISHED_MLP[row]?.[method];
    return p ? `${p[0].toFixed(2)} ± ${p[1].toFixed(2)} (Kao)` : '';
  }
  return method === 'tjml' && PAPER_TJML[row] !== undefined ? `${PAPER_TJML[row].toFixed(1)} (paper)` : '';
}

/** Mean ± std in %, or the value alone for one seed (a std of one run says nothing). */
const pct = (a: number[]) => (a.length === 1 ? (100 * a[0]).toFixed(2) : `${(100 * mean(a)).toFixed(2)} ± ${(100 * std(a)).toFixed(2)}`);

function profileOf(table: string, c: TrainConfig): string {
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
function settingOf(profile: string, row: string, c: TrainConfig): string {
  return profile === 'custom' ? `${row} (${c.epochs} ep, train ${c.trainSubset ?? 'all'}, test ${c.testSubset ?? 'all'})` : row;
}
const settingOfAgg = (a: Agg) => settingOf(a.profile, a.row, a.config);
const profileTitle = (t: string, prof: string) => (prof === 'custom' ? `${t}, other budgets` : `${t}, ${prof} budget`);

/** One line per method: a per-block diagnostic at its last epoch, blocks without a value (block 0's unused feedback) left out. */
function lastEpochPerBlock(rs: Agg[], key: 'tjml' | 'alignment', f: (y: number) => number = (y) => y) {
  return rs
    .filter((a) => a.curves[0].at(-1)?.[key])
    .map((a) => {
      const pts = a.curves[0].at(-1)![key]!.map((y, i) => [i, y] as const).filter(([, y]) => y !== null && Number.isFinite(y));
      return { name: methodLabel(a), xs: pts.map(([i]) => i), ys: pts.map(([, y]) => f(y)) };
    });
}

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

/** The published number a row compares with, as a number (%), if any. */
function publishedMean(table: string, row: string, method: string): number | undefined {
  if (table === 'mlp') return PUBLISHED_MLP[row]?.[method]?.[0];
  return method === 'tjml' ? PAPER_TJML[row] : undefined;
}

/**
 * The report's first section: per table, budget and setting, every method's test accuracy (best
 * first) with its distance to the published number where there is one, and TJML-DTP's training
 * speed per image against LDRL's at the same thread count.
 */
export function renderSummary(aggs: Agg[], sections: string[], blownUp: BlownUp[] = []): string {
  const out: string[] = [];
  for (const sec of sections) {
    const [t, prof] = sec.split('|');
    const rows = aggs.filter((a) => a.table === t && a.profile === prof);
    out.push(`**${profileTitle(t, prof)}**`, '');
    for (const setting of [...new Set(rows.map(settingOfAgg))]) {
      const rs = rows.filter((a) => settingOfAgg(a) === setting).sort((a, b) => mean(b.test) - mean(a.test));
      const row = rs[0].row;
      const cells = rs.map((a) => {
        // a published number is a full-budget result: reduced budgets are not held against it
        const p = prof === 'full' ? publishedMean(t, row, a.method) : undefined;
        const acc = 100 * mean(a.test);
        const d = p === undefined ? '' : ` (published ${p.toFixed(2)}: ${acc - p >= 0 ? '+' : ''}${(acc - p).toFixed(2)})`;
        return `${methodLabel(a)} ${acc.toFixed(2)}${seedsNote(a)}${d}`;
      });
      const tj = rs.find((a) => a.method === 'tjml');
      const ld = tj && rs.find((a) => a.method === 'ldrl' && a.threads === tj.threads);
      const speed = tj && ld ? `; TJML-DTP trains ${(mean(ld.msPerImage) / mean(tj.msPerImage)).toFixed(1)}x faster per image than LDRL (${tj.threads})` : '';
      const blown = blownAt(blownUp, t, prof, setting).filter((b) => !rs.some((a) => a.method === b.method));
      const lost = blown.length ? `; ${blown.map((b) => `${b.method} ${b.status} (epoch ${b.epochs + 1})`).join(', ')}` : '';
      out.push(`- ${setting}: ${cells.join(', ')}${lost}${speed}`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** A grid run that diverged or failed: in no table, but the report says so where its cell would be. */
interface BlownUp {
  table: string;
  profile: string;
  row: string;
  /** The row, with the budget under other budgets (settingOf). */
  setting: string;
  method: string;
  status: string;
  /** Epochs it finished before it stopped. */
  epochs: number;
}

/** The runs of `table`'s `setting` under `profile` that blew up. */
const blownAt = (bs: BlownUp[], table: string, profile: string, setting: string) => bs.filter((b) => b.table === table && b.profile === profile && b.setting === setting);

function blownUpRuns(store: Store): BlownUp[] {
  return store.runs().flatMap((r) => {
    const cell = gridCell(r.name);
    if (!blownUpStatus(r.status) || !cell) return [];
    const [table, row, method] = cell;
    const c = JSON.parse(r.config) as TrainConfig;
    const profile = profileOf(table, c);
    return [{ table, row, setting: settingOf(profile, row, c), method, status: r.status, profile, epochs: store.epochs(r.id).length }];
  });
}

/** Of a cell's groups, the one its grid ran: the most seeds, then the best test accuracy. */
const mainGroup = (gs: Agg[]) => [...gs].sort((a, b) => b.seeds - a.seeds || mean(b.test) - mean(a.test))[0];

const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
/** ' [3 seeds]' after a mean over several seeds; nothing after a single run. */
const seedsNote = (a: Agg) => (a.seeds > 1 ? ` [${a.seeds} seeds]` : '');

/**
 * The report's opening lines: what the comparison shows. Per setting where TJML-DTP and LDRL ran
 * at one budget and thread count, their accuracies and TJML-DTP's speed per image against LDRL
 * (the paper's claim: LDRL's accuracy at a fraction of its cost), with BP beside them; then how the
 * baselines stand against Kao et al.'s MLP numbers (bar: published mean minus 1 point); then the
 * paper's full-budget rows beside their BP twins.
 */
export function renderFindings(aggs: Agg[], blownUp: BlownUp[] = []): string {
  const out: string[] = [];
  const cells = aggs.filter((a) => a.table !== 'sweep' && a.table !== 'runs');
  const settings = [...new Set(cells.map((a) => `${a.table}|${a.profile}|${settingOfAgg(a)}`))];
  const pairs: { gap: number; speed: number }[] = [];
  const lines: string[] = [];
  const noLdrl: string[] = [];
  // a method too costly for a profile's budget may have run at a reduced one (reproduce --epochs)
  const reducedRuns = (t: string, row: string, m: string) => cells.filter((a) => a.table === t && a.profile === 'custom' && a.row === row && a.method === m);
  for (const s of settings) {
    const [t, prof, row] = s.split('|');
    const of = (m: string) => cells.filter((a) => a.table === t && a.profile === prof && settingOfAgg(a) === row && a.method === m);
    const lost = (m: string) => blownAt(blownUp, t, prof, row).filter((x) => x.method === m);
    const tjs = of('tjml');
    // TJML-DTP's own runs that blew up here: a cell where all of them did is said, not dropped
    const tjLost = lost('tjml');
    if (!tjs.length) {
      if (tjLost.length && prof !== 'custom') {
        const others = [['LDRL', 'ldrl'], ['BP', 'bp']].flatMap(([name, m]) => (of(m).length ? [`${name} ${(100 * mean(mainGroup(of(m)).test)).toFixed(2)}`] : []));
        const b = tjLost[0];
        lines.push(`- ${row} (${profileTitle(t, prof)}): TJML-DTP ${b.status} in epoch ${b.epochs + 1} (${tjLost.length > 1 ? `all ${tjLost.length} runs; ` : ''}see the diverged and failed runs)${others.length ? `; ${others.join(', ')}` : ''}`);
      }
      continue;
    }
    const tj = mainGroup(tjs);
    const tjNote = tjLost.length ? ` (${tjLost.length} more run${tjLost.length > 1 ? 's' : ''} ${tjLost[0].status})` : '';
    const ldrls = of('ldrl').filter((a) => a.threads === tj.threads);
    if (!ldrls.length) {
      // a one-off budget does not ask for an LDRL twin; the profiles' grids do
      if (prof === 'custom') continue;
      const b = lost('ldrl')[0];
      const cut = reducedRuns(t, row, 'ldrl').map((a) => a.config.epochs);
      const why = b ? `: LDRL ${b.status} in epoch ${b.epochs + 1}, see the diverged and failed runs` : cut.length ? `: LDRL ran at ${[...new Set(cut)].sort((x, y) => x - y).join(', ')} epochs only` : '';
      noLdrl.push(`${row} (${t} ${prof}${why})`);
      continue;
    }
    const ld = mainGroup(ldrls);
    const bps = of('bp');
    const bp = bps.length ? mainGroup(bps) : undefined;
    const gap = 100 * (mean(tj.test) - mean(ld.test));
    const speed = mean(ld.msPerImage) / mean(tj.msPerImage);
    pairs.push({ gap, speed });
    lines.push(
      `- ${row} (${profileTitle(t, prof)}, ${tj.threads}): TJML-DTP ${(100 * mean(tj.test)).toFixed(2)}${seedsNote(tj)}${tjNote} vs LDRL ${(100 * mean(ld.test)).toFixed(2)}${seedsNote(ld)} (${signed(gap)} points), ${speed.toFixed(1)}x LDRL's speed per training image` +
        (bp ? `; BP ${(100 * mean(bp.test)).toFixed(2)}${seedsNote(bp)}` : ''),
    );
  }
  if (pairs.length) {
    const range = (xs: number[], f: (x: number) => string) => {
      const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
      return lo === hi ? f(lo) : `${f(lo)} to ${f(hi)}`;
    };
    out.push(
      `**TJML-DTP vs LDRL at equal budget** (test accuracy %, same epochs, data and thread count): in ${pairs.length} setting${pairs.length > 1 ? 's' : ''} TJML-DTP's test accuracy minus LDRL's is ${range(pairs.map((p) => p.gap), signed)} points, and TJML-DTP trains ${range(pairs.map((p) => p.speed), (x) => x.toFixed(1))}x faster per image.`,
      '',
      ...lines,
    );
    if (noLdrl.length) out.push(`- no finished LDRL run at TJML-DTP's budget yet: ${noLdrl.join(', ')}`);
    out.push('');
  }
  const base = cells.filter((a) => a.table === 'mlp' && a.profile === 'full' && a.method !== 'bp' && PUBLISHED_MLP[a.row]?.[a.method]);
  const groups = [...new Set(base.map((a) => `${a.row}|${a.method}`))].map((k) => mainGroup(base.filter((a) => `${a.row}|${a.method}` === k)));
  if (groups.length) {
    const d = (a: Agg) => 100 * mean(a.test) - PUBLISHED_MLP[a.row][a.method][0];
    const short = groups.filter((a) => d(a) < -1).sort((a, b) => d(a) - d(b));
    // a baseline too costly for the full budget may have run at a reduced one (reproduce --epochs):
    // say what it reached there, beside the published full-budget mean it cannot be held to
    const missing = Object.entries(PUBLISHED_MLP).flatMap(([row, ms]) =>
      Object.keys(ms)
        .filter((m) => m !== 'bp' && !groups.some((a) => a.row === row && a.method === m))
        .map((m) => {
          const reduced = reducedRuns('mlp', row, m);
          if (!reduced.length) return `${m} on ${row}`;
          const r = mainGroup(reduced);
          return `${m} on ${row} (reduced budget only: ${(100 * mean(r.test)).toFixed(2)} after ${r.config.epochs} epochs; published ${PUBLISHED_MLP[row][m][0].toFixed(2)} after 100)`;
        }),
    );
    out.push(
      `**Baselines against Kao et al.'s MLP re-runs** (bar: published mean minus 1 point): ${groups.length - short.length} of ${groups.length} baseline rows reach it` +
        (short.length ? `; short: ${short.map((a) => `${methodLabel(a)} on ${a.row} (${signed(d(a))})`).join(', ')}, with the tuning tried in the sweep table below.` : '.') +
        (missing.length ? ` Not run at the full budget yet: ${missing.join(', ')}.` : ''),
      '',
    );
  }
  const paper = renderPaperRows(cells);
  if (paper) out.push(paper, '');
  return out.join('\n');
}

/**
 * The paper's rows (Tables 1-4) at its full budget: TJML-DTP against the paper's number and against
 * BP trained beside it at the same budget (its twin), with TJML-DTP's cost per image as a multiple
 * of BP's at the same thread count (the paper's claim: TP at about BP's cost); then the rows still
 * without a full-budget TJML-DTP run or without its BP twin.
 */
function renderPaperRows(cells: Agg[]): string {
  const full = (row: string, m: string) => cells.filter((a) => a.table !== 'mlp' && a.profile === 'full' && a.row === row && a.method === m);
  const lines: string[] = [];
  const notRun: string[] = [];
  const noTwin: string[] = [];
  for (const [row, paper] of Object.entries(PAPER_TJML)) {
    const tjs = full(row, 'tjml');
    if (!tjs.length) {
      notRun.push(row);
      continue;
    }
    const tj = mainGroup(tjs);
    const bps = full(row, 'bp');
    if (!bps.length) noTwin.push(row);
    const bp = bps.length ? mainGroup(bps) : undefined;
    const same = bp && bp.threads === tj.threads;
    lines.push(
      `- ${row} (${tj.table}, ${tj.threads}): TJML-DTP ${(100 * mean(tj.test)).toFixed(2)}${seedsNote(tj)} (paper ${paper.toFixed(2)}: ${signed(100 * mean(tj.test) - paper)})` +
        (bp ? `; its BP twin ${(100 * mean(bp.test)).toFixed(2)}${seedsNote(bp)} (TJML-DTP ${signed(100 * (mean(tj.test) - mean(bp.test)))} points)` : '') +
        (same ? `; TJML-DTP's time per training image is ${(mean(tj.msPerImage) / mean(bp.msPerImage)).toFixed(2)}x BP's` : '') +
        // each method keeps its own grid batch size, which moves the per-image time: say so
        (same && tj.config.batchSize !== bp.config.batchSize ? ` (batch ${tj.config.batchSize} vs ${bp.config.batchSize})` : ''),
    );
  }
  if (!lines.length) return '';
  return [
    "**TJML-DTP at the paper's full budget, beside BP** (test accuracy %, last epoch; the paper's number is its TJML-DTP mean over 5 seeds):",
    '',
    ...lines,
    ...(noTwin.length ? [`- no BP twin at the full budget yet: ${noTwin.join(', ')}`] : []),
    ...(notRun.length ? [`- no full-budget TJML-DTP run in these results yet: ${notRun.join(', ')}`] : []),
  ].join('\n');
}

/** Markdown table for one table name (and profile), rows x methods, with speed relative to LDRL. */
export function renderTable(aggs: Agg[], table: string, profile?: string): string {
  const rows = aggs.filter((a) => a.table === table && (!profile || a.profile === profile));
  if (!rows.length) return `No finished runs for ${table}${profile ? ` (${profile} profile)` : ''}.\n`;
  const out = [
    `| setting | method | seeds | train acc % | test acc % | best epoch test % | published test % | s/epoch | ms/image | feedback s/epoch | speed vs LDRL | budget |`,
    `|---|---|---|---|---|---|---|---|---|---|---|---|`,
  ];
  const borrowed = new Set<string>(); // the budgets of the LDRL runs borrowed, for the footnote
  for (const r of rows) {
    // Per-image time at the same thread count, so an LDRL run of the same setting under another
    // budget still compares; runs at other thread counts never do.
    const same = rows.find((x) => x.row === r.row && x.method === 'ldrl' && x.threads === r.threads);
    const other = aggs.find((x) => x.table === table && x.row === r.row && x.method === 'ldrl' && x.threads === r.threads);
    const ldrl = same ?? other;
    const mark = !same && other ? '†' : '';
    if (mark) borrowed.add(other!.profile === 'custom' ? `${other!.config.epochs}-epoch` : other!.profile);
    const speed = ldrl ? `x${(mean(ldrl.msPerImage) / mean(r.msPerImage)).toFixed(2)}${mark}` : '-';
    const paper = r.profile === 'full' ? published(table, r.row, r.method) : '';
    out.push(
      `| ${r.row} | ${methodLabel(r)} | ${r.seeds} | ${pct(r.train)} | ${pct(r.test)} | ${(100 * mean(r.bestTest)).toFixed(2)} | ${paper} | ${mean(r.epochS).toFixed(1)} | ${mean(r.msPerImage).toFixed(3)} | ${mean(r.feedbackS).toFixed(1)} | ${speed} | ${r.budget} |`,
    );
  }
  out.push(
    '',
    'Train and test acc are the last epoch\'s (mean ± std over seeds), or, where the budget says early stop, the epoch with the best accuracy on the validation split held out of training; best epoch test is the mean of each run\'s best epoch, picked on the test set, so optimistic.',
  );
  if (borrowed.size) out.push('', `† per image against the LDRL run of this setting under the ${[...borrowed].join(' or ')} budget (no LDRL run at this budget; same thread count).`);
  return out.join('\n') + '\n';
}

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

/** Sweep points per setting (or only `only`'s), best held-out accuracy first, diverged ones last. */
export function renderSweeps(aggs: Agg[], only?: { row: string; method: string }): string {
  const score = (a: Agg) => (a.test.every(Number.isFinite) ? mean(a.test) : -1);
  const rows = aggs.filter((a) => a.table === 'sweep' && (!only || (a.row === only.row && a.method === only.method))).sort((a, b) => a.row.localeCompare(b.row) || a.method.localeCompare(b.method) || score(b) - score(a));
  if (!rows.length) return '';
  const out = ['| setting | method | lr | beta | other settings | seeds | held-out acc % | train acc % | s/epoch | budget |', '|---|---|---|---|---|---|---|---|---|---|'];
  const acc = (a: number[]) => (a.some((x) => !Number.isFinite(x)) ? 'diverged' : pct(a));
  const secs = (a: number[]) => (a.every(Number.isFinite) ? mean(a).toFixed(1) : '-');
  for (const r of rows) {
    const others = configDiff(r.config, rows.filter((x) => x.row === r.row && x.method === r.method).map((x) => x.config));
    out.push(`| ${r.row} | ${r.method} | ${r.config.lr} | ${r.config.beta} | ${others} | ${r.seeds} | ${acc(r.test)} | ${acc(r.train)} | ${secs(r.epochS)} | ${r.budget} |`);
  }
  return out.join('\n') + '\n';
}

/**
 * Unfinished grid runs, overlaid per grid cell (one line per run, labelled with its lr): their test
 * accuracy and their mean angle to BP over the hidden blocks, per epoch, so that a run that stalled
 * or collapsed shows when, and what its updates did meanwhile. The cell's finished runs of the same
 * epoch budget are drawn beside them, for comparison.
 */
function unfinishedFigures(store: Store, outDir: string): string[] {
  const byName = new Map<string, { label: string; eps: EpochMetrics[] }[]>();
  const runs = store
    .runs()
    .filter((r) => isTable(r.name.split('/')[0]))
    .map((r) => ({ r, c: JSON.parse(r.config) as TrainConfig }));
  const open = runs.filter(({ r }) => unfinished(r.status));
  const finished = runs.filter(({ r, c }) => r.status === 'done' && open.some((u) => u.r.name === r.name && u.c.epochs === c.epochs));
  for (const { r, c } of [...open, ...finished]) {
    const eps = store.epochs(r.id).map(fromRow);
    if (!eps.length) continue;
    const tag = r.status === 'stopped' ? ' (stopped)' : r.status === 'done' ? ' (finished)' : '';
    byName.set(r.name, [...(byName.get(r.name) ?? []), { label: `run ${r.id}, lr ${c.lr}${tag}`, eps }]);
  }
  // the last block's target is the output's own (exact) one: the mean is over the blocks below it
  const hidden = (a: (number | null)[]) => mean(a.slice(0, -1).filter((x): x is number => x !== null && Number.isFinite(x)));
  const md: string[] = [];
  for (const [name, runs] of byName) {
    const slug = `unfinished-${name.replace(/\//g, '-')}`;
    const acc = runs.map((r) => ({ name: r.label, xs: r.eps.map((e) => e.epoch + 1), ys: r.eps.map((e) => 100 * e.testAcc) }));
    fs.writeFileSync(path.join(outDir, `${slug}-curves.svg`), lineChart(acc, { title: `${name}: test accuracy`, xlabel: 'epoch', ylabel: 'test accuracy %', integerX: true }));
    md.push(`![${name} unfinished runs: test accuracy](${slug}-curves.svg)`, '');
    const ang = runs
      .filter((r) => r.eps.every((e) => e.bpAngles && e.bpAngles.length > 1))
      .map((r) => ({ name: r.label, xs: r.eps.map((e) => e.epoch + 1), ys: r.eps.map((e) => hidden(e.bpAngles!)) }));
    if (ang.length) {
      fs.writeFileSync(
        path.join(outDir, `${slug}-bp-angle.svg`),
        lineChart(ang, { title: `${name}: mean angle to the BP gradient over hidden blocks`, xlabel: 'epoch', ylabel: 'degrees', integerX: true }),
      );
      md.push(`![${name} unfinished runs: angle to BP](${slug}-bp-angle.svg)`, '');
    }
  }
  return md;
}

/** The report of committed data: `dir`/runs/ (run exports) and `dir`/figure2.json, written to `outDir`. */
export function reportFromDir(dir: string, outDir: string): string {
  // a mistyped folder would otherwise get an empty report written into it
  if (!fs.existsSync(path.join(dir, 'runs'))) throw new Error(`${path.join(dir, 'runs')}: no such folder of exported runs (--from-dir names the folder that holds runs/, such as docs/results)`);
  const runs = readExports(path.join(dir, 'runs'));
  const store = new Store(':memory:');
  try {
    importRuns(store, runs);
    const f2 = path.join(dir, 'figure2.json');
    const rows = fs.existsSync(f2) ? (JSON.parse(fs.readFileSync(f2, 'utf8')) as TimingRow[]) : undefined;
    return writeReport(store, outDir, rows, `${path.basename(dir)}/runs (${runs.length} runs)`);
  } finally {
    store.close();
  }
}

/** The report's first paragraph starts with this: the regeneration check skips that line (its date). */
export const GENERATED_PREFIX = 'Generated by `targetprop report`';

/** Writes report.md and its SVG figures into `outDir`; `source` names where the runs came from. */
export function writeReport(store: Store, outDir: string, figure2?: TimingRow[], source = path.basename(store.file)): string {
  fs.mkdirSync(outDir, { recursive: true });
  // the previous report's figures go first, so none is left behind that the new report does not use
  for (const f of fs.readdirSync(outDir)) if (f.endsWith('.svg') || f === 'report.md') fs.rmSync(path.join(outDir, f));
  const aggs = aggregate(store);
  const md: string[] = [
    '# targetprop results',
    '',
    `${GENERATED_PREFIX} from ${source} on ${new Date().toISOString()}. Every number below is read from the stored runs; rerun the commands to reproduce.`,
    '',
    'Times: per run, the median over its epochs (other work on a shared machine slows some epochs); mean over seeds. Speed vs LDRL compares ms per training image at the same thread count.',
    '',
  ];
  const order = ['full', 'medium', 'quick', 'custom'];
  const sections = [...new Set(aggs.filter((a) => a.table !== 'sweep').map((a) => `${a.table}|${a.profile}`))].sort((x, y) => {
    const [tx, px] = x.split('|');
    const [ty, py] = y.split('|');
    return tx.localeCompare(ty) || order.indexOf(px) - order.indexOf(py);
  });
  const blownUp = blownUpRuns(store);
  const findings = renderFindings(aggs, blownUp);
  if (findings) md.push('## What the comparison shows', '', findings);
  if (sections.length) md.push('## Summary', '', 'Test accuracy % (last epoch; mean over seeds), best first; published numbers: the paper\'s TJML-DTP (Tables 1-4) and Kao et al. 2024 (MLP table).', '', renderSummary(aggs, sections, blownUp));
  for (const sec of sections) {
    const [t, prof] = sec.split('|');
    const title =
      prof === 'full'
        ? t === 'mlp' ? "Kao et al.'s protocol (100 epochs, all data)" : "the paper's full budget"
        : prof === 'medium'
          ? 'medium profile (one reduced budget every method runs: methods compare, the paper\'s numbers do not)'
          : prof === 'quick'
            ? 'quick profile (reduced budget: not comparable to the paper)'
            : 'other budgets';
    md.push(`## ${t}: ${title}`, '', renderTable(aggs, t, prof));
    for (const row of [...new Set(aggs.filter((a) => a.table === t && a.profile === prof).map((a) => a.row))]) {
      const rs = aggs.filter((a) => a.table === t && a.profile === prof && a.row === row);
      const style = (a: Agg) => ({ color: METHOD_COLORS[a.method], dashed: rs.findIndex((x) => x.method === a.method) !== rs.indexOf(a) });
      const curves = rs.map((a) => ({ name: methodLabel(a), ...style(a), xs: a.curves[0].map((e) => e.epoch + 1), ys: a.curves[0].map((e) => 100 * e.testAcc) }));
      const f1 = `${t}-${prof}-${row}-curves.svg`;
      fs.writeFileSync(path.join(outDir, f1), lineChart(curves, { title: `${row}: test accuracy (seed 0)`, xlabel: 'epoch', ylabel: 'test accuracy %', integerX: true }));
      md.push(`![${row} learning curves](${f1})`, '');
      const angles = rs
        .filter((a) => a.curves[0].at(-1)?.bpAngles)
        .map((a) => {
          const ang = a.curves[0].at(-1)!.bpAngles!;
          return { name: methodLabel(a), ...style(a), xs: ang.map((_, i) => i), ys: ang };
        });
      if (angles.length) {
        const f2 = `${t}-${prof}-${row}-bp-angles.svg`;
        fs.writeFileSync(path.join(outDir, f2), lineChart(angles, { title: `${row}: angle to the BP gradient per block (last epoch)`, xlabel: 'block', ylabel: 'degrees', integerX: true }));
        md.push(`![${row} BP angles](${f2})`, '');
      }
      // the other figures are a click away: per-block Jacobian matching and alignment, time per epoch
      const more: string[] = [];
      const f3 = `${t}-${prof}-${row}-speed.svg`;
      fs.writeFileSync(
        path.join(outDir, f3),
        barChart(rs.map((a) => ({ label: methodLabel(a), value: mean(a.epochS), color: METHOD_COLORS[a.method] })), { title: `${row}: training time per epoch`, xlabel: 'seconds per epoch', logX: true }),
      );
      more.push(`[time per epoch](${f3})`);
      const floor = 1e-4;
      const jml = lastEpochPerBlock(rs, 'tjml', (y) => Math.max(floor, y)).map((x) => ({ ...x, ...style(rs.find((a) => methodLabel(a) === x.name)!) }));
      if (jml.length) {
        const f4 = `${t}-${prof}-${row}-tjml.svg`;
        fs.writeFileSync(
          path.join(outDir, f4),
          lineChart(jml, { title: `${row}: relative TJML of the feedback used, per block (last epoch; floor ${floor})`, xlabel: 'block', ylabel: '||J_G - J_F^T||^2 / ||J_F^T||^2', logY: true, integerX: true }),
        );
        more.push(`[Jacobian matching per block](${f4})`);
      }
      const align = lastEpochPerBlock(rs, 'alignment').map((x) => ({ ...x, ...style(rs.find((a) => methodLabel(a) === x.name)!) }));
      if (align.length) {
        const f5 = `${t}-${prof}-${row}-alignment.svg`;
        fs.writeFileSync(
          path.join(outDir, f5),
          lineChart(align, { title: `${row}: feedback-forward alignment per block (last epoch; > 0: targets move the output the right way)`, xlabel: 'block', ylabel: 'cos(v, J_F J_G v)', integerX: true }),
        );
        more.push(`[feedback-forward alignment per block](${f5})`);
      }
      md.push(`${row}, more figures: ${more.join(' · ')}`, '');
    }
  }
  const sweeps = renderSweeps(aggs);
  if (store.runs().some((r) => unfinished(r.status)))
    md.push(
      '## Unfinished runs',
      '',
      'Runs that stopped part-way (interrupted, still going when this report was written, or stopped by hand with the reason shown): not in the tables above. Rerunning the command that started one resumes it from its last epoch. The figures overlay each grid cell\'s unfinished runs with its finished runs of the same epoch budget.',
      '',
      renderRuns(store, undefined, unfinished),
      ...unfinishedFigures(store, outDir),
    );
  if (blownUp.length)
    md.push(
      '## Diverged and failed grid runs',
      '',
      "Grid cells whose run blew up (loss over 10x its first loss) or failed, with where and what its note says to lower: in no table above, and listed here so that no cell is hidden. A cell rerun at a tuned setting appears in its table beside it.",
      '',
      renderRuns(store, undefined, (s, name) => blownUpStatus(s) && !!gridCell(name)),
    );
  if (store.runs().some((r) => r.status === 'retired'))
    md.push(
      '## Retired runs',
      '',
      'Runs set aside by hand (`targetprop runs --retire`) with the reason shown, e.g. computed by code since found wrong: kept for the record, in no table or figure above.',
      '',
      renderRuns(store, undefined, (s) => s === 'retired'),
    );
  if (sweeps) md.push('## Tuning sweeps (`targetprop sweep`)', '', 'Held-out accuracy is on the validation split when the budget shows one.', '', sweeps);
  if (figure2?.length) {
    const f = 'figure2.svg';
    const s = (name: string, k: keyof TimingRow) => ({ name, xs: figure2.map((r) => r.n), ys: figure2.map((r) => r[k] as number) });
    fs.writeFileSync(
      path.join(outDir, f),
      lineChart([s('inverse (IJML)', 'inverseMs'), s('pseudo-inverse (PJML)', 'pinverseMs'), s('transpose (TJML)', 'transposeMs')], {
        title: 'Figure 2: time to form the feedback matrix',
        xlabel: 'n (n x n weight)',
        ylabel: 'ms (log scale)',
        logY: true,
      }),
    );
    md.push('## Figure 2: inverse vs pseudo-inverse vs transpose', '', '| n | inverse ms | pinverse ms | transpose ms |', '|---|---|---|---|');
    for (const r of figure2) md.push(`| ${r.n} | ${r.inverseMs.toFixed(3)} | ${r.pinverseMs.toFixed(3)} | ${r.transposeMs.toFixed(4)} |`);
    md.push('', `![figure 2](${f})`, '');
  }
  const file = path.join(outDir, 'report.md');
  fs.writeFileSync(file, md.join('\n'));
  return file;
}
