import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, cat, linear, manualSeed, randn, tensor, tidy, noGrad } from '../src/engine';
import { buildModel, Network } from '../src/models';
import { LearnedTP, METHODS, createMethod, FeedbackTraining, MethodConfig } from '../src/methods';
import { angleDeg } from '../src/diagnostics/angles';
import { blockAlignment, blockTJML, jmlEstimates } from '../src/diagnostics/jml';
import { TargetProp } from '../src/methods/tp';
import { flat, relErr } from './helpers';
import { AdditiveCoupling, FEEDBACK_MODES, Layer, Linear } from '../src/layers';

const labels = (n: number) => tensor(BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 10)), [n]);
const cfg = (method: MethodConfig['method'], extra: Partial<MethodConfig> = {}): MethodConfig => ({
  method,
  lr: 0.05,
  optimizer: { kind: 'sgd' },
  beta: 0.5,
  ...extra,
});

function compareToBp(net: Network, x: Tensor, y: Tensor, beta: number): { angle: number; ratio: number }[] {
  return tidy(() => {
    const bp = createMethod(net, cfg('bp'));
    const tp = createMethod(net, cfg('tjml-exact'));
    const g = bp.gradients(x, y).perBlock;
    // a tiny beta too: offsets are propagated as differences, so float32 keeps them exact
    const t = tp.gradients(x, y, beta).perBlock;
    const out = g.map((gb, n) => {
      const a = gb as Tensor[];
      const b = t[n] as Tensor[];
      return { angle: angleDeg(b, a), ratio: flat(b).norm().item() / flat(a).norm().item() };
    });
    bp.dispose();
    tp.dispose();
    return out;
  });
}

test('TJML-DTP with exact transposed-Jacobian feedback reproduces the BP gradient (LeNet, LeNet-BN, Mixer, reversible Mixer)', () => {
  manualSeed(20);
  const nets: [Network, number[]][] = [
    [buildModel('lenet', [1, 28, 28], { channels: [8, 16], hidden: 32 }), [8, 1, 28, 28]],
    // batch standardization couples the examples: its J^T is over the whole batch
    [buildModel('lenet', [1, 28, 28], { channels: [8, 16], hidden: 32, norm: 'batch' }), [8, 1, 28, 28]],
    [buildModel('mixer', [3, 16, 16], { width: 16, tokenHidden: 8, channelHidden: 32, blocks: 2 }), [8, 3, 16, 16]],
    // coupling blocks take their J^T here (tjml-exact), not their inverse
    [buildModel('reversible-mixer', [3, 16, 16], { width: 16, tokenHidden: 8, channelHidden: 32, blocks: 2 }), [8, 3, 16, 16]],
  ];
  for (const [net, shape] of nets) {
    for (const beta of [0.5, 1e-4]) {
      const res = tidy(() => compareToBp(net, randn(shape), labels(shape[0]), beta));
      for (const [n, r] of res.entries()) {
        assert.ok(r.angle < 0.1, `${net.name} beta ${beta} block ${n}: angle ${r.angle} deg`);
        // our local loss divides by beta, so the update is 1 x (not beta x) the BP gradient
        assert.ok(Math.abs(r.ratio - 1) < 1e-3, `${net.name} beta ${beta} block ${n}: norm ratio ${r.ratio}`);
      }
    }
    net.dispose();
  }
});

test('paper-mode TJML (varsigma, MaxUnpool) on Simplified-VGG: exact at the top, closer to BP as beta shrinks', () => {
  // varsigma for LeakyReLU is LeakyReLU itself: first-order exact, but a target that crosses 0
  // from a negative activation (compressed by the slope 0.01) is amplified, so the gap grows with beta.
  manualSeed(21);
  const net = buildModel('simple-vgg', [3, 32, 32], { channels: [4, 4, 8, 8, 8] });
  tidy(() => {
    const x = randn([8, 3, 32, 32]);
    const y = labels(8);
    const bp = createMethod(net, cfg('bp'));
    const tp = createMethod(net, cfg('tjml'));
    const g = bp.gradients(x, y).perBlock;
    const at = (beta: number) => tp.gradients(x, y, beta).perBlock.map((t, n) => angleDeg(t as Tensor[], g[n] as Tensor[]));
    const big = at(0.5);
    const small = at(0.001);
    const N = g.length;
    assert.ok(big[N - 1] < 0.1 && big[N - 2] < 0.1, `top blocks are exact: ${big}`);
    for (let n = 0; n < N - 2; n++) assert.ok(small[n] < big[n], `block ${n}: ${small[n]} (beta 0.001) vs ${big[n]} (beta 0.5)`);
    bp.dispose();
    tp.dispose();
  });
  net.dispose();
});

