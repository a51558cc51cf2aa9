// A one-line progress bar on stderr: fraction, named stats, rate and ETA. Redraws at most
// every 100 ms; prints plain lines when stderr is not a terminal (CI logs stay readable).
export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  stream?: NodeJS.WriteStream;
}

export class Progress {
  private start = Date.now();
  private last = 0;
  private done = 0;
  private units = 0;
  private stats: Record<string, string> = {};
  private readonly tty: boolean;
  private readonly stream: NodeJS.WriteStream;
  constructor(private o: ProgressOptions) {
    this.stream = o.stream ?? process.stderr;
    this.tty = !!this.stream.isTTY;
  }
  /** Advance by `steps`, counting `units` (images, bytes) for the rate. */
  tick(steps: number, units: number, stats: Record<string, number | string> = {}): void {
    this.done += steps;
    this.units += units;
    for (const [k, v] of Object.entries(stats)) this.stats[k] = typeof v === 'number' ? fmt(v) : v;
    const now = Date.now();
    if (this.done >= this.o.total || now - this.last > (this.tty ? 100 : 10000)) {
      this.last = now;
      this.draw();
    }
  }
  line(): string {
    const el = (Date.now() - this.start) / 1000;
    const frac = this.o.total ? Math.min(1, this.done / this.o.total) : 0;
    const width = 24;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const rate = el > 0 ? this.units / el : 0;
    const eta = frac > 0 ? (el / frac) * (1 - frac) : NaN;
    const stats = Object.entries(this.stats).map(([k, v]) => `${k} ${v}`).join(' ');
    return `${this.o.label} [${bar}] ${this.done}/${this.o.total} ${stats} ${fmt(rate)} ${this.o.unit ?? 'it'}/s ETA ${dur(eta)}`;
  }
  private draw(): void {
    if (this.tty) this.stream.write(`\r${this.line().slice(0, (this.stream.columns || 120) - 1)}\x1b[K`);
    else this.stream.write(this.line() + '\n');
  }
  finish(): void {
    this.draw();
    if (this.tty) this.stream.write('\n');
  }
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(4);
}
export function dur(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return (h ? `${h}:${String(m).padStart(2, '0')}` : `${m}`) + `:${String(sec).padStart(2, '0')}`;
}
