// Runs are data: one SQLite file (WAL, so several processes can write at once) holding every
// run's config, environment, per-epoch metrics and its latest checkpoint. Each epoch's metrics
// and checkpoint are written in one transaction, so a crash loses at most the current epoch.
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportRun } from './export';

/** Whether the process behind a claim 'host:pid' still runs (claims from other hosts are trusted as live). */
function ownerAlive(owner: string): boolean {
  const i = owner.lastIndexOf(':');
  if (owner.slice(0, i) !== os.hostname()) return true;
  try {
    process.kill(Number(owner.slice(i + 1)), 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RunRow {
  id: number;
  key: string;
  name: string;
  config: string;
  seed: number;
  git: string;
  engine: string;
  /**
   * 'stopped': ended by hand part-way (`targetprop runs --stop`); its checkpoint stays, so it can resume.
   * 'retired': set aside by hand (`targetprop runs --retire`, e.g. computed by code since found
   * wrong); kept for the record, out of every table, and its config runs afresh when run again.
   */
  status: 'running' | 'done' | 'failed' | 'diverged' | 'stopped' | 'retired';
  started: string;
  finished: string | null;
  train_acc: number | null;
  test_acc: number | null;
  /** why a run was stopped or retired */
  note: string | null;
  /** 'host:pid' of the process training it (claimRun), if any */
  owner?: string | null;
}

export interface EpochRow {
  run_id: number;
  epoch: number;
  lr: number;
  train_loss: number;
  train_acc: number;
  test_loss: number;
  test_acc: number;
  feedback_s: number;
  forward_s: number;
  img_per_s: number;
  diagnostics: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  config TEXT NOT NULL,
  seed INTEGER NOT NULL,
  git TEXT NOT NULL,
  engine TEXT NOT NULL,
  status TEXT NOT NULL,
  started TEXT NOT NULL,
  finished TEXT,
  train_acc REAL,
  test_acc REAL,
  note TEXT
);
CREATE TABLE IF NOT EXISTS epochs (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  epoch INTEGER NOT NULL,
  lr REAL, train_loss REAL, train_acc REAL, test_loss REAL, test_acc REAL,
  feedback_s REAL, forward_s REAL, img_per_s REAL,
  diagnostics TEXT,
  PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS checkpoints (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id),
  epoch INTEGER NOT NULL,
  data BLOB NOT NULL
);
`;

export interface StoreOptions {
  /**
   * Folder of run exports (docs/results/runs in this repository): every run that ends (done,
   * diverged, stopped or retired) is written there as text at once, ready to commit.
   */
  exportDir?: string;
}

export class Store {
  readonly db: Database.Database;
  readonly exportDir?: string;
  constructor(readonly file: string, o: StoreOptions = {}) {
    this.exportDir = o.exportDir;
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = this.named('open', () => {
      if (file !== ':memory:' && fs.existsSync(file) && !fs.statSync(file).isFile()) throw new Error('expected a database file, found a folder');
      const db = new Database(file, { timeout: 30000 });
      try {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.exec(SCHEMA);
      } catch (e) {
        db.close();
        throw e;
      }
      return db;
    });
    this.migrate();
  }
  /** SQLite's errors ('file is not a database', 'database or disk is full') name no file: these do. */
  private named<T>(what: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      const err = e as Error;
      if (err.message.startsWith(this.file)) throw err;
      throw new Error(`${this.file}: ${what}: ${err.message}`);
    }
  }
  /** Databases written before a column existed gain it (another process may add it at the same moment). */
  private migrate(): void {
    for (const col of ['note', 'owner']) {
      const has = () => (this.db.prepare('PRAGMA table_info(runs)').all() as { name: string }[]).some((c) => c.name === col);
      if (has()) continue;
      try {
        this.db.exec(`ALTER TABLE runs ADD COLUMN ${col} TEXT`);
      } catch (e) {
        if (!has()) throw e;
      }
    }
  }
  /**
   * Claims a run for this process, atomically: a run another live process on this machine is
   * training is refused (the same config started twice would train twice and write one run).
   * A claim left by a dead process (a crash, kill -9) is taken over.
   */
  claimRun(id: number): void {
    const me = `${os.hostname()}:${process.pid}`;
    this.named(`claiming run ${id}`, () =>
      this.db.transaction(() => {
        const r = this.db.prepare('SELECT name, owner FROM runs WHERE id = ?').get(id) as { name: string; owner: string | null } | undefined;
        if (!r) throw new Error(`no run with id ${id}`);
        if (r.owner && r.owner !== me && ownerAlive(r.owner))
          throw new Error(`run ${id} (${r.name}) is being trained by process ${r.owner.split(':').pop()} on this machine; wait for it to end, or stop that process`);
        this.db.prepare('UPDATE runs SET owner = ? WHERE id = ?').run(me, id);
      }).immediate(),
    );
  }
  /** Gives a run's claim back (its process ends training it). */
  releaseRun(id: number): void {
    this.db.prepare('UPDATE runs SET owner = NULL WHERE id = ? AND owner = ?').run(id, `${os.hostname()}:${process.pid}`);
  }
  close(): void {
    this.db.close();
  }
  findRun(key: string): RunRow | undefined {
    return this.db.prepare('SELECT * FROM runs WHERE key = ?').get(key) as RunRow | undefined;
  }
  getRun(id: number): RunRow | undefined {
    return this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
  }
  /** Creates the run for `key`, or returns the existing one (resume). */
  openRun(r: Pick<RunRow, 'key' | 'name' | 'config' | 'seed' | 'git' | 'engine'>): RunRow {
    return this.named(`opening run ${r.name}`, () => this.openRunTx(r));
  }
  private openRunTx(r: Pick<RunRow, 'key' | 'name' | 'config' | 'seed' | 'git' | 'engine'>): RunRow {
    this.db
      .prepare(
        `INSERT INTO runs (key, name, config, seed, git, engine, status, started) VALUES (@key, @name, @config, @seed, @git, @engine, 'running', @started)
         ON CONFLICT(key) DO NOTHING`,
      )
      .run({ ...r, started: new Date().toISOString() });
    return this.findRun(r.key)!;
  }
  setEngine(id: number, engine: string): void {
    this.db.prepare('UPDATE runs SET engine = ? WHERE id = ?').run(engine, id);
  }
  /** Stores one epoch's metrics and the checkpoint after it, atomically. */
  commitEpoch(e: EpochRow, checkpoint: Buffer | null): void {
    this.named(`storing epoch ${e.epoch + 1} of run ${e.run_id}`, () => this.commitEpochTx(e, checkpoint));
  }
  private commitEpochTx(e: EpochRow, checkpoint: Buffer | null): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT OR REPLACE INTO epochs VALUES (@run_id, @epoch, @lr, @train_loss, @train_acc, @test_loss, @test_acc, @feedback_s, @forward_s, @img_per_s, @diagnostics)`,
        )
        .run(e);
      if (checkpoint)
        this.db.prepare('INSERT OR REPLACE INTO checkpoints (run_id, epoch, data) VALUES (?, ?, ?)').run(e.run_id, e.epoch, checkpoint);
    })();
  }
  /** Ends a run: 'done', or 'diverged' / 'failed' with `note` saying where and why. */
  finishRun(id: number, status: 'done' | 'failed' | 'diverged', trainAcc: number | null, testAcc: number | null, note: string | null = null): void {
    this.db
      .prepare('UPDATE runs SET status = ?, finished = ?, train_acc = ?, test_acc = ?, note = ? WHERE id = ?')
      .run(status, new Date().toISOString(), trainAcc, testAcc, note, id);
    if (status === 'done') this.db.prepare('DELETE FROM checkpoints WHERE run_id = ?').run(id);
    this.exported(id);
  }
  /** Writes an ended run's export file when the store has an export folder. */
  private exported(id: number): void {
    if (this.exportDir) exportRun(this, id, this.exportDir);
  }
  /** Marks an unfinished run as ended by hand, with the reason; rerunning its command resumes it. */
  stopRun(id: number, why: string): void {
    const r = this.getRun(id);
    if (!r) throw new Error(`no run with id ${id}`);
    if (r.status !== 'running' && r.status !== 'stopped') throw new Error(`run ${id} (${r.name}) is ${r.status}; only an unfinished run can be stopped`);
    this.db.prepare("UPDATE runs SET status = 'stopped', finished = ?, note = ? WHERE id = ?").run(new Date().toISOString(), why, id);
    this.exported(id);
  }
  /**
   * Sets a run aside with the reason: its key is freed (rerunning its config starts a new run) and
   * its checkpoint dropped. A run marked running may still be training in some process: stop it first.
   */
  retireRun(id: number, why: string): void {
    const r = this.getRun(id);
    if (!r) throw new Error(`no run with id ${id}`);
    if (r.status === 'running') throw new Error(`run ${id} (${r.name}) is marked running; stop it first (runs --stop ${id} --why ...), then retire it`);
    this.db.transaction(() => {
      this.db
        .prepare("UPDATE runs SET status = 'retired', note = ?, key = key || ?, finished = COALESCE(finished, ?) WHERE id = ?")
        .run(why, r.status === 'retired' ? '' : `#retired-${id}`, new Date().toISOString(), id);
      this.db.prepare('DELETE FROM checkpoints WHERE run_id = ?').run(id);
    })();
    this.exported(id);
  }
  /** A stopped run taken up again. */
  reopenRun(id: number): void {
    this.db.prepare("UPDATE runs SET status = 'running', finished = NULL, note = NULL WHERE id = ? AND status = 'stopped'").run(id);
  }
  checkpoint(runId: number): { epoch: number; data: Buffer } | undefined {
    return this.db.prepare('SELECT epoch, data FROM checkpoints WHERE run_id = ?').get(runId) as { epoch: number; data: Buffer } | undefined;
  }
  epochs(runId: number): EpochRow[] {
    return this.db.prepare('SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch').all(runId) as EpochRow[];
  }
  runs(): RunRow[] {
    return this.db.prepare('SELECT * FROM runs ORDER BY id').all() as RunRow[];
  }
}

/** Serialises float32 arrays: [count][len_i...][data...]. */
export function packArrays(arrays: Float32Array[]): Buffer {
  const head = new Uint32Array([arrays.length, ...arrays.map((a) => a.length)]);
  const bufs = [Buffer.from(head.buffer), ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))];
  return Buffer.concat(bufs);
}
export function unpackArrays(b: Buffer): Float32Array[] {
  const ab = new Uint8Array(b).buffer;
  const n = new Uint32Array(ab, 0, 1)[0];
  const lens = new Uint32Array(ab, 4, n);
  let off = 4 * (n + 1);
  return Array.from(lens, (len) => {
    const a = new Float32Array(ab.slice(off, off + 4 * len));
    off += 4 * len;
    return a;
  });
}