test('LDRL feedback training drives the TJML of a block down and its BP angle below 10 degrees', () => {
  manualSeed(22);
  const net = buildModel('mlp', [1, 8, 8], { hidden: 32, depth: 3, activation: 'leaky_relu' });
  const m = createMethod(net, cfg('ldrl', { feedback: { iterations: [0, 0, 1000], lr: [0, 0, 0.02], sigma: [0.1, 0.1, 0.1], momentum: 0.9, init: { kind: 'default' } } })) as LearnedTP;
  const x = randn([32, 1, 8, 8]).keep();
  const y = labels(32).keep();
  const jml = () =>
    tidy(() => {
      const fp = m.forwardPass(x);
      return jmlEstimates((h) => net.blocks[2].forward(h)[0], (t) => m.fb[2].apply(t, fp.caches[2]), fp.hs[2]).tjml;
    });
  const angleLast = () =>
    tidy(() => {
      const bp = createMethod(net, cfg('bp'));
      const a = angleDeg(m.gradients(x, y, 0.01).perBlock[1] as Tensor[], bp.gradients(x, y).perBlock[1] as Tensor[]);
      bp.dispose();
      return a;
    });
  const before = jml();
  const angleBefore = angleLast();
  tidy(() => (m as unknown as { trainFeedback(fp: unknown): void }).trainFeedback(m.forwardPass(x)));
  const after = jml();
  const angleAfter = angleLast();
  assert.ok(after < before / 4, `TJML ${before} -> ${after}`);
  assert.ok(angleAfter < 10 && angleAfter < angleBefore, `BP angle of block 1: ${angleBefore} -> ${angleAfter} deg`);
  m.dispose();
  net.dispose();
  x.dispose();
  y.dispose();
});

test('FWDTP feedback weights never change while the forward weights train', () => {
  manualSeed(23);
  const net = buildModel('lenet', [1, 28, 28], { channels: [4, 8], hidden: 16 });
  const m = createMethod(net, cfg('fwdtp', { lr: 0.01, beta: 0.1 })) as LearnedTP;
  const fb0 = m.fb.flatMap((g) => g.params.map((p) => p.data()));
  const w0 = net.params()[0].data();
  for (let i = 0; i < 3; i++) tidy(() => m.step(randn([16, 1, 28, 28]), labels(16)));
  const fb1 = m.fb.flatMap((g) => g.params.map((p) => p.data()));
  assert.ok(fb0.length > 0);
  fb0.forEach((a, i) => assert.deepEqual(a, fb1[i]));
  assert.notDeepEqual(w0, net.params()[0].data());
  m.dispose();
  net.dispose();
});

