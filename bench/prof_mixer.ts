// temporary profiling
import { createMethod, MethodName } from '../src/methods';
import { buildModel } from '../src/models';
import { manualSeed, randn, tensor, tick, tidy, noGrad, OptimizerSpec } from '../src/engine';
import { TargetProp } from '../src/methods/tp';

async function main() {
  const input: [number, number, number] = [3, 32, 32];
  const B = 128;
  manualSeed(0);
  const x = randn([B, ...input]).keep();
  const y = tensor(BigInt64Array.from({ length: B }, (_, i) => BigInt(i % 10)), [B]).keep();
  const opt: OptimizerSpec = { kind: 'adamw', betas: [0.9, 0.99], weightDecay: 5e-5 } as OptimizerSpec;
  const res: Record<string, number[]> = {};
  const rec = (k: string, v: number) => (res[k] ??= []).push(v);
  for (let r = 0; r < 3; r++) {
    for (const method of ['bp', 'tjml'] as MethodName[]) {
      const net = buildModel('mixer', input, { blocks: 4 });
      const m = createMethod(net, { method, lr: 1e-3, beta: 0.01, optimizer: opt });
      m.step(x, y); await tick();
      const n = 5;
      let t = performance.now();
      for (let i = 0; i < n; i++) { m.step(x, y); await tick(); }
      rec(method + ' step', (performance.now() - t) / n);
      t = performance.now();
      for (let i = 0; i < n; i++) { tidy(() => noGrad(() => net.forward(x))); await tick(); }
      rec(method + ' eval fwd', (performance.now() - t) / n);
      if (m instanceof TargetProp) {
        let a = 0, b = 0, c = 0;
        for (let i = 0; i < n; i++) {
          tidy(() => {
            let t0 = performance.now();
            const fp = m.forwardPass(x);
            a += performance.now() - t0; t0 = performance.now();
            const d = m.targetOffsets(fp, y, 0.01);
            b += performance.now() - t0; t0 = performance.now();
            m.localGradients(fp, d, 0.01);
            c += performance.now() - t0;
          });
          await tick();
        }
        rec('tp fwd', a / n); rec('tp targets', b / n); rec('tp localgrad', c / n);
      }
      m.dispose(); net.dispose();
    }
  }
  for (const [k, v] of Object.entries(res)) console.log(k.padEnd(16), v.map((z) => z.toFixed(1)).join(' '));
}
main();
