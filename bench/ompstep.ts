// Child of bench/ompwait.ts: BP steps of BENCH_MODEL at TARGETPROP_THREADS under the
// OMP_WAIT_POLICY it was started with; prints images per second.
import { createMethod } from '../src/methods';
import { buildModel } from '../src/models';
import { manualSeed, now, randn, tensor, tidy } from '../src/engine';

const model = process.env.BENCH_MODEL ?? 'lenet';
const input: [number, number, number] = model === 'lenet' ? [1, 28, 28] : [3, 32, 32];
const B = 128;
const steps = model === 'lenet' ? 12 : 6;
manualSeed(0);
const net = buildModel(model, input);
const m = createMethod(net, { method: 'bp', lr: 0.01, beta: 1, optimizer: { kind: 'sgd', momentum: 0.9 } });
const x = randn([B, ...input]).keep();
const y = tensor(BigInt64Array.from({ length: B }, (_, i) => BigInt(i % 10)), [B]).keep();
for (let i = 0; i < 2; i++) tidy(() => m.step(x, y));
const t = now();
for (let i = 0; i < steps; i++) tidy(() => m.step(x, y));
console.log(((B * steps) / ((now() - t) / 1000)).toFixed(1));
