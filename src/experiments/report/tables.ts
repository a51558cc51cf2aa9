// The report's markdown tables: the per-budget summary lines, a paper table's rows (accuracy, time,
// speed against LDRL) and the tuning sweeps.
import { Agg, BlownUp, blownAt, methodLabel, pct, profileTitle, seedsNote, settingOfAgg } from './aggregate';
import { published, publishedMean } from './published';
import { configDiff } from '../config';
import { mean } from '../stats';

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
