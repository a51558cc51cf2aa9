// Probe child for blascore.ts: loads the engine under the OPENBLAS_CORETYPE it was given, checks
// float32 GEMMs of awkward shapes (edge kernels, transposed operands) against a float64 product
// computed here in JS, times a 1024^3 SGEMM, and prints one JSON line.
import { native } from './native';

function check(m: number, k: number, n: number, transposeB: boolean): boolean {
  const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 12.9898 + m) * 0.5);
  const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 78.233 + n) * 0.5);
  const ha = native.fromArray(a, [m, k], 'float32', 'cpu');
  // b laid out [n, k] and transposed, or [k, n]
  const hb0 = native.fromArray(b, transposeB ? [n, k] : [k, n], 'float32', 'cpu');
  const hb = transposeB ? native.transpose(hb0, 0, 1) : hb0;
  const hc = native.matmul(ha, hb);
  const c = native.toArray(hc) as Float32Array;
  [ha, hb0, hb, hc].forEach((h) => h.dispose());
  let err = 0;
  let norm = 0;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * (transposeB ? b[j * k + p] : b[p * n + j]);
      err = Math.max(err, Math.abs(c[i * n + j] - s));
      norm = Math.max(norm, Math.abs(s));
    }
  return err <= 1e-5 * Math.sqrt(k) * Math.max(norm, 1);
}

function sgemm(): number {
  const a = native.randn([1024, 1024], 'cpu');
  const b = native.randn([1024, 1024], 'cpu');
  native.matmul(a, b).dispose();
  const ts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    native.matmul(a, b).dispose();
    ts.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  a.dispose();
  b.dispose();
  ts.sort((x, y) => x - y);
  return (2 * 1024 ** 3) / ts[2] / 1e9;
}

const info = native.blasInfo();
if (info.name !== 'openblas' || !/DYNAMIC_ARCH/.test(info.config ?? '')) {
  console.log(JSON.stringify({ verified: false, error: `BLAS is ${info.name === 'openblas' ? `OpenBLAS without DYNAMIC_ARCH (${info.config})` : 'not OpenBLAS'}` }));
} else {
  const shapes: [number, number, number, boolean][] = [
    [67, 131, 45, false],
    [1, 257, 3, false],
    [129, 64, 250, true],
    [256, 300, 33, false],
    [17, 1000, 9, true],
  ];
  const verified = shapes.every(([m, k, n, t]) => check(m, k, n, t));
  console.log(JSON.stringify({ core: info.core, verified, gflops: verified ? sgemm() : undefined }));
}
