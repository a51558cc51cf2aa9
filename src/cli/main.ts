#!/usr/bin/env node
// targetprop command line: train, data, reproduce, figure2, report.
import './errors';
import { Args, buildProgram } from './program';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { earlyStopOf, train } from '../experiments/train';
import { TRAIN_DEFAULTS, TrainConfig, validateConfig } from '../experiments/config';
import { Cell, PROFILES, Profile, TABLES, TableName, budgetOf, grid, isTable, tunedDefaults } from '../experiments/grids';
import { matrixTimings } from '../experiments/figure2';
import { gridBase, numberList, runSweep, sweepName } from '../experiments/sweep';
import { aggregate, renderSweeps, renderTable, writeReport } from '../experiments/report';
import { Store } from '../store/store';
import { exportRunList, renderRuns } from '../experiments/runlist';
import { exportRuns, importRuns, readExports } from '../store/export';
import { reportFromDir } from '../experiments/report';
import { DATASETS, classCounts, dataDir, loadDataset } from '../data/datasets';
import { fetchDataset } from '../data/fetch';
import { isMethod } from '../methods/factory';
import { checkTrainConfig } from '../experiments/schema';
import { MODELS, loadModel } from '../models';
import { evaluate, predict } from '../experiments/evaluate';
import { subset } from '../data/datasets';
import { setDefaultDevice } from '../engine';

/** A comma list of image indices, each within [0, n). */
function numberListOf(flag: string, s: string, n: number): number[] {
  const v = s.split(',').filter(Boolean).map(Number);
  if (!v.length || v.some((x) => !Number.isInteger(x) || x < 0 || x >= n)) throw new Error(`--${flag} expects image indices 0..${n - 1} separated by commas, got '${s}'`);
  return v;
}

function num(a: Args, k: string): number | undefined {
  if (a[k] === undefined) return undefined;
  // a flag given no value ('--batch --seed 3') must not become 1
  if (typeof a[k] !== 'string' || a[k] === '') throw new Error(`--${k} expects a number, got no value`);
  const v = Number(a[k]);
  if (!Number.isFinite(v)) throw new Error(`--${k} expects a number, got '${a[k]}'`);
  return v;
}

/** A boolean flag: bare, or true/false/yes/no/1/0 ('--augment false' turns it off). */
function flag(a: Args, k: string): boolean | undefined {
  const v = a[k];
  if (v === undefined) return undefined;
  if (v === true) return true;
  const s = String(v).toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(s)) return true;
  if (['false', 'no', '0', 'off'].includes(s)) return false;
  throw new Error(`--${k} is a switch: give it alone or as --${k} true|false, got '${v}'`);
}

