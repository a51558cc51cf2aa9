// Each analytical feedback against the autograd VJP of its layer (exact mode), and the paper's
// approximations with their measured gaps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, activation, activationDerivative, manualSeed, noGrad, randn, tidy, vjp } from '../src/engine';
import {
  Activation, AdditiveCoupling, BatchStandardize, Conv2d, FEEDBACK_MODES, FeedbackMode, Flatten, Layer, LayerNorm, Linear, MaxPool2d, Residual, Sequential,
  ToTokens, TokenMean, Transpose, standardizeFeedback,
} from '../src/layers';
import { maxDiff, relErr } from './helpers';
import { buildModel } from '../src/models';

const exact = FEEDBACK_MODES.exact;

/** G*(v) with the layer's cache at x, against v^T J_F(x) from autograd. */
function feedbackVsVjp(layer: Layer, x: Tensor, mode: FeedbackMode = exact): number {
  return tidy(() => {
    const [y, cache] = noGrad(() => layer.forward(x));
    const v = randn(y.shape);
    const ref = vjp((t) => layer.forward(t)[0], x, v);
    return relErr(noGrad(() => layer.feedback(v, cache, mode)), ref);
  });
}

test('exact feedbacks equal the transposed Jacobian of every layer', () => {
  manualSeed(10);
  const cases: [string, Layer, number[]][] = [
    ['conv s1 p2', new Conv2d(3, 4, 5, 1, 2), [2, 3, 8, 8]],
    ['conv s2 p1', new Conv2d(3, 4, 3, 2, 1), [2, 3, 9, 9]],
    ['conv patch', new Conv2d(3, 8, 4, 4, 0), [2, 3, 8, 8]],
    ['linear', new Linear(6, 5), [4, 6]],
    ['linear on tokens', new Linear(6, 5), [2, 3, 6]],
    ['maxpool 3/2/1 adjoint', new MaxPool2d(3, 2, 1), [2, 3, 8, 8]],
    ['leaky_relu', new Activation('leaky_relu'), [4, 7]],
    ['elu', new Activation('elu'), [4, 7]],
    ['tanh', new Activation('tanh'), [4, 7]],
    ['gelu', new Activation('gelu'), [4, 7]],
    ['relu', new Activation('relu'), [4, 7]],
    ['layernorm', new LayerNorm(6), [2, 3, 6]],
    ['batchstd [N, D]', new BatchStandardize(), [6, 5]],
    ['batchstd [N, C, H, W]', new BatchStandardize(), [3, 4, 5, 5]],
    ['flatten', new Flatten(), [2, 3, 4, 4]],
    ['to-tokens', new ToTokens(), [2, 3, 4, 4]],
    ['transpose', new Transpose(1, 2), [2, 3, 5]],
    ['token mean', new TokenMean(), [2, 5, 6]],
    ['residual channel MLP', new Residual([new LayerNorm(6), new Linear(6, 12), new Activation('leaky_relu'), new Linear(12, 6)]), [2, 5, 6]],
    ['conv block', new Sequential([new Conv2d(3, 4, 5, 1, 2), new Activation('elu'), new MaxPool2d(3, 2, 1)]), [2, 3, 8, 8]],
    ['coupling', new AdditiveCoupling([new Linear(3, 5), new Activation('leaky_relu'), new Linear(5, 3)], [new Linear(3, 3), new Activation('tanh')], 3), [2, 4, 6]],
    ['coupling, token f with pre-norm', new AdditiveCoupling([new LayerNorm(3), new Transpose(1, 2), new Linear(4, 2), new Activation('gelu'), new Linear(2, 4), new Transpose(1, 2)], [new LayerNorm(3), new Linear(3, 3)], 3), [2, 4, 6]],
  ];
  for (const [name, layer, shape] of cases) {
    const e = tidy(() => feedbackVsVjp(layer, randn(shape)));
    assert.ok(e < 1e-4, `${name}: relative error ${e}`);
  }
});

