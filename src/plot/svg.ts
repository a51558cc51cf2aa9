// Minimal SVG line charts (no dependencies): learning curves, BP angles, timing figures.
export interface Series {
  name: string;
  xs: number[];
  ys: number[];
  /** Fixed colour (the report gives each method one, in every figure); default by position. */
  color?: string;
  /** Dashed line: a second series of the same colour (another config of one method). */
  dashed?: boolean;
}
export interface ChartOptions {
  title: string;
  xlabel: string;
  ylabel: string;
  width?: number;
  height?: number;
  logY?: boolean;
  /** Discrete x (epochs, blocks): whole-number ticks only. */
  integerX?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
/** One colour per method, in every figure of the report. */
export const METHOD_COLORS: Record<string, string> = {
  bp: '#222222',
  tjml: '#d62728',
  'tjml-exact': '#ff7f0e',
  ijml: '#e377c2',
  pjml: '#bcbd22',
  ldrl: '#1f77b4',
  fwdtp: '#2ca02c',
  'fwdtp-bn': '#17becf',
  dtp: '#9467bd',
  drl: '#8c564b',
};
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Rough width of a text in 12 px sans-serif (for margins that fit their labels). */
const textW = (s: string, px = 12) => Math.ceil(s.length * px * 0.6);

/** The title in lines that fit the width (long titles were clipped at the edges). */
function titleLines(title: string, width: number, px = 14): string[] {
  const max = Math.floor((width - 20) / (px * 0.6));
  const lines: string[] = [];
  let cur = '';
  for (const w of title.split(' ')) {
    if (cur && (cur + ' ' + w).length > max) lines.push(cur), (cur = w);
    else cur = cur ? `${cur} ${w}` : w;
  }
  return [...lines, cur];
}

function ticks(lo: number, hi: number, n = 5, integer = false): number[] {
  if (hi <= lo) return [lo];
  const step = 10 ** Math.floor(Math.log10((hi - lo) / n));
  const s0 = [1, 2, 5, 10].map((m) => m * step).find((v) => (hi - lo) / v <= n) ?? step * 10;
  const s = integer ? Math.max(1, Math.round(s0)) : s0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / s) * s; v <= hi + 1e-12; v += s) out.push(+v.toPrecision(10));
  return out;
}

export function lineChart(series: Series[], o: ChartOptions): string {
  // the legend's margin fits its longest name; the title wraps instead of running off the edges
  const legendW = Math.max(100, ...series.map((s) => textW(s.name) + 40));
  const W = Math.max(o.width ?? 640, 420 + legendW);
  const title = titleLines(o.title, W);
  const H = (o.height ?? 400) + 18 * (title.length - 1);
  const m = { l: 64, r: legendW, t: 20 + 18 * title.length, b: 48 };
  const f = (y: number) => (o.logY ? Math.log10(Math.max(y, 1e-12)) : y);
  const pts = series.flatMap((s) => s.xs.map((x, i) => [x, f(s.ys[i])] as const)).filter(([, y]) => Number.isFinite(y));
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (!pts.length) [x0, x1, y0, y1] = [0, 1, 0, 1];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const X = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const Y = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    ...title.map((line, i) => `<text x="${W / 2}" y="${20 + 18 * i}" text-anchor="middle" font-size="14">${esc(line)}</text>`),
  ];
  for (const t of ticks(x0, x1, 5, o.integerX))
    out.push(`<line x1="${X(t)}" x2="${X(t)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/><text x="${X(t)}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`);
  for (const t of ticks(y0, y1))
    out.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${Y(t)}" y2="${Y(t)}" stroke="#eee"/><text x="${m.l - 6}" y="${Y(t) + 4}" text-anchor="end">${o.logY ? `1e${t}` : t}</text>`,
    );
  out.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle">${esc(o.xlabel)}</text>`);
  out.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.ylabel)}</text>`);
  series.forEach((s, k) => {
    const c = s.color ?? COLORS[k % COLORS.length];
    const dash = s.dashed ? ' stroke-dasharray="6 3"' : '';
    const p = s.xs
      .map((x, i) => [x, f(s.ys[i])] as const)
      .filter(([, y]) => Number.isFinite(y))
      .map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`);
    if (p.length) out.push(`<polyline fill="none" stroke="${c}" stroke-width="2"${dash} points="${p.join(' ')}"/>`);
    for (const q of p) out.push(`<circle cx="${q.split(',')[0]}" cy="${q.split(',')[1]}" r="2.5" fill="${c}"/>`);
    out.push(`<rect x="${W - m.r + 12}" y="${m.t + 18 * k}" width="12" height="12" fill="${c}"/><text x="${W - m.r + 30}" y="${m.t + 18 * k + 10}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Horizontal bars, one per label (speed comparisons). */
export function barChart(bars: { label: string; value: number; color?: string }[], o: { title: string; xlabel: string; logX?: boolean }): string {
  const W = 640;
  const rowH = 22;
  const title = titleLines(o.title, W);
  const m = { l: Math.max(120, ...bars.map((b) => textW(b.label) + 16)), r: 80, t: 20 + 18 * title.length, b: 40 };
  const H = m.t + m.b + rowH * bars.length;
  const f = (v: number) => (o.logX ? Math.log10(Math.max(v, 1e-9)) : v);
  const vals = bars.map((b) => f(b.value)).filter(Number.isFinite);
  const lo = o.logX ? Math.floor(Math.min(...vals, 0)) : 0;
  const hi = Math.max(...vals, lo + 1e-9);
  const X = (v: number) => m.l + ((f(v) - lo) / (hi - lo)) * (W - m.l - m.r);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    ...title.map((line, i) => `<text x="${W / 2}" y="${20 + 18 * i}" text-anchor="middle" font-size="14">${esc(line)}</text>`),
  ];
  bars.forEach((b, i) => {
    const y = m.t + i * rowH;
    const w = Number.isFinite(f(b.value)) ? Math.max(1, X(b.value) - m.l) : 0;
    out.push(
      `<text x="${m.l - 6}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${m.l}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${b.color ?? COLORS[i % COLORS.length]}"/>`,
      `<text x="${m.l + w + 4}" y="${y + 15}">${b.value.toPrecision(3)}</text>`,
    );
  });
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle">${esc(o.xlabel)}${o.logX ? ' (log scale)' : ''}</text>`, '</svg>');
  return out.join('\n');
}
