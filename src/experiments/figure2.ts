// The paper's Figure 2: cost of forming a feedback matrix for an n x n weight by inverse
// (IJML), pseudo-inverse (PJML, SVD) and transpose (TJML, materialised), n = 100..500.
import { Tensor, inverse, pinverse, randn, tidy } from '../engine';

export interface TimingRow {
  n: number;
  inverseMs: number;
  pinverseMs: number;
  transposeMs: number;
}

function medianMs(fn: () => Tensor, reps: number): number {
  const ts: number[] = [];
  for (let r = 0; r < reps + 1; r++)
    tidy(() => {
      const t0 = process.hrtime.bigint();
      fn(); // libtorch CPU ops are synchronous: the result exists when the call returns
      const dt = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r > 0) ts.push(dt); // first call is warm-up
    });
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

export function matrixTimings(sizes = [100, 200, 300, 400, 500], reps = 9): TimingRow[] {
  return sizes.map((n) =>
    tidy(() => {
      const w = randn([n, n]).keep();
      const row = {
        n,
        inverseMs: medianMs(() => inverse(w), reps),
        pinverseMs: medianMs(() => pinverse(w), reps),
        transposeMs: medianMs(() => w.T.contiguous(), reps),
      };
      w.dispose();
      return row;
    }),
  );
}
