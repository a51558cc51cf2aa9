// Numerical checks of the identities behind Propositions 1-3 on small linear and nonlinear
// layers: each feedback-training loss vanishes (or is minimised) exactly when its Jacobian
// matching condition holds. Tolerances are Monte-Carlo error at 200-400 samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, eye, linear, manualSeed, matmul, randn, tidy, activation, inverse, pinverse, noGrad } from '../src/engine';
import { feedbackLosses } from '../src/diagnostics/propositions';

const fro2 = (t: Tensor) => t.square().sum().item();

test('Proposition 1: the DTP reconstruction loss vanishes iff G inverts F (IJMC)', () =>
  tidy(() => {
    manualSeed(40);
    const W = randn([6, 6]).div(Math.sqrt(6)).add(eye(6));
    const b = randn([6]);
    const x = randn([16, 6]);
    const F = (v: Tensor) => linear(v, W, b);
    const Winv = inverse(W);
    const inv = feedbackLosses(F, (y) => matmul(y.sub(b), Winv.T), x, 0.1);
    assert.ok(inv.reconstruction < 1e-6, `inverse feedback: ${inv.reconstruction}`);
    const tr = feedbackLosses(F, (y) => matmul(y, W), x, 0.1);
    assert.ok(tr.reconstruction > 1, `transpose of a non-orthogonal W: ${tr.reconstruction}`);
  }));

test('Proposition 2: (1/s^2) E[DRL] -> ||J_G J_F - I||^2; zero under pinv feedback of an injective layer (PJMC)', () =>
  tidy(() => {
    manualSeed(41);
    const W = randn([9, 5]); // tall: injective
    const x = randn([8, 5]);
    const F = (v: Tensor) => activation('tanh', linear(v, W, null));
    const P = pinverse(W);
    // locally J_F = diag(tanh') W; the pinv of the linear part alone does not invert it
    const s = 1e-3;
    const lin = (v: Tensor) => linear(v, W, null);
    const exact = feedbackLosses(lin, (y) => matmul(y, P.T), x, s);
    assert.ok(exact.drl < 1e-4, `pinv feedback of an injective linear layer: ${exact.drl}`);
    const approx = feedbackLosses(F, (y) => matmul(y, P.T), x, s, 400);
    // the expected value: mean over the batch of ||P diag(tanh'(z)) W - I||^2
    const z = linear(x, W, null);
    const d = activation('tanh', z).square().neg().add(1);
    let expect = 0;
    for (let i = 0; i < 8; i++)
      expect += tidy(() => fro2(matmul(P, W.mul(d.narrow(0, i, 1).reshape([9, 1]))).sub(eye(5))));
    expect /= 8;
    assert.ok(Math.abs(approx.drl - expect) / expect < 0.2, `DRL ${approx.drl} vs ||J_G J_F - I||^2 ${expect}`);
  }));

test('Proposition 3: (1/s^2) E[LDRL] = ||J_G - J_F^T||^2 - ||J_F||^2, minimised exactly by G = J_F^T (TJMC)', () =>
  tidy(() => {
    manualSeed(42);
    const W = randn([4, 7]).div(2);
    const x = randn([32, 7]);
    const F = (v: Tensor) => linear(v, W, null);
    const noise = randn([7, 4]).mul(0.3);
    const atT = feedbackLosses(F, (y) => matmul(y, W), x, 0.05, 400).ldrl;
    const off = feedbackLosses(F, (y) => matmul(y, W.add(noise.T)), x, 0.05, 400).ldrl;
    const jf = fro2(W);
    assert.ok(Math.abs(atT + jf) / jf < 0.1, `at the TJMC: ${atT} vs -||J_F||^2 = ${-jf}`);
    const predicted = fro2(noise) - jf;
    assert.ok(Math.abs(off - predicted) / jf < 0.15, `off the TJMC: ${off} vs ${predicted}`);
    assert.ok(off > atT, 'moving G away from J_F^T raises the loss');
    noGrad(() => undefined);
  }));
