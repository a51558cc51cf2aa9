// The report's SVG figures: each row's learning curves and per-block diagnostics, the unfinished
// runs' curves, and Figure 2's timings.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Store } from '../../store/store';
import { fromRow, EpochMetrics } from '../train';
import { TrainConfig } from '../config';
import { isTable } from '../grids';
import { unfinished } from '../runlist';
import { mean } from '../stats';
import { METHOD_COLORS, barChart, lineChart } from '../../plot/svg';
import { TimingRow } from '../figure2';
import { Agg, methodLabel } from './aggregate';

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
 * Unfinished grid runs, overlaid per grid cell (one line per run, labelled with its lr): their test
 * accuracy and their mean angle to BP over the hidden blocks, per epoch, so that a run that stalled
 * or collapsed shows when, and what its updates did meanwhile. The cell's finished runs of the same
 * epoch budget are drawn beside them, for comparison.
 */
export function unfinishedFigures(store: Store, outDir: string): string[] {
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

/** A report row's figures (learning curves, BP angles inline; time, Jacobian matching and alignment linked), as markdown lines. */
export function rowFigures(outDir: string, t: string, prof: string, row: string, rs: Agg[]): string[] {
  const md: string[] = [];
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
  return md;
}

/** Figure 2 (the time to form each feedback matrix) as a table and a plot, as markdown lines. */
export function figure2Section(outDir: string, figure2: TimingRow[]): string[] {
  const md: string[] = [];
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
  return md;
}
