// The report's opening section: what the comparison shows (TJML-DTP vs LDRL at equal budget, the
// baselines against Kao et al.'s MLP numbers, the paper's full-budget rows beside their BP twins).
import { Agg, BlownUp, blownAt, budgetLabel, mainGroup, methodLabel, profileTitle, seedsNote, settingOfAgg, signed } from './aggregate';
import { PAPER_TJML, PUBLISHED_MLP } from './published';
import { BUDGETS, PROFILES, Profile, TABLES, TableName, grid } from '../grids';
import { mean } from '../stats';

/** A method too costly for a profile's budget may have run at a reduced one (reproduce --epochs): its runs of `row`. */
const reducedRunsOf = (cells: Agg[], t: string, row: string, m: string) => cells.filter((a) => a.table === t && a.profile === 'custom' && a.row === row && a.method === m);

/** A reduced-budget run that is the grid's full budget cut short (its data, fewer epochs), not a cut of a smaller profile. */
const cutFromFull = (a: Agg) => {
  const f = BUDGETS[a.table as TableName]?.full;
  return !!f && a.profile === 'custom' && a.config.trainSubset === f.trainSubset && a.config.testSubset === f.testSubset && a.config.epochs < f.epochs;
};

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
      const cut = reducedRunsOf(cells, t, row, 'ldrl').map((a) => a.config.epochs);
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
          const reduced = reducedRunsOf(cells, 'mlp', row, m);
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
  const missing = renderMissingCells(cells, blownUp);
  if (missing) out.push(missing, '');
  return out.join('\n');
}

/**
 * Every cell of a grid and budget that has runs here (a full budget also when its only runs are cut
 * short) but no finished run of its own, so a cell never run is as visible as one that blew up:
 * per grid, the methods (grouped where they miss the same rows), each row marked where its run
 * diverged or ran at a reduced budget only.
 */
function renderMissingCells(cells: Agg[], blownUp: BlownUp[]): string {
  const lines: string[] = [];
  for (const t of TABLES.filter((t) => cells.some((a) => a.table === t))) // the grids' own order, not the runs'
    for (const prof of PROFILES.filter((p) => cells.some((a) => a.table === t && (a.profile === p || (p === 'full' && cutFromFull(a)))))) {
      const gridCells = grid(t, prof as Profile, 1);
      const rows = [...new Set(gridCells.map((c) => c.row))];
      const byRows = new Map<string, string[]>(); // the rows a method misses, as written -> its methods
      for (const label of [...new Set(gridCells.map((c) => c.label))]) {
        const miss = gridCells.filter((c) => c.label === label && !cells.some((a) => a.table === t && a.profile === prof && a.row === c.row && a.method === label)).map((c) => c.row);
        if (!miss.length) continue;
        const noted = miss.map((row) => {
          const b = blownAt(blownUp, t, prof, row).find((x) => x.method === label);
          const cut = [...new Set(reducedRunsOf(cells, t, row, label).map((a) => budgetLabel(a.config)))];
          // or blew up at one
          const cutLost = blownUp.filter((x) => x.table === t && x.profile === 'custom' && x.row === row && x.method === label).map((x) => `${x.status} in epoch ${x.epochs + 1} at ${x.budget}`);
          const notes = b ? [`${b.status} in epoch ${b.epochs + 1}`] : [...(cut.length ? [`ran only at ${cut.join('; ')}`] : []), ...cutLost];
          return `${row}${notes.length ? ` (${notes.join('; ')})` : ''}`;
        });
        const plain = noted.every((n, i) => n === miss[i]);
        const key = rows.length === 1 ? noted[0].slice(miss[0].length) : plain && miss.length === rows.length ? ' on every row' : ` on ${noted.join(', ')}`;
        byRows.set(key, [...(byRows.get(key) ?? []), label]);
      }
      if (byRows.size) lines.push(`- ${profileTitle(t, prof)}: ${[...byRows].map(([where, ms]) => `${ms.join(', ')}${where}`).join('; ')}`);
    }
  if (!lines.length) return '';
  return [
    `**Grid cells with no finished run** (each grid and budget that has runs here, a full budget also when it ran only cut short, against its cells; \`reproduce TABLE --profile P\` runs what is missing and resumes what stopped):`,
    '',
    ...lines,
  ].join('\n');
}

/**
 * The paper's rows (Tables 1-4) at its full budget: TJML-DTP against the paper's number and against
 * BP trained beside it at the same budget (its twin), with TJML-DTP's cost per image as a multiple
 * of BP's at the same thread count (the paper's claim: TP at about BP's cost); a row that ran only
 * cut short (all the data, fewer epochs) shows that pair, its budget named; then the rows still
 * without a full-budget TJML-DTP run or without its BP twin.
 */
function renderPaperRows(cells: Agg[]): string {
  const full = (row: string, m: string) => cells.filter((a) => a.table !== 'mlp' && a.profile === 'full' && a.row === row && a.method === m);
  const lines: string[] = [];
  const notRun: string[] = [];
  const noTwin: string[] = [];
  const line = (row: string, paper: number, tj: Agg, bp: Agg | undefined, cut?: string) => {
    const same = bp && bp.threads === tj.threads;
    return (
      `- ${row} (${tj.table}, ${tj.threads}${cut ? `; reduced budget only: ${cut}` : ''}): TJML-DTP ${(100 * mean(tj.test)).toFixed(2)}${seedsNote(tj)} (paper ${paper.toFixed(2)}${cut ? ` at ${BUDGETS[tj.table as TableName].full.epochs} epochs` : ''}: ${signed(100 * mean(tj.test) - paper)})` +
      (bp ? `; its BP twin ${(100 * mean(bp.test)).toFixed(2)}${seedsNote(bp)} (TJML-DTP ${signed(100 * (mean(tj.test) - mean(bp.test)))} points)` : '') +
      (same ? `; TJML-DTP's time per training image is ${(mean(tj.msPerImage) / mean(bp.msPerImage)).toFixed(2)}x BP's` : '') +
      // each method keeps its own grid batch size, which moves the per-image time: say so
      (same && tj.config.batchSize !== bp.config.batchSize ? ` (batch ${tj.config.batchSize} vs ${bp.config.batchSize})` : '')
    );
  };
  for (const [row, paper] of Object.entries(PAPER_TJML)) {
    const tjs = full(row, 'tjml');
    if (!tjs.length) {
      // a row whose full budget does not fit here may have run cut short on all the data (reproduce
      // --epochs): that pair is shown, with its budget, and the row is still listed as not run
      const cutOf = (m: string) => cells.filter((a) => a.table !== 'mlp' && a.row === row && a.method === m && cutFromFull(a));
      const tjCut = cutOf('tjml');
      if (!tjCut.length) {
        notRun.push(row);
        continue;
      }
      const tj = mainGroup(tjCut);
      const budget = budgetLabel(tj.config);
      const bps = cutOf('bp').filter((a) => budgetLabel(a.config) === budget);
      lines.push(line(row, paper, tj, bps.length ? mainGroup(bps) : undefined, budget));
      notRun.push(`${row} (ran at ${tj.config.epochs} epochs only, above)`);
      continue;
    }
    const tj = mainGroup(tjs);
    const bps = full(row, 'bp');
    if (!bps.length) noTwin.push(row);
    lines.push(line(row, paper, tj, bps.length ? mainGroup(bps) : undefined));
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