test("FWDTP feedback init 'forward': random feedback with W^T's scale, so lower updates have BP's size", () => {
  manualSeed(29);
  const net = buildModel('lenet', [1, 28, 28], { channels: [4, 8], hidden: 256 });
  const x = randn([32, 1, 28, 28]).keep();
  const y = labels(32);
  const withInit = (kind: 'default' | 'forward') => {
    const m = createMethod(net, cfg('fwdtp', { feedback: { iterations: 0, lr: 0, sigma: 1, momentum: 0, init: { kind } } })) as LearnedTP;
    // every feedback weight is drawn within its forward weight's init bound, and fills it
    const within = m.fb.flatMap((g) => g.weightPairs).map(([f, b]) => {
      const fanIn = f.shape.slice(1).reduce((a, c) => a * c, 1);
      return tidy(() => b.abs().amax().item()) * Math.sqrt(fanIn);
    });
    // block 2 (FC 256) takes its target through the 10 -> 256 random feedback of the head
    const ratio = tidy(() => {
      const bp = createMethod(net, cfg('bp'));
      const g = bp.gradients(x, y).perBlock[2] as Tensor[];
      const t = m.gradients(x, y, 0.1).perBlock[2] as Tensor[];
      bp.dispose();
      return flat(t).norm().item() / flat(g).norm().item();
    });
    m.dispose();
    return { within, ratio };
  };
  const fwd = withInit('forward');
  fwd.within.forEach((v) => assert.ok(v <= 1 + 1e-6 && v > 0.9, `forward-scaled feedback fills the forward bound: ${v}`));
  assert.ok(fwd.ratio > 0.5 && fwd.ratio < 2, `forward init: |FWDTP update| / |BP gradient| = ${fwd.ratio}`);
  // PyTorch's default init of a 10 -> 256 layer is sqrt(256 / 10) ~ 5x wider than W^T's
  const def = withInit('default');
  assert.ok(def.ratio > 2.5 * fwd.ratio, `default init: ratio ${def.ratio} vs forward ${fwd.ratio}`);
  assert.throws(() => createMethod(net, cfg('fwdtp', { feedback: { iterations: 0, lr: 0, sigma: 1, momentum: 0, init: { kind: 'xavier' as never } } })), /feedback init kind must be one of default, forward, uniform, got 'xavier'/);
  net.dispose();
  x.dispose();
  y.dispose();
});

test('every method trains: loss goes down on a fixed batch (FW-DTP-BN too)', () => {
  const runs = [...(['bp', 'tjml', 'tjml-exact', 'ldrl', 'fwdtp', 'dtp', 'drl'] as const).map((m) => [m, 'none'] as const), ['fwdtp', 'batch'] as const];
  for (const [method, norm] of runs) {
    manualSeed(24);
    const net = buildModel('mlp', [1, 8, 8], { hidden: 64, depth: 3, activation: 'tanh', norm });
    const m = createMethod(net, cfg(method, {
      optimizer: { kind: 'sgd', momentum: 0.9 },
      beta: 0.1,
      feedback: { iterations: 20, lr: 0.01, sigma: 0.05, momentum: 0.9, init: { kind: 'default' } },
    }));
    const x = randn([32, 1, 8, 8]).keep();
    const y = labels(32).keep();
    const losses = Array.from({ length: 20 }, () => m.step(x, y).loss);
    assert.ok(losses[19] < losses[0] * 0.6, `${method} (norm ${norm}): loss ${losses[0]} -> ${losses[19]}`);
    m.dispose();
    net.dispose();
    x.dispose();
    y.dispose();
  }
});

test('feedback pre-training trains feedback only (SGD and Adam): the DTP reconstruction loss falls, forward weights stay', () => {
  manualSeed(26);
  const net = buildModel('mlp', [1, 8, 8], { hidden: 32, depth: 3, activation: 'tanh' });
  const x = randn([64, 1, 8, 8]).keep();
  const base: FeedbackTraining = { iterations: 5, lr: 0.05, sigma: 0.05, momentum: 0.9, init: { kind: 'default' }, pretrainEpochs: 1 };
  for (const fb of [base, { ...base, optimizer: 'adam', lr: 0.01 } as FeedbackTraining]) {
    const m = createMethod(net, cfg('dtp', { feedback: fb })) as LearnedTP;
    assert.equal(m.pretrainEpochs, 1);
    const recLoss = () =>
      tidy(() => {
        manualSeed(99); // the same corruption noise for both measurements
        const fp = m.forwardPass(x);
        return [1, 2].reduce((a, n) => a + m.feedbackLoss(n, fp).item(), 0);
      });
    const w0 = net.params().map((p) => p.data());
    const before = recLoss();
    for (let i = 0; i < 20; i++) m.pretrainStep(x);
    const after = recLoss();
    assert.ok(after < 0.7 * before, `${fb.optimizer ?? 'sgd'}: reconstruction loss ${before} -> ${after}`);
    net.params().forEach((p, i) => assert.deepEqual(p.data(), w0[i]));
    m.dispose();
  }
  assert.throws(() => createMethod(net, cfg('fwdtp', { feedback: base })), /fwdtp: feedback is frozen/);
  assert.throws(() => createMethod(net, cfg('drl', { feedback: { ...base, pretrainEpochs: -1 } })), /pretrainEpochs must be an integer >= 0/);
  assert.throws(() => createMethod(net, cfg('dtp', { feedback: { ...base, optimizer: 'rmsprop' as never } })), /feedback optimizer must be 'sgd' or 'adam', got 'rmsprop'/);
  net.dispose();
  x.dispose();
});