test('MaxUnpool (the paper choice) is exact for 2x2/2 pools and off for overlapping 3x3/2 pools', () => {
  manualSeed(11);
  const unpool = { ...exact, pool: 'unpool' as const };
  assert.ok(tidy(() => feedbackVsVjp(new MaxPool2d(2, 2), randn([2, 3, 8, 8]), unpool)) < 1e-6);
  const gap = tidy(() => feedbackVsVjp(new MaxPool2d(3, 2, 1), randn([4, 3, 16, 16]), unpool));
  assert.ok(gap > 0.2 && gap < 1, `overlapping-pool unpool gap ${gap} (anchors measured about 0.59)`);
});

test('decomposed LayerNorm (eqs. 30-35) drops the x-hat projection: its gap is measured, not zero', () => {
  manualSeed(12);
  const gap = tidy(() => feedbackVsVjp(new LayerNorm(16), randn([8, 16]), { ...exact, layerNorm: 'decomposed' }));
  assert.ok(gap > 0.05 && gap < 1, `decomposed LN relative error ${gap}`);
});

test('decomposed batch standardization drops the x-hat projection too: a measured gap; a batch of one standardizes to 0', () => {
  manualSeed(16);
  const gap = tidy(() => feedbackVsVjp(new BatchStandardize(), randn([8, 16]), { ...exact, layerNorm: 'decomposed' }));
  assert.ok(gap > 0.05 && gap < 1, `decomposed batchstd relative error ${gap}`);
  tidy(() => assert.equal(new BatchStandardize().forward(randn([1, 4]))[0].abs().sum().item(), 0));
  assert.throws(() => new BatchStandardize().forward(randn([2, 3, 4])), /batchstd expects \[N, D\] or \[N, C, H, W\] input, got \[2, 3, 4\]/);
});

test('varsigma differences (eq. 27) keep their float32 precision at beta 1e-4: against a float64 reference', () =>
  tidy(() => {
    manualSeed(17);
    const tjml = FEEDBACK_MODES.tjml;
    for (const fn of ['elu', 'tanh', 'leaky_relu'] as const) {
      const layer = new Activation(fn);
      // points on every piece: below -alpha, ELU's quadratic part, tanh's clamps at +-1, positive
      const h = randn([8192]).mul(1.5);
      for (const scale of [1e-4, 1e-2, 1]) {
        const d = randn([8192]).mul(scale);
        const fused = layer.feedbackDiff(h, d, { z: h } as never, tjml, false)[1];
        // the exact difference of the same float32 inputs, in float64 (op-by-op: cancellation costs ~1e-12 here)
        const [h64, d64] = [h.to('float64'), d.to('float64')];
        const ref = layer.feedback(h64.add(d64), { z: h64 } as never, tjml).sub(layer.feedback(h64, { z: h64 } as never, tjml));
        const e = relErr(fused.to('float64'), ref);
        assert.ok(e < 2e-6, `${fn}, |d| ~ ${scale}: fused difference relative error ${e}`);
        if (scale === 1e-4) {
          // the subtraction this replaces: what the test guards against
          const naive = layer.feedback(h.add(d), { z: h } as never, tjml).sub(layer.feedback(h, { z: h } as never, tjml));
          const en = relErr(naive.to('float64'), ref);
          assert.ok(en > 1e-4 && en > 30 * e, `${fn}: the naive float32 difference should lose precision (${en} vs ${e})`);
        }
      }
      // the float64 (op-by-op) kernels agree with the reference too
      if (fn !== 'tanh') {
        const d64 = randn([8192]).mul(1e-3).to('float64');
        const h64 = h.to('float64');
        const ref = layer.feedback(h64.add(d64), { z: h64 } as never, tjml).sub(layer.feedback(h64, { z: h64 } as never, tjml));
        assert.ok(relErr(layer.feedbackDiff(h64, d64, { z: h64 } as never, tjml, false)[1], ref) < 1e-9, `${fn}: float64 path`);
      }
    }
  }));

