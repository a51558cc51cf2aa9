// Runs as text: each ended run (done, failed, stopped or retired) is one JSON file in an export
// folder (docs/results/runs in this repository), holding its config, status, environment and every
// epoch's metrics and diagnostics, but no checkpoint. The files are committed, so the report can be
// regenerated anywhere (`targetprop report --from docs/results`) and a new machine loses no run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EpochRow, RunRow, Store } from './store';

export const EXPORT_VERSION = 1;

/** One run as stored in its export file. Config, engine and diagnostics are parsed JSON, so diffs read as fields. */
export interface ExportedRun {
  version: number;
  id: number;
  key: string;
  name: string;
  seed: number;
  status: RunRow['status'];
  note: string | null;
  git: string;
  started: string;
  finished: string | null;
  train_acc: number | null;
  test_acc: number | null;
  engine: unknown;
  config: unknown;
  epochs: (Omit<EpochRow, 'run_id' | 'diagnostics'> & { diagnostics: unknown })[];
}

/** A run ended (by training, divergence or hand) and so final enough to commit; 'running' ones keep changing. */
export const exportable = (status: string) => status !== 'running';

/** The file a run is exported to: its key (stable across machines and ids), under a folder named after the run's name. */
export function exportPath(dir: string, r: Pick<RunRow, 'name' | 'key'>): string {
  const folder = r.name.replace(/[^A-Za-z0-9._-]+/g, '_');
  return path.join(dir, folder, `${r.key.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);
}

function toExport(store: Store, r: RunRow): ExportedRun {
  // owner (the process training a run) is transient and machine-bound: not exported
  return {
    version: EXPORT_VERSION,
    id: r.id,
    key: r.key,
    name: r.name,
    seed: r.seed,
    status: r.status,
    note: r.note,
    git: r.git,
    started: r.started,
    finished: r.finished,
    train_acc: r.train_acc,
    test_acc: r.test_acc,
    engine: JSON.parse(r.engine),
    config: JSON.parse(r.config),
    epochs: store.epochs(r.id).map(({ run_id: _r, diagnostics, ...e }) => ({ ...e, diagnostics: JSON.parse(diagnostics || '{}') })),
  };
}

/** Pretty JSON with one epoch per line: small diffs when a run is re-exported, readable in review. */
function serialize(e: ExportedRun): string {
  const { epochs, ...head } = e;
  const top = JSON.stringify(head, null, 1).replace(/\n}$/, '');
  return `${top},\n "epochs": [\n${epochs.map((x) => `  ${JSON.stringify(x)}`).join(',\n')}\n ]\n}\n`;
}

/** Writes one run's export file (atomically: a crash leaves the old file or the new one). */
export function exportRun(store: Store, id: number, dir: string): string {
  const r = store.getRun(id);
  if (!r) throw new Error(`export: no run with id ${id} in ${store.file}`);
  const file = exportPath(dir, r);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, serialize(toExport(store, r)));
  fs.renameSync(`${file}.tmp`, file);
  // a retired run's key gained a suffix: its export under the old key is replaced by this one
  const base = r.key.replace(/#retired-\d+$/, '');
  if (base !== r.key) fs.rmSync(exportPath(dir, { ...r, key: base }), { force: true });
  return file;
}

/** Exports every ended run; returns the files written. */
export function exportRuns(store: Store, dir: string): string[] {
  return store
    .runs()
    .filter((r) => exportable(r.status))
    .map((r) => exportRun(store, r.id, dir));
}

/** Every export file under `dir`, parsed and checked, in id order. A bad file fails with its name. */
export function readExports(dir: string): ExportedRun[] {
  if (!fs.existsSync(dir)) return [];
  if (!fs.statSync(dir).isDirectory()) throw new Error(`${dir}: expected a folder of exported runs, found a file`);
  const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).sort();
  const runs = files.map((f) => {
    const file = path.join(dir, f);
    let e: ExportedRun;
    try {
      e = JSON.parse(fs.readFileSync(file, 'utf8')) as ExportedRun;
    } catch (err) {
      throw new Error(`${file}: not a run export (${(err as Error).message})`);
    }
    if (e.version !== EXPORT_VERSION || typeof e.key !== 'string' || !Number.isInteger(e.id) || !Array.isArray(e.epochs))
      throw new Error(`${file}: not a run export of version ${EXPORT_VERSION} (needs version, id, key, epochs)`);
    return e;
  });
  return runs.sort((a, b) => a.id - b.id || a.key.localeCompare(b.key));
}

/**
 * Loads exported runs into a store. A run whose key is already there is skipped (the store's copy
 * may be newer); ids are kept where free, so a report from the imported runs names the same runs.
 * Returns how many were added.
 */
export function importRuns(store: Store, runs: ExportedRun[]): number {
  let added = 0;
  const insertRun = store.db.prepare(
    `INSERT INTO runs (id, key, name, config, seed, git, engine, status, started, finished, train_acc, test_acc, note)
     VALUES (@id, @key, @name, @config, @seed, @git, @engine, @status, @started, @finished, @train_acc, @test_acc, @note)`,
  );
  const insertEpoch = store.db.prepare(
    `INSERT INTO epochs VALUES (@run_id, @epoch, @lr, @train_loss, @train_acc, @test_loss, @test_acc, @feedback_s, @forward_s, @img_per_s, @diagnostics)`,
  );
  store.db.transaction(() => {
    for (const e of runs) {
      if (store.findRun(e.key)) continue;
      const id = store.getRun(e.id) ? null : e.id;
      const info = insertRun.run({
        id,
        key: e.key,
        name: e.name,
        config: JSON.stringify(e.config),
        seed: e.seed,
        git: e.git,
        engine: JSON.stringify(e.engine),
        status: e.status,
        started: e.started,
        finished: e.finished,
        train_acc: e.train_acc,
        test_acc: e.test_acc,
        note: e.note,
      });
      const runId = Number(info.lastInsertRowid);
      for (const ep of e.epochs) insertEpoch.run({ ...ep, run_id: runId, diagnostics: JSON.stringify(ep.diagnostics) });
      added++;
    }
  })();
  return added;
}