test("DTP's penultimate target is the gradient step (Lee et al. 2015): the top block feeds back its exact J^T, untrained", () =>
  tidy(() => {
    manualSeed(30);
    const net = buildModel('lenet', [1, 28, 28], { channels: [4, 8], hidden: 16 });
    const x = randn([8, 1, 28, 28]);
    const y = labels(8);
    const fb: FeedbackTraining = { iterations: 2, lr: 0.01, sigma: 0.1, momentum: 0.9, init: { kind: 'default' } };
    const N = net.blocks.length;
    const exact = createMethod(net, cfg('tjml-exact')) as TargetProp;
    const dtp = createMethod(net, cfg('dtp', { feedback: fb })) as LearnedTP;
    const learnedTop = createMethod(net, cfg('dtp', { feedback: { ...fb, topTarget: 'learned' } })) as LearnedTP;
    assert.equal(dtp.gradientTop, true, 'the default for dtp');
    const drl = createMethod(net, cfg('drl', { feedback: fb })) as LearnedTP;
    assert.equal(drl.gradientTop, false, 'the default for drl');
    const fp = exact.forwardPass(x);
    const ref = exact.targetOffsets(fp, y, 0.1)[N - 1]; // -beta dL/dh_{N-1}, L = summed CE
    assert.ok(relErr(dtp.targetOffsets(fp, y, 0.1)[N - 1], ref) < 1e-5);
    assert.ok(relErr(learnedTop.targetOffsets(fp, y, 0.1)[N - 1], ref) > 0.5);
    const topFb = dtp.fb[N - 1].params.map((p) => p.data());
    const lowFb = dtp.fb[N - 2].params.map((p) => p.data());
    dtp.step(x, y);
    dtp.fb[N - 1].params.forEach((p, i) => assert.deepEqual(p.data(), topFb[i], 'the unused top feedback is not trained'));
    assert.ok(dtp.fb[N - 2].params.some((p, i) => relErr(p, tensor(lowFb[i], p.shape)) > 0), 'lower feedbacks train');
    assert.throws(() => createMethod(net, cfg('dtp', { feedback: { ...fb, topTarget: 'top' as never } })), /topTarget must be 'gradient' or 'learned', got 'top'/);
    [exact, dtp, learnedTop, drl].forEach((m) => m.dispose());
    net.dispose();
  }));

test('blockTJML: 0 for exact transposed-Jacobian feedback, large for frozen random feedback', () => {
  manualSeed(27);
  const net = buildModel('lenet', [1, 28, 28], { channels: [4, 8], hidden: 16 });
  const x = randn([8, 1, 28, 28]).keep();
  const of = (method: MethodConfig['method']) => {
    const m = createMethod(net, cfg(method)) as TargetProp;
    const r = blockTJML(m, net, x);
    m.dispose();
    return r;
  };
  const exact = of('tjml-exact');
  assert.ok(Number.isNaN(exact[0]), 'block 0 feedback is unused');
  exact.slice(1).forEach((v, n) => assert.ok(v < 1e-4, `exact block ${n + 1}: ${v}`));
  const paper = of('tjml');
  const random = of('fwdtp');
  random.slice(1, 3).forEach((v, n) => assert.ok(v > 0.5, `fwdtp block ${n + 1}: ${v}`));
  paper.slice(1).forEach((v, n) => assert.ok(v < random[n + 1], `paper-mode TJML block ${n + 1} (${v}) beats random (${random[n + 1]})`));
  net.dispose();
  x.dispose();
});