/** A string flag's value; a flag given none fails naming it. */
function text(a: Args, k: string): string | undefined {
  const v = a[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new Error(`--${k} expects a value`);
  return v;
}

/** A config file (JSON, or YAML by extension), read and parsed with the file named in every error. */
function readConfigFile(file: string): Partial<TrainConfig> {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new Error(`--config ${file}: no such file`);
  }
  if (!st.isFile()) throw new Error(`--config ${file}: expected a JSON or YAML file, found a ${st.isDirectory() ? 'folder' : 'special file'}`);
  const body = fs.readFileSync(file, 'utf8');
  if (!body.trim()) throw new Error(`--config ${file}: the file is empty`);
  let c: unknown;
  try {
    c = file.endsWith('.json') ? JSON.parse(body) : YAML.parse(body);
  } catch (e) {
    throw new Error(`--config ${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw new Error(`--config ${file}: expected an object of config fields, got ${JSON.stringify(c)}`);
  try {
    checkTrainConfig(c);
  } catch (e) {
    throw new Error(`--config ${file}: ${(e as Error).message}`);
  }
  return c as Partial<TrainConfig>;
}

export function configFromArgs(a: Args): Partial<TrainConfig> {
  let c: Partial<TrainConfig> = {};
  const file = text(a, 'config');
  if (file) c = readConfigFile(file);
  const set = <K extends keyof TrainConfig>(k: K, v: TrainConfig[K] | undefined) => {
    if (v !== undefined) c[k] = v;
  };
  set('model', text(a, 'model'));
  set('data', text(a, 'data') as TrainConfig['data'] | undefined);
  set('method', text(a, 'method') as TrainConfig['method'] | undefined);
  set('epochs', num(a, 'epochs'));
  set('batchSize', num(a, 'batch'));
  set('lr', num(a, 'lr'));
  set('beta', num(a, 'beta'));
  set('seed', num(a, 'seed'));
  set('trainSubset', num(a, 'train-subset'));
  set('testSubset', num(a, 'test-subset'));
  set('valSize', num(a, 'val'));
  set('diagnosticsEvery', num(a, 'diagnostics-every'));
  set('device', text(a, 'device'));
  const patience = num(a, 'early-stop');
  if (patience !== undefined) c.earlyStop = { patience };
  if (flag(a, 'full-data')) c.trainSubset = c.testSubset = undefined;
  const aug = flag(a, 'augment');
  if (aug !== undefined) c.augment = aug;
  if (typeof a['model-config'] === 'string') {
    const want = `--model-config expects a JSON object such as '{"norm":"batch"}'`;
    let mc: unknown;
    try {
      mc = JSON.parse(a['model-config']);
    } catch (e) {
      throw new Error(`${want}: ${(e as Error).message}`);
    }
    if (!mc || typeof mc !== 'object' || Array.isArray(mc)) throw new Error(`${want}, got ${a['model-config']}`);
    c.modelConfig = { ...c.modelConfig, ...(mc as Record<string, unknown>) };
  }
  if (typeof a.optimizer === 'string') {
    const kind = a.optimizer;
    if (kind !== 'sgd' && kind !== 'adam' && kind !== 'adamw') throw new Error(`unknown optimizer '${kind}' (expected sgd, adam or adamw)`);
    c.optimizer = kind === 'sgd' ? TRAIN_DEFAULTS.optimizer : { kind };
  }
  return c;
}

/**
 * A grid cell cut to `epochs` of its profile's `full` epochs: a cosine schedule keeps its shape
 * (its length and warmup scaled by the same ratio), so a 10-epoch cell of a 100-epoch grid anneals
 * to its floor as the full run does instead of stopping at 97 % of its lr.
 */
function shortened(c: Partial<TrainConfig>, epochs: number, full: number): Partial<TrainConfig> {
  const s = c.schedule;
  if (s?.kind !== 'cosine') return { epochs };
  const scale = (n: number) => Math.max(1, Math.round((n * epochs) / full));
  return { epochs, schedule: { ...s, tMax: scale(s.tMax), ...(s.warmup ? { warmup: Math.min(scale(s.warmup), epochs - 1) } : {}) } };
}

/**
 * The grid's settings for the model and method the flags name (lr, beta, batch, optimizer,
 * feedback), under the flags: `train` and a plain `sweep` start from what the paper grids use.
 */
function withGridSettings(flags: Partial<TrainConfig>): Partial<TrainConfig> {
  const model = flags.model ?? TRAIN_DEFAULTS.model;
  const method = flags.method ?? TRAIN_DEFAULTS.method;
  const data = flags.data ?? TRAIN_DEFAULTS.data;
  // validateConfig names a bad method, model or dataset: no settings line about a cell that cannot exist
  if (!isMethod(method) || !Object.hasOwn(MODELS, model) || !DATASETS.includes(data)) return flags;
  const tuned = tunedDefaults(model, method, data);
  console.log(
    tuned
      ? `settings: ${method} on ${model} as in the ${tuned.table} grid's ${tuned.data} cell (src/experiments/grids.ts); flags and --config override them`
      : `settings: no grid runs ${method} on ${model}; generic defaults (tune them with \`targetprop sweep\`)`,
  );
  return { ...tuned?.settings, ...flags };
}

const resultsDir = (a: Args) => path.resolve((a.results as string) ?? 'results');
/** --export-dir (or TARGETPROP_EXPORT_DIR): where each run is written as text when it ends, ready to commit. */
const exportDirOf = (a: Args) => {
  const d = typeof a['export-dir'] === 'string' ? a['export-dir'] : process.env.TARGETPROP_EXPORT_DIR;
  return d ? path.resolve(d) : undefined;
};
const openStore = (a: Args) => new Store(path.join(resultsDir(a), 'runs.sqlite'), { exportDir: exportDirOf(a) });
/** For commands that only read runs: a mistyped --results names its folder instead of making an empty database there. */
const openExistingStore = (a: Args) => {
  const file = path.join(resultsDir(a), 'runs.sqlite');
  if (!fs.existsSync(file)) throw new Error(`${file}: no runs database there (train, sweep and reproduce make one; --results names its folder)`);
  return openStore(a);
};

/** Runs one parsed command (program.ts parses the command line). */
export async function runCommand(cmd: string, a: Args): Promise<void> {
  const dd = a['data-dir'] as string | undefined;
  switch (cmd) {
    case 'train': {
      const named = text(a, 'name');
      const tags = text(a, 'tags')?.split(',').filter(Boolean);
      const cfg = { ...TRAIN_DEFAULTS, ...withGridSettings(configFromArgs(a)), ...(named ? { name: named } : {}), ...(tags ? { tags } : {}) };
      validateConfig(cfg);
      console.log(`config: ${JSON.stringify(cfg)}`);
      if (a['print-config'] !== undefined) return;
      const store = openStore(a);
      console.log(`training ${cfg.model} on ${cfg.data} with ${cfg.method}: ${cfg.epochs} epoch(s), batch ${cfg.batchSize}, lr ${cfg.lr}, beta ${cfg.beta}` +
        (cfg.trainSubset ? `, first ${cfg.trainSubset} train / ${cfg.testSubset ?? 'all'} test images` : ''));
      const held = cfg.valSize && !cfg.earlyStop ? 'val' : 'test';
      const r = await train(cfg, {
        store,
        dataDir: dd,
        quiet: !!a.quiet,
        saveTo: text(a, 'save'),
        onEpoch: (m) =>
          console.log(
            `epoch ${m.epoch + 1}: train loss ${m.trainLoss.toFixed(4)} acc ${(100 * m.trainAcc).toFixed(2)}% | ` +
              (m.valAcc !== undefined ? `val acc ${(100 * m.valAcc).toFixed(2)}% | ` : '') +
              `${held} acc ${(100 * m.testAcc).toFixed(2)}% | ` +
              `${m.imgPerS.toFixed(0)} img/s, feedback ${m.feedbackS.toFixed(1)} s, forward ${m.forwardS.toFixed(1)} s` +
              (m.bpAngles ? ` | BP angle per block ${m.bpAngles.map((x) => x.toFixed(1)).join(', ')} deg` : '') +
              (m.tjml ? ` | TJML per block ${m.tjml.slice(1).map((x) => x.toPrecision(2)).join(', ')}` : ''),
          ),
      });
      const bestVal = cfg.earlyStop ? earlyStopOf(r.epochs, cfg.earlyStop.patience).best : -1;
      console.log(
        `done: train acc ${(100 * r.trainAcc).toFixed(2)}%, ${held} acc ${(100 * r.testAcc).toFixed(2)}%` +
          (bestVal >= 0 ? ` (best-val epoch ${bestVal + 1} of ${r.epochs.length})` : '') +
          ` (run ${r.runId} in ${store.file})` +
          (a.save ? `; model saved to ${a.save}` : ''),
      );
      store.close();
      return;
    }
    case 'data': {
      const sub = a._[1];
      if (sub === 'fetch') {
        const names = a._.slice(2);
        if (!names.length) throw new Error(`data fetch: name a dataset (${DATASETS.join(', ')})`);
        for (const n of names) console.log(`${n}: ${await fetchDataset(n, { dataDir: dd })}`);
        return;
      }
      if (sub === 'check') {
        for (const n of a._.length > 2 ? a._.slice(2) : DATASETS) {
          try {
            const ds = loadDataset(n, { dataDir: dd });
            console.log(`${n}: ok (${ds.train.n} train, ${ds.test.n} test, test classes ${classCounts(ds.test).join('/')}) from ${ds.source}`);
          } catch (e) {
            const msg = (e as Error).message;
            console.log(msg.startsWith(`${n}:`) ? msg : `${n}: ${msg}`);
            process.exitCode = 1; // a missing or bad dataset fails the check
          }
        }
        return;
      }
      if (sub === 'dir') {
        console.log(dataDir(dd));
        return;
      }
      throw new Error('usage: targetprop data fetch|check|dir');
    }
    case 'eval':
    case 'predict': {
      const device = text(a, 'device');
      if (device) setDefaultDevice(device);
      const modelFile = text(a, 'model-file')!; // a required option (program.ts)
      const { net, meta } = loadModel(modelFile);
      try {
        const data = (a.data as string | undefined) ?? (meta.data as string | undefined);
        if (!data) throw new Error(`${cmd}: --data is needed (the model file does not name its dataset)`);
        const ds = loadDataset(data, { dataDir: dd });
        const split = a.split === 'train' ? ds.train : a.split === undefined || a.split === 'test' ? ds.test : null;
        if (!split) throw new Error(`--split must be train or test, got '${a.split}'`);
        if (cmd === 'eval') {
          const ev = evaluate(net, subset(split, num(a, 'test-subset')), ds.mean, ds.std);
          console.log(`${modelFile} (${meta.model}) on ${data} ${a.split ?? 'test'}: accuracy ${(100 * ev.acc).toFixed(2)}%, loss ${ev.loss.toFixed(4)}`);
        } else {
          const idx = numberListOf('indices', String(a.indices ?? '0'), split.n);
          for (const p of predict(net, split, idx, ds.mean, ds.std))
            console.log(`image ${p.index}: class ${p.label}${ds.classes ? ` (${ds.classes[p.label]})` : ''}, p = ${p.prob.toFixed(4)}; true class ${p.truth}`);
        }
      } finally {
        net.dispose();
      }
      return;
    }
    case 'figure2': {
      const rows = matrixTimings();
      const dir = resultsDir(a);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'figure2.json'), JSON.stringify(rows, null, 1));
      const ex = exportDirOf(a);
      if (ex) fs.writeFileSync(path.join(path.dirname(ex), 'figure2.json'), JSON.stringify(rows, null, 1));
      console.log('| n | inverse ms | pinverse ms | transpose ms |');
      for (const r of rows) console.log(`| ${r.n} | ${r.inverseMs.toFixed(3)} | ${r.pinverseMs.toFixed(3)} | ${r.transposeMs.toFixed(4)} |`);
      const store = openStore(a);
      console.log(`report: ${writeReport(store, (a.out as string) ?? path.join(dir, 'report'), rows)}`);
      store.close();
      return;
    }
    case 'reproduce': {
      const what = a._[1] as TableName | 'figure2';
      if (what === 'figure2') return runCommand('figure2', a);
      if (!isTable(what)) throw new Error(`reproduce: expected ${TABLES.join('|')}|figure2, got '${what ?? ''}'`);
      const profile = ((a.profile as string) ?? 'quick') as Profile;
      if (!PROFILES.includes(profile)) throw new Error(`--profile must be ${PROFILES.join(', ')}, got '${profile}'`);
      const seeds = num(a, 'seeds') ?? (profile === 'full' ? 5 : 1);
      const device = text(a, 'device');
      const epochs = num(a, 'epochs');
      if (epochs !== undefined && !(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`--epochs expects a whole number >= 1, got '${a.epochs}'`);
      const b = budgetOf(what, profile);
      // an expensive cell (LDRL on CIFAR-10's MLP) may run shorter than the profile: its rows then
      // sit under "other budgets", their budget column naming the epochs, never beside full rows
      const cells = selectCells(grid(what, profile, seeds), a).map((c) => ({
        ...c,
        config: { ...c.config, ...(device ? { device } : {}), ...(epochs !== undefined ? shortened(c.config, epochs, b.epochs) : {}) },
      }));
      const reduced = epochs !== undefined && epochs !== b.epochs;
      console.log(`${what} (${profile} profile${reduced ? `, ${epochs} epochs instead of ${b.epochs}: reported under other budgets` : ''}): ${cells.length} runs, ${epochs ?? b.epochs} epoch(s)` +
        (b.trainSubset ? `, first ${b.trainSubset} train images / ${b.testSubset ? `first ${b.testSubset}` : 'all'} test images (reduced budget: not the paper's numbers)` : ', full data'));
      cells.forEach((c) => validateConfig({ ...TRAIN_DEFAULTS, ...c.config }));
      // every dataset the grid needs is found and verified before the first run (loads are memoised,
      // so training reuses them): a missing CIFAR-10 must not surface hours into Table 1
      const needed = [...new Set(cells.map((c) => c.config.data as string))];
      const bad = needed.flatMap((d) => {
        try {
          loadDataset(d, { dataDir: dd });
          return [];
        } catch (e) {
          return [{ d, why: (e as Error).message }];
        }
      });
      if (bad.length) {
        const ok = needed.filter((d) => !bad.some((b) => b.d === d));
        throw new Error(
          `${what} needs datasets that are missing or bad, so nothing was run:\n` +
            bad.map((b) => `  ${b.why}`).join('\n') +
            (ok.length ? `\n  or run the cells that can run now: targetprop reproduce ${what} --profile ${profile} --data ${ok.join(',')}` : ''),
        );
      }
      const store = openStore(a);
      for (const [i, c] of cells.entries()) {
        console.log(`[${i + 1}/${cells.length}] ${c.config.name} seed ${c.config.seed}`);
        try {
          await train(c.config, { store, dataDir: dd, quiet: !!a.quiet });
        } catch (e) {
          console.log(`  failed: ${(e as Error).message}`);
        }
      }
      console.log('\n' + renderTable(aggregate(store), what, reduced ? 'custom' : profile));
      const f2 = path.join(resultsDir(a), 'figure2.json');
      const rows = fs.existsSync(f2) ? JSON.parse(fs.readFileSync(f2, 'utf8')) : undefined;
      console.log(`report: ${writeReport(store, (a.out as string) ?? path.join(resultsDir(a), 'report'), rows)}`);
      store.close();
      return;
    }
    case 'sweep': {
      const lrs = numberList('lr', String(a.lr ?? ''));
      const betas = numberList('beta', String(a.beta ?? ''));
      const rest: Args = { ...a, _: a._ };
      delete rest.lr;
      delete rest.beta;
      delete rest.seeds;
      delete rest.from;
      const flags = configFromArgs(rest);
      let base: Partial<TrainConfig> = a.from === undefined ? withGridSettings(flags) : flags;
      if (a.from !== undefined) {
        if (!isTable(a.from)) throw new Error(`--from expects ${TABLES.join('|')}, got '${a.from}'`);
        if (!flags.method || !flags.data) throw new Error('sweep --from needs --method and --data to pick the grid cell');
        const cell = gridBase(a.from as TableName, flags.method, flags.data);
        base = { ...cell, ...flags, method: cell.method }; // --method may name a variant ('fwdtp-bn')
      }
      const seeds = Array.from({ length: num(a, 'seeds') ?? 1 }, (_, i) => (flags.seed ?? 0) + i);
      const store = openStore(a);
      const points = await runSweep({ base, lrs, betas, seeds }, { store, dataDir: dd, quiet: !!a.quiet, log: (l) => console.log(l) });
      const [, row, method] = sweepName(base);
      console.log(`\nevery stored point of this setting (held-out: ${base.valSize ? 'validation split' : 'test set'}):\n` + renderSweeps(aggregate(store), { row, method }));
      for (const p of points.filter((q) => q.error)) console.log(`lr ${p.lr} beta ${p.beta} seed ${p.seed}: ${p.error}`);
      store.close();
      return;
    }
    case 'runs': {
      // importing may start a new database; everything else reads one
      const imp = typeof a['import-dir'] === 'string' ? path.resolve(a['import-dir']) : undefined;
      if (imp && !fs.existsSync(imp)) throw new Error(`${imp}: no such folder of exported runs (such as docs/results/runs)`);
      const store = imp ? openStore(a) : openExistingStore(a);
      if (a.stop !== undefined) {
        const id = Number(a.stop);
        if (!Number.isInteger(id)) throw new Error(`--stop expects a run id (see targetprop runs), got '${a.stop}'`);
        if (typeof a.why !== 'string' || !a.why.trim()) throw new Error('--stop needs --why "reason" (shown beside the run in runs and report)');
        store.stopRun(id, a.why.trim());
        console.log(`run ${id} marked stopped: ${a.why.trim()} (a process still training it is not killed; rerunning its command resumes it)`);
      }
      if (a.retire !== undefined) {
        const id = Number(a.retire);
        if (!Number.isInteger(id)) throw new Error(`--retire expects a run id (see targetprop runs), got '${a.retire}'`);
        if (typeof a.why !== 'string' || !a.why.trim()) throw new Error('--retire needs --why "reason" (shown beside the run in runs and report)');
        store.retireRun(id, a.why.trim());
        console.log(`run ${id} retired: ${a.why.trim()} (out of the report's tables; rerunning its config starts a new run)`);
      }
      if (imp) {
        const n = importRuns(store, readExports(imp));
        console.log(`imported ${n} run(s) from ${a['import-dir']} (runs already in ${store.file} were kept)`);
      }
      if (a['export-dir'] !== undefined) {
        if (typeof a['export-dir'] !== 'string') throw new Error('--export-dir expects a folder');
        console.log(`exported ${exportRuns(store, path.resolve(a['export-dir'])).length} ended run(s) to ${a['export-dir']}`);
      }
      if (a.export !== undefined) {
        const f = text(a, 'export');
        if (f !== 'csv' && f !== 'jsonl') throw new Error(`--export expects csv or jsonl, got '${f}'`);
        process.stdout.write(exportRunList(store, f, typeof a.name === 'string' ? a.name : undefined));
        store.close();
        return;
      }
      console.log(renderRuns(store, typeof a.name === 'string' ? a.name : undefined));
      store.close();
      return;
    }
    case 'report': {
      // --from-dir DIR: the committed data (DIR/runs/, DIR/figure2.json) instead of the runs database
      if (a['from-dir'] !== undefined) {
        if (typeof a['from-dir'] !== 'string') throw new Error('--from-dir expects a folder (such as docs/results)');
        console.log(reportFromDir(path.resolve(a['from-dir']), path.resolve((a.out as string) ?? a['from-dir'])));
        return;
      }
      const store = openExistingStore(a);
      const f2 = path.join(resultsDir(a), 'figure2.json');
      const rows = fs.existsSync(f2) ? JSON.parse(fs.readFileSync(f2, 'utf8')) : undefined;
      console.log(writeReport(store, (a.out as string) ?? path.join(resultsDir(a), 'report'), rows));
      store.close();
      return;
    }
    default:
      throw new Error(`unknown command '${cmd}' (targetprop -h lists them)`);
  }
}

/** The grid cells picked by --methods / --data (comma lists); unknown names fail before any run. */
export function selectCells(cells: Cell[], a: Args): Cell[] {
  const pick = (k: 'methods' | 'data', of: (c: Cell) => string): Cell[] => {
    if (typeof a[k] !== 'string') return cells;
    const want = (a[k] as string).split(',').filter(Boolean);
    const have = [...new Set(cells.map(of))];
    const bad = want.filter((w) => !have.includes(w));
    if (bad.length) throw new Error(`--${k}: ${bad.join(', ')} not in this table (it has ${have.join(', ')})`);
    return cells.filter((c) => want.includes(of(c)));
  };
  cells = pick('methods', (c) => c.label);
  return pick('data', (c) => c.config.data as string);
}

/** The CLI: parses argv (program.ts) and runs the command; any error is one line and exit code 1. */
export async function main(argv: string[]): Promise<void> {
  await buildProgram(runCommand).parseAsync(argv, { from: 'user' });
}

if (require.main === module)
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(`targetprop: ${e.message}`);
    process.exit(1);
  });
