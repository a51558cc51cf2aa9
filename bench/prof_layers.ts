// temporary: time leaf-layer feedbacks in the Mixer TJML target pass
import { createMethod } from '../src/methods';
import { buildModel } from '../src/models';
import { manualSeed, randn, tensor, tick, tidy, OptimizerSpec } from '../src/engine';
import { TargetProp } from '../src/methods/tp';
import * as L from '../src/layers';

const times: Record<string, number> = {};
let depth = 0;
for (const [name, cls] of Object.entries(L)) {
  const proto = (cls as any)?.prototype;
  if (!proto || !(proto instanceof (L as any).Layer) || ['Sequential', 'Residual', 'AdditiveCoupling'].includes(name)) continue;
  for (const fn of ['feedback', 'feedbackDiff', 'forward']) {
    if (!Object.prototype.hasOwnProperty.call(proto, fn) && fn !== 'feedbackDiff') continue;
    const orig = proto[fn];
    proto[fn] = function (this: any, ...a: any[]) {
      if (depth > 0) return orig.apply(this, a);
      depth++;
      const t = performance.now();
      try { return orig.apply(this, a); } finally { depth--; const k = name + '.' + fn; times[k] = (times[k] ?? 0) + performance.now() - t; }
    };
  }
}
async function main() {
  const input: [number, number, number] = [3, 32, 32];
  const B = 128;
  manualSeed(0);
  const x = randn([B, ...input]).keep();
  const y = tensor(BigInt64Array.from({ length: B }, (_, i) => BigInt(i % 10)), [B]).keep();
  const opt = { kind: 'adamw', betas: [0.9, 0.99], weightDecay: 5e-5 } as OptimizerSpec;
  const net = buildModel('mixer', input, { blocks: 4 });
  const m = createMethod(net, { method: 'tjml', lr: 1e-3, beta: 0.01, optimizer: opt }) as TargetProp;
  const n = 5;
  for (let i = 0; i < n + 1; i++) {
    if (i === 1) for (const k in times) delete times[k];
    tidy(() => { const fp = m.forwardPass(x); m.targetOffsets(fp, y, 0.01); });
    await tick();
  }
  for (const [k, v] of Object.entries(times).sort((a, b) => b[1] - a[1])) console.log(k.padEnd(28), (v / n).toFixed(1));
}
main();