test('blockAlignment: cos(v, J_F J_G v) equals the closed form on a linear block; positive for exact J^T feedback', () => {
  manualSeed(31);
  // a linear 2-block MLP: block 1 is y = h W^T + b, FWDTP's frozen feedback G(t) = t B^T + c
  const net = buildModel('mlp', [1, 4, 4], { hidden: 24, depth: 2, activation: 'identity' });
  const x = randn([6, 1, 4, 4]).keep();
  const m = createMethod(net, cfg('fwdtp')) as LearnedTP;
  manualSeed(5);
  const got = blockAlignment(m, net, x, { probes: 3 });
  manualSeed(5); // the same probes, drawn in the same order
  const want = tidy(() => {
    const [W] = net.blocks[1].params();
    const [B] = m.fb[1].params;
    let [dot, vv, ww] = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      const v = randn([6, 10]);
      const w = v.matmul(B.T).matmul(W.T); // J_F J_G v, exactly
      dot += v.mul(w).sum().item();
      vv += v.square().sum().item();
      ww += w.square().sum().item();
    }
    return dot / Math.sqrt(vv * ww);
  });
  assert.ok(Number.isNaN(got[0]), 'block 0 feedback is unused');
  assert.ok(Math.abs(got[1] - want) < 1e-3, `alignment ${got[1]} vs closed form ${want}`);
  m.dispose();
  net.dispose();
  x.dispose();
  // exact J^T feedback: <v, J_F J_F^T v> = ||J_F^T v||^2 > 0 on every block of a LeNet
  manualSeed(32);
  const lenet = buildModel('lenet', [1, 28, 28], { channels: [4, 8], hidden: 16 });
  const xs = randn([8, 1, 28, 28]).keep();
  const exact = createMethod(lenet, cfg('tjml-exact')) as TargetProp;
  blockAlignment(exact, lenet, xs).slice(1).forEach((v, n) => assert.ok(v > 0.2, `exact feedback, block ${n + 1}: ${v}`));
  exact.dispose();
  lenet.dispose();
  xs.dispose();
});

