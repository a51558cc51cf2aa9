// npm run bench:engine: BP training steps on LeNet and the 5-block VGG, here and in PyTorch
// (bench/reference/torch_methods.py, Debian python3-torch), alternated in one invocation; prints
// img/s for both and the ratio (ours / PyTorch). Needs Debian python3-torch (`apt-get install python3-torch`; PYTHON overrides the interpreter).
// Under an OpenMP OpenBLAS it also times SGEMM and a Mixer BP step with OpenBLAS at one thread
// against all threads, alternated in this process: what sharing libtorch's pool buys.
import { createMethod } from '../src/methods';
import { torchSecondsPerImage } from './torchref';
import { buildModel } from '../src/models';
import { median } from '../src/experiments/stats';
import { blasChoice, blasInfo, gpuName, defaultDevice, getNumThreads, manualSeed, matmul, now, randn, setBlasThreads, setDefaultDevice, tensor, tidy, tick } from '../src/engine';

// BENCH_DEVICE (or TARGETPROP_DEVICE): both engines run there (a GPU: PyTorch on the same one)
if (process.env.BENCH_DEVICE) setDefaultDevice(process.env.BENCH_DEVICE);
const DEVICE = defaultDevice();
const GPU = gpuName(DEVICE);

const STEPS: Record<string, number> = { lenet: Number(process.env.BENCH_LENET_STEPS ?? 30), 'simple-vgg': Number(process.env.BENCH_VGG_STEPS ?? 4), mixer: 8 };
const BATCH = 128;

async function ours(model: string): Promise<number> {
  manualSeed(0);
  const input: [number, number, number] = model === 'lenet' ? [1, 28, 28] : [3, 32, 32];
  const net = buildModel(model, input);
  const m = createMethod(net, { method: 'bp', lr: 0.01, beta: 1, optimizer: { kind: 'sgd', momentum: 0.9 } });
  const x = randn([BATCH, ...input]).keep();
  const y = tensor(BigInt64Array.from({ length: BATCH }, (_, i) => BigInt(i % 10)), [BATCH]).keep();
  for (let i = 0; i < 2; i++) m.step(x, y);
  const t = now();
  for (let i = 0; i < STEPS[model]; i++) {
    m.step(x, y);
    await tick();
  }
  const ips = (BATCH * STEPS[model]) / ((now() - t) / 1000);
  m.dispose();
  net.dispose();
  x.dispose();
  y.dispose();
  return ips;
}

/** PyTorch's img/s for the same BP step. */
const torchRef = (model: string) => 1 / torchSecondsPerImage(model, 'bp', BATCH, STEPS[model], getNumThreads(), DEVICE);

/** 1024^3 SGEMM through the engine (OpenBLAS), GFLOP/s, median of 10. */
function sgemm(): number {
  return tidy(() => {
    const a = randn([1024, 1024]);
    const b = randn([1024, 1024]);
    matmul(a, b).dispose();
    const ts: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = now();
      matmul(a, b).dispose();
      ts.push(now() - t);
    }
    ts.sort((p, q) => p - q);
    return (2 * 1024 ** 3) / (ts[5] / 1000) / 1e9;
  });
}


async function main(): Promise<void> {
  const blas = blasInfo();
  console.log(`device: ${DEVICE}${GPU ? ` (${GPU})` : ''}`);
  const choice = blasChoice();
  console.log(`sgemm 1024^3: ${sgemm().toFixed(1)} GFLOP/s (${getNumThreads()} threads; BLAS ${blas.name} ${blas.threading ?? ''} ${blas.threads ?? ''} threads, core ${blas.core ?? '?'}; OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? 'unset'}, chosen: ${choice.source})`);
  // the calibration behind a 'calibrated' core: each core type's verified SGEMM, as measured when it was made
  for (const p of choice.probes ?? [])
    console.log(`  probe ${p.requested ?? '(OpenBLAS own choice)'}: core ${p.core ?? '?'}, ${p.verified ? 'verified' : `not verified${p.error ? ` (${p.error})` : ''}`}${p.gflops ? `, ${p.gflops.toFixed(0)} GFLOP/s` : ''}`);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const ratios: string[] = [];
  if (blas.threading === 'openmp' && DEVICE === 'cpu') {
    const n = getNumThreads();
    const t: Record<string, number[]> = { g1: [], gn: [], m1: [], mn: [] };
    for (let r = 0; r < rounds; r++) {
      setBlasThreads(1);
      t.g1.push(sgemm());
      t.m1.push(await ours('mixer'));
      setBlasThreads(n);
      t.gn.push(sgemm());
      t.mn.push(await ours('mixer'));
    }
    console.log(`OpenMP OpenBLAS at 1 vs ${n} threads (median of ${rounds}): sgemm ${median(t.g1).toFixed(0)} vs ${median(t.gn).toFixed(0)} GFLOP/s; mixer BP ${median(t.m1).toFixed(0)} vs ${median(t.mn).toFixed(0)} img/s (x${(median(t.mn) / median(t.m1)).toFixed(2)})`);
  }
  for (const model of ['lenet', 'simple-vgg']) {
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < rounds; r++) {
      a.push(await ours(model));
      b.push(torchRef(model));
    }
    console.log(`${model}: targetprop ${median(a).toFixed(0)} img/s, pytorch ${median(b).toFixed(0)} img/s (batch ${BATCH}, ${DEVICE === 'cpu' ? `${getNumThreads()} threads` : DEVICE}, median of ${rounds})`);
    ratios.push(`${model} ${(median(a) / median(b)).toFixed(2)}`);
  }
  tidy(() => undefined);
  console.log(`ratio (targetprop / pytorch): ${ratios.join(', ')}`);
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
