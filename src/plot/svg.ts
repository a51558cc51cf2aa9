// Minimal SVG line charts (no dependencies): learning curves, BP angles, timing figures.
export interface Series {
  name: string;
  xs: number[];
  ys: number[];
}
export interface ChartOptions {
  title: string;
  xlabel: string;
  ylabel: string;
  width?: number;
  height?: number;
  logY?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function ticks(lo: number, hi: number, n = 5): number[] {
  if (hi <= lo) return [lo];
  const step = 10 ** Math.floor(Math.log10((hi - lo) / n));
  const s = [1, 2, 5, 10].map((m) => m * step).find((v) => (hi - lo) / v <= n) ?? step * 10;
  const out: number[] = [];
  for (let v = Math.ceil(lo / s) * s; v <= hi + 1e-12; v += s) out.push(+v.toPrecision(10));
  return out;
}

export function lineChart(series: Series[], o: ChartOptions): string {
  const W = o.width ?? 640;
  const H = o.height ?? 400;
  const m = { l: 64, r: 150, t: 36, b: 48 };
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
    `<text x="${W / 2 - m.r / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
  ];
  for (const t of ticks(x0, x1))
    out.push(`<line x1="${X(t)}" x2="${X(t)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/><text x="${X(t)}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`);
  for (const t of ticks(y0, y1))
    out.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${Y(t)}" y2="${Y(t)}" stroke="#eee"/><text x="${m.l - 6}" y="${Y(t) + 4}" text-anchor="end">${o.logY ? `1e${t}` : t}</text>`,
    );
  out.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle">${esc(o.xlabel)}</text>`);
  out.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.ylabel)}</text>`);
  series.forEach((s, k) => {
    const c = COLORS[k % COLORS.length];
    const p = s.xs
      .map((x, i) => [x, f(s.ys[i])] as const)
      .filter(([, y]) => Number.isFinite(y))
      .map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`);
    if (p.length) out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${p.join(' ')}"/>`);
    for (const q of p) out.push(`<circle cx="${q.split(',')[0]}" cy="${q.split(',')[1]}" r="2.5" fill="${c}"/>`);
    out.push(`<rect x="${W - m.r + 12}" y="${m.t + 18 * k}" width="12" height="12" fill="${c}"/><text x="${W - m.r + 30}" y="${m.t + 18 * k + 10}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Horizontal bars, one per label (speed comparisons). */
export function barChart(bars: { label: string; value: number }[], o: { title: string; xlabel: string; logX?: boolean }): string {
  const W = 640;
  const rowH = 22;
  const m = { l: 220, r: 80, t: 36, b: 40 };
  const H = m.t + m.b + rowH * bars.length;
  const f = (v: number) => (o.logX ? Math.log10(Math.max(v, 1e-9)) : v);
  const vals = bars.map((b) => f(b.value)).filter(Number.isFinite);
  const lo = o.logX ? Math.floor(Math.min(...vals, 0)) : 0;
  const hi = Math.max(...vals, lo + 1e-9);
  const X = (v: number) => m.l + ((f(v) - lo) / (hi - lo)) * (W - m.l - m.r);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
  ];
  bars.forEach((b, i) => {
    const y = m.t + i * rowH;
    const w = Number.isFinite(f(b.value)) ? Math.max(1, X(b.value) - m.l) : 0;
    out.push(
      `<text x="${m.l - 6}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${m.l}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${COLORS[i % COLORS.length]}"/>`,
      `<text x="${m.l + w + 4}" y="${y + 15}">${b.value.toPrecision(3)}</text>`,
    );
  });
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle">${esc(o.xlabel)}${o.logX ? ' (log scale)' : ''}</text>`, '</svg>');
  return out.join('\n');
}