test('reversible blocks: the inverse feedback keeps its target offsets at float32 precision where two inverses would cancel', () =>
  tidy(() => {
    manualSeed(28);
    const net = buildModel('reversible-mixer', [3, 16, 16], { width: 16, tokenHidden: 8, channelHidden: 16, blocks: 2 });
    const block = net.blocks[1];
    const coupling = block.layers[0] as AdditiveCoupling;
    // a trained reversible Mixer's activations reach a few hundred while beta 0.01 gives offsets ~1e-3 per block, less per element
    const h = randn([4, 16, 16]).mul(300);
    const [out, cache] = noGrad(() => block.forward(h));
    const d = randn(out.shape).mul(1e-4);
    // reference: the inverse in float64, written from its formula (x2 = y2 - g(y1), x1 = y1 - f(x2))
    const f64 = (layers: Layer[], x: Tensor) =>
      layers.reduce((v, l) => (l instanceof Linear ? linear(v, l.weight.to('float64'), l.bias?.to('float64')) : l.forward(v)[0]), x);
    const inverse64 = (y: Tensor) => {
      const [y1, y2] = [y.narrow(2, 0, 8), y.narrow(2, 8, 8)];
      const x2 = y2.sub(f64(coupling.g.layers, y1));
      return cat([y1.sub(f64(coupling.f.layers, x2)), x2], 2);
    };
    const ref = noGrad(() => inverse64(out.to('float64').add(d.to('float64'))).sub(inverse64(out.to('float64'))));
    const mode = FEEDBACK_MODES.tjml;
    const stable = noGrad(() => block.feedbackDiff(out, d, cache, mode, false)[1]);
    const naive = noGrad(() => block.feedback(out.add(d), cache, mode).sub(block.feedback(out, cache, mode)));
    assert.ok(relErr(stable.to('float64'), ref) < 1e-4, `difference of f and g: ${relErr(stable.to('float64'), ref)}`);
    assert.ok(relErr(naive.to('float64'), ref) > 1e-2, `two float32 inverses should lose the offset here: ${relErr(naive.to('float64'), ref)}`);
    // at another base point (the diagnostics' central differences) f and g are evaluated there
    const shifted = out.add(randn(out.shape));
    const refShifted = noGrad(() => inverse64(shifted.to('float64').add(d.to('float64'))).sub(inverse64(shifted.to('float64'))));
    const atShifted = noGrad(() => block.feedbackDiff(shifted, d, cache, mode, false)[1]);
    assert.ok(relErr(atShifted.to('float64'), refShifted) < 1e-4, `shifted base point: ${relErr(atShifted.to('float64'), refShifted)}`);
    // at the forward point it reuses the forward pass's evaluations of f and g (no forward runs)
    let forwards = 0;
    for (const s of [coupling.f, coupling.g]) {
      const fwd = s.forward.bind(s);
      s.forward = (x: Tensor) => (forwards++, fwd(x));
    }
    noGrad(() => block.feedbackDiff(out.detach(), d, cache, mode, false));
    assert.equal(forwards, 0);
    noGrad(() => block.feedbackDiff(shifted, d, cache, mode, false));
    assert.equal(forwards, 2);
    // TJML uses this difference; LDRL's coupling feedback is an inverse of the same form with its own
    // f' and g' (trained): random at first, and the exact inverse's difference once they equal f and g
    const tjml = createMethod(net, cfg('tjml', { beta: 0.01 })) as TargetProp;
    assert.ok(relErr(tjml.feedbackDifference(1, out, d, cache).to('float64'), ref) < 1e-4);
    tjml.dispose();
    const ldrl = createMethod(net, cfg('ldrl', { beta: 0.01 })) as LearnedTP;
    const twins = ldrl.fb[1].params;
    assert.equal(twins.length, coupling.params().length);
    assert.ok(relErr(ldrl.feedbackDifference(1, out, d, cache).to('float64'), ref) > 0.1, 'untrained twins are not the inverse');
    noGrad(() => coupling.params().forEach((p, i) => twins[i].copyInPlace(p)));
    const learned = ldrl.feedbackDifference(1, out, d, cache);
    assert.ok(relErr(learned.to('float64'), ref) < 1e-4, `ldrl with f' = f, g' = g: ${relErr(learned.to('float64'), ref)}`);
    assert.ok(ldrl.fb[1].weightPairs.length === 4 && ldrl.fb[1].weightPairs.every(([w, v]) => relErr(w, v) === 0));
    ldrl.dispose();
    net.dispose();
  }));

