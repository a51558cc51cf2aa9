// `targetprop runs`: what the results database holds, including runs that stopped part-way
// (status 'running' with fewer epochs than configured, or 'stopped' by hand with a reason: rerun
// the same command to resume either) and runs retired by hand, with the reason.
import { Store } from '../store/store';
import { TrainConfig } from './config';
import { EpochMetrics, fromRow } from './train';
import { median } from './stats';
import { configDiff } from './config';

/** Every stored run as CSV or JSON lines (config included), for a spreadsheet or a script. */
export function exportRunList(store: Store, format: 'csv' | 'jsonl', filter?: string): string {
  const rows = store.runs().filter((r) => !filter || r.name.includes(filter));
  const recs = rows.map((r) => {
    const eps = store.epochs(r.id);
    return {
      id: r.id, name: r.name, seed: r.seed, status: r.status, epochs: eps.length,
      train_acc: r.train_acc, test_acc: r.test_acc, best_test_acc: eps.length ? Math.max(...eps.map((e) => e.test_acc)) : null,
      started: r.started, finished: r.finished, note: r.note, git: r.git, config: JSON.parse(r.config) as unknown,
    };
  });
  if (format === 'jsonl') return recs.map((x) => JSON.stringify(x)).join('\n') + (recs.length ? '\n' : '');
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const cols = ['id', 'name', 'seed', 'status', 'epochs', 'train_acc', 'test_acc', 'best_test_acc', 'started', 'finished', 'note', 'git', 'config'] as const;
  return [cols.join(','), ...recs.map((x) => cols.map((k) => cell(x[k])).join(','))].join('\n') + '\n';
}

/** '3.4 h' / '12 min': a remaining training time. */
const duration = (s: number) => (s >= 5400 ? `${(s / 3600).toFixed(1)} h` : `${Math.max(1, Math.round(s / 60))} min`);

/** '2 threads' from a run's stored engine info: per-image times only compare at equal counts. */
export function threadsOf(engine: string): string {
  try {
    const t = (JSON.parse(engine) as { threads?: number | number[] }).threads;
    // a run resumed at another count: its epoch times mix counts and compare with no other run
    if (Array.isArray(t)) return `${t.join('+')} threads (resumed at another count)`;
    return t ? `${t} thread${t > 1 ? 's' : ''}` : 'threads ?';
  } catch {
    return 'threads ?';
  }
}

/** Runs that have not finished: interrupted, still going, or stopped by hand. */
export const unfinished = (status: string) => status === 'running' || status === 'stopped';

/**
 * A markdown table of the stored runs whose name contains `filter` (all when omitted); with
 * `only`, just the runs whose status passes it (the report's unfinished and retired lists).
 */
export function renderRuns(store: Store, filter?: string, only?: (status: string, name: string) => boolean): string {
  const rows = store.runs().filter((r) => (!filter || r.name.includes(filter)) && (!only || only(r.status, r.name)));
  if (!rows.length) return filter ? `No runs whose name contains '${filter}'.\n` : 'No runs stored yet.\n';
  const out = [
    '| id | name | seed | status | epochs | last test acc % | best test acc % | last epoch s | time left | threads | started | settings that differ |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  // a stored config is complete: a key it lacks was undefined when it ran (a subset absent means all
  // of the data), so the defaults must not fill it in
  const configs = new Map(rows.map((r) => [r.id, JSON.parse(r.config) as TrainConfig]));
  for (const r of rows) {
    const c = configs.get(r.id)!;
    // what sets this run apart from the other runs of its name (its tags too)
    const same = rows.filter((x) => x.name === r.name).map((x) => configs.get(x.id)!);
    const differs = [same.length > 1 ? configDiff(c, same, ['seed', 'name', 'tags']) : '', c.tags?.length ? `tags=${c.tags.join(',')}` : ''].filter(Boolean).join('; ');
    const eps = store.epochs(r.id);
    const last = eps.at(-1);
    const best = eps.reduce((b, e) => Math.max(b, e.test_acc), -Infinity);
    // an unfinished run whose epochs stopped short was interrupted (or is still going)
    const why = (r.note ?? '-').replace(/\|/g, '\\|');
    const status = r.status === 'running' ? 'unfinished (resumes)' : r.status === 'stopped' || r.status === 'retired' || ((r.status === 'diverged' || r.status === 'failed') && r.note) ? `${r.status}: ${why}` : r.status;
    const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : (100 * v).toFixed(2));
    // epochs still to train x the median epoch so far: its wall time (evaluation and diagnostics
    // included; 10-15 % over training alone on Simplified-VGG) where recorded, else its training time
    const wall = (m: EpochMetrics) => m.epochS ?? m.forwardS + m.feedbackS;
    const left = r.status === 'running' && eps.length ? duration((c.epochs - eps.length) * median(eps.map(fromRow).map(wall))) : '-';
    out.push(
      `| ${r.id} | ${r.name} | ${r.seed} | ${status} | ${eps.length}/${c.epochs} | ${pct(last?.test_acc)} | ${pct(eps.length ? best : undefined)} | ` +
        `${last ? (last.forward_s + last.feedback_s).toFixed(1) : '-'} | ${left} | ${threadsOf(r.engine)} | ${r.started.slice(0, 16).replace('T', ' ')} | ${differs.replace(/\|/g, '\\|') || '-'} |`,
    );
  }
  return out.join('\n') + '\n';
}