test('LayerNorm feedbacks on their native kernels equal the op-by-op forms (exact and decomposed)', () =>
  tidy(() => {
    manualSeed(18);
    const ln = new LayerNorm(24);
    noGrad(() => ln.gamma.copyInPlace(randn([24])));
    const x = randn([4, 5, 24]).mul(3).add(1);
    const [y, c] = noGrad(() => ln.forward(x));
    const t = randn(y.shape);
    const xhat = x.sub(c.mean).mul(c.rstd);
    for (const m of ['exact', 'decomposed'] as const) {
      const native = noGrad(() => ln.feedback(t, c, { ...exact, layerNorm: m }));
      const ref = standardizeFeedback(t.mul(ln.gamma), c.rstd, [-1], m === 'exact' ? xhat : undefined);
      assert.ok(relErr(native, ref) < 1e-5, `${m}: ${relErr(native, ref)}`);
    }
    ln.params().forEach((p) => p.dispose());
  }));

test("varsigma (eq. 27) has derivative sigma'(z) at y = sigma(z): TJML holds pointwise", () =>
  tidy(() => {
    manualSeed(13);
    for (const fn of ['leaky_relu', 'elu', 'tanh'] as const) {
      const layer = new Activation(fn);
      // keep away from the kink at 0, where a central difference straddles two slopes
      const r = randn([200]);
      const z = r.sign().mul(r.abs().add(0.1)).mul(fn === 'tanh' ? 1 : 2);
      const y = activation(fn, z, layer.param);
      const eps = 1e-3;
      const g = (t: Tensor) => layer.feedback(t, { z } as never, FEEDBACK_MODES.tjml);
      const slope = g(y.add(eps)).sub(g(y.sub(eps))).div(2 * eps);
      const err = maxDiff(slope, activationDerivative(fn, z, layer.param));
      assert.ok(err < 2e-2, `${fn}: max slope error ${err}`);
    }
  }));

test('activation with no closed-form varsigma fails with a clear message', () => {
  assert.throws(() => new Activation('gelu').checkMode(FEEDBACK_MODES.tjml), /gelu.*no closed-form 'integral' feedback/);
});

test('IJML/PJML feedbacks invert linear layers; inverse needs a square weight', () =>
  tidy(() => {
    manualSeed(14);
    const sq = new Linear(5, 5);
    const x = randn([3, 5]);
    const [y] = noGrad(() => sq.forward(x));
    assert.ok(maxDiff(noGrad(() => sq.feedback(y, null, FEEDBACK_MODES.ijml)), x) < 1e-3);
    const wide = new Linear(4, 7);
    const x2 = randn([3, 4]);
    const [y2] = noGrad(() => wide.forward(x2));
    assert.ok(maxDiff(noGrad(() => wide.feedback(y2, null, FEEDBACK_MODES.pjml)), x2) < 1e-3, 'W+ inverts an injective layer on its range');
    assert.throws(() => wide.checkMode(FEEDBACK_MODES.ijml), /no inverse feedback/);
    assert.throws(() => new Conv2d(1, 1, 3).checkMode(FEEDBACK_MODES.pjml), /conv2d has no 'pinv' feedback/);
    [sq, wide].forEach((l) => l.params().forEach((p) => p.dispose()));
  }));

test('additive coupling feedback is its exact inverse', () =>
  tidy(() => {
    manualSeed(15);
    const c = new AdditiveCoupling([new Linear(4, 8), new Activation('leaky_relu'), new Linear(8, 4)], [new Linear(4, 4), new Activation('tanh')], 4);
    const x = randn([3, 5, 8]);
    const [y, cache] = noGrad(() => c.forward(x));
    assert.ok(maxDiff(noGrad(() => c.feedback(y, cache, FEEDBACK_MODES.tjml)), x) < 1e-5);
    // the reversible Mixer's blocks, with and without a LayerNorm at the start of f and g
    for (const preNorm of [false, true]) {
      const net = buildModel('reversible-mixer', [3, 8, 8], { width: 8, tokenHidden: 4, channelHidden: 8, blocks: 1, preNorm });
      const block = net.blocks[1];
      assert.equal(block.describe().includes('layernorm'), preNorm, block.describe());
      const h = randn([2, 4, 8]);
      const [out, cache] = noGrad(() => block.forward(h));
      assert.ok(maxDiff(noGrad(() => block.feedback(out, cache, FEEDBACK_MODES.tjml)), h) < 1e-5, `preNorm ${preNorm}`);
      net.dispose();
    }
  }));