test('targets and local gradients in one sweep equal the separate passes; Mixer feedbacks take their W^T part from the VJP', () =>
  tidy(() => {
    manualSeed(29);
    const mode = FEEDBACK_MODES.tjml;
    const cases: [string, MethodConfig['method'], number[], Record<string, unknown>][] = [
      ['mixer', 'tjml', [8, 3, 16, 16], { width: 16, tokenHidden: 8, channelHidden: 32, blocks: 2 }],
      ['mixer', 'tjml-exact', [8, 3, 16, 16], { width: 16, tokenHidden: 8, channelHidden: 32, blocks: 1 }],
      ['lenet', 'tjml', [8, 1, 28, 28], { channels: [4, 8], hidden: 16 }],
      ['lenet', 'tjml-exact', [8, 1, 28, 28], { channels: [4, 8], hidden: 16 }],
      ['mixer', 'ldrl', [8, 3, 16, 16], { width: 16, tokenHidden: 8, channelHidden: 32, blocks: 1 }],
    ];
    for (const [model, method, shape, mc] of cases) {
      const net = buildModel(model, shape.slice(1) as [number, number, number], mc);
      const m = createMethod(net, cfg(method, { beta: 0.1 })) as TargetProp;
      const x = randn(shape);
      const y = labels(shape[0]);
      const sep = (() => {
        const fp = m.forwardPass(x);
        const d = m.targetOffsets(fp, y, 0.1);
        return { d, perBlock: m.localGradients(fp, d, 0.1) };
      })();
      const fp = m.forwardPass(x);
      const fused = m.targetsAndGradients(fp, y, 0.1);
      const what = `${model}/${method}`;
      for (let n = 1; n < net.blocks.length; n++) assert.ok(relErr(fused.d[n], sep.d[n]) < 1e-5, `${what} d_${n}: ${relErr(fused.d[n], sep.d[n])}`);
      // per block (a single bias can be ~0: the LN feedback centres offsets over channels)
      fused.perBlock.forEach((gs, n) => {
        if (!gs.length) return;
        const e = relErr(flat(gs as Tensor[]), flat(sep.perBlock[n] as Tensor[]));
        assert.ok(e < 1e-5, `${what} block ${n} gradient: ${e}`);
      });
      if (model === 'mixer' && method === 'tjml') {
        // every residual block (token / channel MLP: the input of its last Linear) and the head (LN output)
        const pts = net.blocks.map((b, n) => b.vjpPoints(fp.caches[n] as never, mode).length);
        assert.deepEqual(pts.slice(1), new Array(net.blocks.length - 1).fill(1));
        // and feedbackDiff does use a VJP handed to it: a wrong one changes the result
        const b = net.blocks[2];
        const c = fp.caches[2] as never;
        const d = randn(fp.hs[3].shape);
        const [pt] = b.vjpPoints(c, mode);
        const right = b.feedbackDiff(fp.hs[3], d, c, mode, false)[1];
        const wrong = b.feedbackDiff(fp.hs[3], d, c, mode, false, new Map([[pt, pt.mul(0)]]))[1];
        assert.ok(relErr(wrong, right) > 0.1, 'the VJP handed to feedbackDiff was ignored');
      }
      // exact J^T throughout: every block above the first takes its whole offset from the fused VJP at its input
      // (paper-mode LeNet: only its head, a Linear; the Mixer's paper-mode LayerNorms are not J^T)
      const fusedAt = fp.inputs.map((t, n) => (t ? n : -1)).filter((n) => n >= 0);
      const N = net.blocks.length;
      const expected = method === 'tjml-exact' ? net.blocks.map((_, n) => n).slice(1) : what === 'lenet/tjml' ? [N - 1] : [];
      assert.deepEqual(fusedAt, expected, `${what}: blocks with a fused offset`);
      m.dispose();
      net.dispose();
    }
  }));

test('IJML/PJML run on an MLP; time for feedback and forward is reported separately', () => {
  manualSeed(25);
  const net = buildModel('mlp', [1, 4, 4], { hidden: 10, depth: 3, activation: 'leaky_relu' });
  for (const method of ['ijml', 'pjml', 'ldrl'] as const) {
    const m = createMethod(net, cfg(method, { feedback: { iterations: 3, lr: 1e-3, sigma: 0.1, momentum: 0.9, init: { kind: 'default' } } }));
    const r = tidy(() => m.step(randn([8, 1, 4, 4]), labels(8)));
    assert.ok(Number.isFinite(r.loss) && r.forwardMs > 0);
    if (method === 'ldrl') assert.ok(r.feedbackMs > 0);
    else assert.equal(r.feedbackMs, 0);
    m.dispose();
  }
  net.dispose();
});

test('bad configurations fail with a clear message before training', () => {
  const net = buildModel('lenet', [1, 28, 28], { channels: [2, 2], hidden: 4 });
  assert.throws(() => buildModel('lenet', [1, 28, 28], { hiden: 4 }), /model 'lenet' has no config field 'hiden' \(fields: channels, hidden, activation, pool, norm\)/);
  assert.throws(() => buildModel('lenet', [1, 28, 28], { norm: 'bn' }), /field 'norm' must be one of none, batch, got 'bn'/);
  assert.throws(() => buildModel('mixer', [3, 32, 32], { blocks: '4' }), /field 'blocks' must be a number, got "4"/);
  assert.throws(() => createMethod(net, cfg('nope' as never)), /unknown method 'nope'/);
  assert.throws(() => createMethod(net, cfg('tjml', { beta: 0 })), /beta must be > 0/);
  // plain-JS callers may leave the optimizer out
  assert.throws(() => createMethod(net, cfg('tjml', { optimizer: undefined as never })), /optimizer must be an object such as \{ kind: 'sgd', momentum: 0.9 \}.*got undefined/);
  assert.throws(() => createMethod(net, cfg('tjml', { optimizer: { kind: 'rmsprop' } as never })), /unknown optimizer 'rmsprop' \(expected sgd, adam or adamw\)/);
  assert.throws(() => createMethod(net, cfg('ijml')), /block 1 .*conv2d has no 'inverse' feedback/);
  assert.throws(() => createMethod(net, cfg('ldrl', { feedback: { iterations: [1, 2], lr: 1e-3, sigma: 0.1, momentum: 0, init: { kind: 'default' } } })), /expected 4 values/);
  const gelu = buildModel('mixer', [3, 16, 16], { width: 8, tokenHidden: 4, channelHidden: 8, blocks: 1, activation: 'gelu' });
  assert.throws(() => createMethod(gelu, cfg('tjml')), /gelu.*no closed-form/);
  assert.doesNotThrow(() => createMethod(gelu, cfg('tjml-exact')).dispose());
  const m = createMethod(net, cfg('tjml'));
  assert.throws(() => tidy(() => m.step(randn([2, 3, 32, 32]), labels(2))), /conv2d expects \[B, 1, H, W\]/);
  m.dispose();
  net.dispose();
  gelu.dispose();
  noGrad(() => undefined);
});

test('every model builds for every method and takes a finite step, or names why the pair cannot run', () => {
  const small: [string, [number, number, number], Record<string, unknown>][] = [
    ['lenet', [1, 28, 28], { channels: [4, 4], hidden: 8 }],
    ['lenet', [1, 28, 28], { channels: [4, 4], hidden: 8, norm: 'batch' }],
    ['simple-vgg', [3, 32, 32], { channels: [4, 4, 4, 4, 4] }],
    ['mlp', [1, 4, 4], { hidden: 10, depth: 3, activation: 'leaky_relu' }],
    ['mixer', [3, 16, 16], { width: 8, tokenHidden: 4, channelHidden: 8, blocks: 1 }],
    ['reversible-mixer', [3, 16, 16], { width: 8, tokenHidden: 4, channelHidden: 8, blocks: 1 }],
  ];
  const feedback = { iterations: 2, lr: 1e-3, sigma: 0.1, momentum: 0.9, init: { kind: 'forward' as const } };
  const refused: string[] = [];
  for (const [model, input, mc] of small)
    for (const method of METHODS) {
      manualSeed(26);
      const net = buildModel(model, input, mc);
      const pair = `${model}${mc.norm ? '-bn' : ''}/${method}`;
      let m;
      try {
        m = createMethod(net, cfg(method, { beta: 0.1, feedback }));
      } catch (e) {
        // only the inverse-based variants may refuse, and only with a message naming the layer
        assert.ok(method === 'ijml' || method === 'pjml', `${pair}: ${(e as Error).message}`);
        assert.match((e as Error).message, /block \d+ .*(no (closed-form )?'(inverse|pinv)' feedback|is not invertible|no inverse feedback)/, pair);
        refused.push(pair);
        net.dispose();
        continue;
      }
      const r = tidy(() => m.step(randn([4, ...input]), labels(4)));
      assert.ok(Number.isFinite(r.loss), `${pair}: loss ${r.loss}`);
      m.dispose();
      net.dispose();
    }
  // conv layers (every model but the MLP has one; the Mixers' patch embedding) have no inverse/pinv feedback
  const expected = small.filter(([m]) => m !== 'mlp').flatMap(([m, , mc]) => ['ijml', 'pjml'].map((x) => `${m}${mc.norm ? '-bn' : ''}/${x}`));
  assert.deepEqual(refused, expected);
});
