import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Adam, SGD, activation, conv2d, layerNorm, layerNormStats, leakyReluDiff, ones, conv2dBackward, convTranspose2d, crossEntropy, eye, grad, inverse, liveTensors, lrAt, manualSeed,
  matmul, maxPool2d, maxPool2dAdjoint, maxUnpool2d, noGrad, pinverse, randn, tensor, tidy, tidyBuild, vjp, zeros,
  leakedTensors, watchLeaks,
  blasInfo,
  getNumThreads,
  setNumThreads,
} from '../src/engine';
import { maxDiff, relErr, settleGc } from './helpers';

test('basic ops match hand-computed values', () =>
  tidy(() => {
    const a = tensor([1, 2, 3, 4], [2, 2]);
    assert.deepEqual([...a.matmul(a).data()], [7, 10, 15, 22]);
    assert.deepEqual([...a.sum([1]).data()], [3, 7]);
    assert.deepEqual([...a.T.contiguous().data()], [1, 3, 2, 4]);
    assert.equal(a.mean().item(), 2.5);
    assert.deepEqual(a.shape, [2, 2]);
  }));

test('conv2d input gradient is the transposed conv with the same weight; weight gradient matches autograd', () =>
  tidy(() => {
    manualSeed(1);
    for (const [stride, pad] of [[1, 2], [2, 1]]) {
      const x = randn([2, 3, 9, 9]);
      const w = randn([4, 3, 5, 5]);
      const y = conv2d(x, w, null, { stride, padding: pad });
      const v = randn(y.shape);
      const ref = vjp((t) => conv2d(t, w, null, { stride, padding: pad }), x, v);
      const outPad = 9 - ((y.shape[2] - 1) * stride - 2 * pad + 5);
      assert.ok(maxDiff(convTranspose2d(v, w, null, { stride, padding: pad, outputPadding: outPad }), ref) < 1e-4);
      const [dx, dw] = conv2dBackward(v, x, w, { stride, padding: pad, need: [true, true, false] });
      assert.ok(maxDiff(dx!, ref) < 1e-4);
      const wr = w.detach().requiresGrad(true);
      const [dwRef] = grad([conv2d(x, wr, null, { stride, padding: pad })], [wr], [v]);
      assert.ok(relErr(dw!, dwRef!) < 1e-5);
    }
  }));

test('max-pool adjoint equals the VJP; MaxUnpool does too for non-overlapping pools only', () =>
  tidy(() => {
    manualSeed(2);
    const x = randn([2, 3, 8, 8]);
    for (const [k, s, p, exactUnpool] of [[2, 2, 0, true], [3, 2, 1, false]] as const) {
      const [y, idx] = maxPool2d(x, k, s, p);
      const v = randn(y.shape);
      const ref = vjp((t) => maxPool2d(t, k, s, p)[0], x, v);
      assert.ok(maxDiff(maxPool2dAdjoint(v, x, k, s, p, idx), ref) < 1e-6);
      const un = maxUnpool2d(v, idx, [8, 8]);
      if (exactUnpool) assert.ok(maxDiff(un, ref) < 1e-6);
      else assert.ok(relErr(un, ref) > 0.05, 'overlapping pools repeat indices: unpool overwrites instead of summing');
    }
    // an all-negative window still routes to its max
    const neg = tensor([-5, -1, -3, -2], [1, 1, 2, 2]);
    const [m, i] = maxPool2d(neg, 2);
    assert.equal(m.item(), -1);
    assert.equal(i.item(), 1);
  }));

test("the 2x2 and 3x3/2/1 max-pool kernels give libtorch's values, indices and gradients to the bit, ties, NaN and -inf included", () =>
  tidy(() => {
    manualSeed(5);
    let nanWindows = 0;
    const cases: [number[], number, number, number][] = [];
    for (const shape of [[2, 3, 32, 32], [3, 5, 9, 7], [4, 6, 6], [1, 1, 2, 2]]) cases.push([shape, 2, 2, 0]);
    // LeNet's maps, odd and tiny ones (all border), and rows of 4-output blocks plus a remainder
    for (const shape of [[2, 3, 28, 28], [2, 4, 14, 14], [3, 2, 29, 31], [2, 5, 7], [1, 1, 1, 1], [1, 2, 2, 3], [1, 1, 5, 21]]) cases.push([shape, 3, 2, 1]);
    for (const [shape, k, s, p] of cases) {
      // coarse values, so windows tie; a few NaN and -inf, and one window all -inf
      const host = randn(shape).mul(2).floor().data();
      for (let i = 0; i < host.length; i += 37) host[i] = NaN;
      for (let i = 5; i < host.length; i += 23) host[i] = -Infinity;
      const W = shape.at(-1)!;
      for (const o of [0, 1, W, W + 1]) if (o < host.length) host[o] = -Infinity;
      const x = tensor(host, shape);
      // the same values as a non-contiguous view take libtorch's own kernel: the reference
      const xRef = x.transpose(-1, -2).contiguous().transpose(-1, -2);
      const [y, idx] = maxPool2d(x, k, s, p);
      const [yRef, idxRef] = maxPool2d(xRef, k, s, p);
      assert.deepEqual(y.shape, yRef.shape);
      const at = `${k}/${s}/${p} on [${shape}]`;
      assert.deepEqual(new Uint32Array(y.data().buffer), new Uint32Array(yRef.data().buffer), `${at}: values (as bits)`);
      assert.ok(idx.equals(idxRef), `${at}: indices`);
      if (k === 2) assert.equal(y.data()[0], -Infinity, 'the all -inf window');
      nanWindows += y.data().filter(Number.isNaN).length;
      const v = randn(y.shape);
      const g = vjp((t) => maxPool2d(t, k, s, p)[0], x, v);
      const gRef = vjp((t) => maxPool2d(t, k, s, p)[0], xRef, v);
      assert.ok(g.equals(gRef), `${at}: gradient`);
      // and the 2x2 gradient is the scatter of v to the argmax (an op apart from both)
      const [H, Wd] = shape.slice(-2);
      if (k === 2 && shape.length === 4 && H % 2 === 0 && Wd % 2 === 0) assert.ok(g.equals(maxUnpool2d(v, idx, [H, Wd])), `${at}: gradient = unpool`);
    }
    assert.ok(nanWindows > 20, 'NaN windows were compared');
  }));

test('libtorch errors become JS errors naming the op and shapes; the process survives', () => {
  assert.throws(() => tidy(() => matmul(zeros([2, 3]), zeros([2, 3]))), /matmul\(\[2,3\], \[2,3\]\).*cannot be multiplied/);
  assert.throws(() => tidy(() => conv2d(zeros([1, 3, 8, 8]), zeros([4, 2, 3, 3]), null)), /conv2d\(\[1,3,8,8\], \[4,2,3,3\]\)/);
  assert.throws(() => tidy(() => crossEntropy(zeros([2, 10]), tensor([1, 2], [2]))), /crossEntropy/);
  const t = zeros([3]);
  t.dispose();
  assert.throws(() => t.add(1), /disposed tensor/);
  assert.throws(() => tensor([1, 2, 3], [2, 2]), /3 elements, shape needs 4/);
  assert.equal(tidy(() => zeros([1]).add(1).item()), 1, 'engine still works after errors');
});

test('tidy frees everything but its result; kept tensors survive', () => {
  const before = liveTensors();
  const kept = tidy(() => {
    const a = randn([10, 10]);
    a.mul(2).add(3).exp();
    const k = randn([3]).keep();
    return { out: a.sum(), k };
  });
  assert.equal(liveTensors(), before + 2);
  kept.out.dispose();
  kept.k.dispose();
  assert.equal(liveTensors(), before);
  assert.throws(() => tidy(() => { randn([2]); throw new Error('boom'); }), /boom/);
  assert.equal(liveTensors(), before, 'tensors are freed when the scope throws');
});

test('tidyBuild keeps what a build made when it returns, and frees all of it, kept tensors too, when it throws', () => {
  const before = liveTensors();
  let tmp = randn([1]);
  tmp.dispose();
  const made = tidy(() => {
    const r = tidyBuild(() => ({ w: randn([3]).keep(), tmp: randn([2]), inner: tidy(() => (randn([4]), randn([5]).keep())) }));
    assert.equal(liveTensors(), before + 3, 'nothing freed on success (the inner tidy freed its own temporary)');
    tmp = r.tmp;
    return { w: r.w, inner: r.inner };
  });
  assert.equal(liveTensors(), before + 2, 'the enclosing tidy freed the unkept tensor; kept ones survive it');
  assert.ok(tmp.disposed && !made.w.disposed && !made.inner.disposed);
  made.w.dispose();
  made.inner.dispose();
  assert.equal(liveTensors(), before);
  // a build failing halfway: kept tensors made directly, in a nested tidy, and in a nested tidy that throws
  const fail = (where: string) => () =>
    tidyBuild(() => {
      randn([3]).keep();
      tidy(() => randn([4]).keep());
      if (where === 'inner') tidy(() => { randn([2]).keep(); throw new Error('inner'); });
      randn([2]);
      throw new Error('outer');
    });
  assert.throws(fail('outer'), /outer/);
  assert.throws(fail('inner'), /inner/);
  assert.equal(liveTensors(), before, 'a failed build leaves nothing alive');
});

test('watchLeaks counts the tensors the GC collected without a dispose, and where they were made', async (t) => {
  if (!global.gc) return t.skip('needs node --expose-gc');
  await settleGc();
  watchLeaks(true, { stacks: true });
  try {
    (function dropsOne() {
      randn([8]);
    })();
    randn([8]).dispose();
    tidy(() => {
      randn([8]);
    });
    await settleGc();
    const l = leakedTensors();
    assert.equal(l.count, 1, 'only the tensor made outside any scope and never disposed');
    assert.match([...l.sites.keys()].join('\n'), /dropsOne/);
  } finally {
    watchLeaks(false);
  }
  assert.equal(leakedTensors().count, 0, 'off again');
});

test('inverse and pseudo-inverse are correct', () =>
  tidy(() => {
    manualSeed(3);
    const a = randn([6, 6]).add(eye(6).mul(6));
    assert.ok(maxDiff(a.matmul(inverse(a)), eye(6)) < 1e-4);
    const r = randn([5, 3]);
    const p = pinverse(r);
    assert.ok(maxDiff(r.matmul(p).matmul(r), r) < 1e-4, 'A A+ A = A');
  }));

test('SGD with momentum and weight decay, and Adam, follow torch.optim', () =>
  tidy(() => {
    const p = tensor([1, -2], [2]).keep().requiresGrad(true);
    const sgd = new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.5 });
    const g = tensor([1, 1], [2]);
    sgd.step([g]); // d = g + 0.5 p = [1.5, 0]; buf = d; p -= 0.1 d
    assert.deepEqual([...p.data()].map((v) => +v.toFixed(6)), [0.85, -2]);
    sgd.step([g]); // d = [1.425, 0]; buf = 0.9 [1.5, 0] + d = [2.775, 0]
    assert.deepEqual([...p.data()].map((v) => +v.toFixed(6)), [0.5725, -2]);
    const q = tensor([1], [1]).keep().requiresGrad(true);
    const adam = new Adam([q], { lr: 0.01 });
    adam.step([tensor([3], [1])]); // first Adam step moves by lr * sign(g)
    assert.ok(Math.abs(q.data()[0] - 0.99) < 1e-6);
    p.dispose();
    q.dispose();
    sgd.dispose();
    adam.dispose();
  }));

test('cosine and step schedules', () => {
  const cos = { kind: 'cosine', tMax: 10, etaMin: 0 } as const;
  assert.equal(lrAt(1, 0, cos), 1);
  assert.ok(Math.abs(lrAt(1, 5, cos) - 0.5) < 1e-12);
  assert.ok(Math.abs(lrAt(1, 10, cos)) < 1e-12);
  assert.equal(lrAt(1, 25, { kind: 'step', stepSize: 10, gamma: 0.1 }), 0.1 ** 2);
});

test('fused leakyReluDiff equals LeakyReLU(h + d) - LeakyReLU(h) computed in float64', () =>
  tidy(() => {
    manualSeed(4);
    const h = randn([1000]);
    const d = randn([1000]).mul(0.3);
    const got = leakyReluDiff(h, d, 0.01);
    const h64 = h.to('float64');
    const d64 = d.to('float64');
    const ref = activation('leaky_relu', h64.add(d64), 0.01).sub(activation('leaky_relu', h64, 0.01));
    assert.ok(maxDiff(got.to('float64'), ref) < 1e-6);
    assert.throws(() => leakyReluDiff(h, randn([3]), 0.01), /same shape/);
    // float64 takes the libtorch-op form: same formula, same shape check (ops would broadcast)
    assert.ok(maxDiff(leakyReluDiff(h64, d64, 0.01), ref) < 1e-12);
    assert.throws(() => leakyReluDiff(h64, randn([1]).to('float64'), 0.01), /same shape/);
  }));

test('layerNormStats returns layerNorm with the mean and 1 / sqrt(biased var + eps) of each row', () =>
  tidy(() => {
    manualSeed(5);
    const x = randn([3, 4, 16]).mul(2).add(1);
    const g = randn([16]);
    const b = randn([16]);
    const [y, mean, rstd] = layerNormStats(x, [16], g, b, 1e-5);
    assert.deepEqual(mean.shape, [3, 4, 1]);
    assert.ok(maxDiff(y, layerNorm(x, [16], g, b, 1e-5)) < 1e-6);
    assert.ok(maxDiff(mean, x.mean([-1], true)) < 1e-5);
    assert.ok(maxDiff(rstd, ones([1]).div(x.var([-1], true).add(1e-5).sqrt())) < 1e-5);
  }));

test('noGrad stops recording', () =>
  tidy(() => {
    const w = randn([3]).requiresGrad(true);
    assert.equal(noGrad(() => w.mul(2)).needsGrad, false);
  }));

test('optimizer state round-trips through checkpoints without leaking tensors', () => {
  const p = tensor([1, 2, 3], [3]).keep().requiresGrad(true);
  const a = new Adam([p], { lr: 0.1 });
  tidy(() => a.step([tensor([1, -1, 0.5], [3])]));
  const saved = a.state();
  const b = new Adam([p], { lr: 0.1 });
  const before = liveTensors();
  b.loadState(saved);
  assert.equal(liveTensors(), before, 'loading state creates no lasting tensors');
  assert.deepEqual(b.state().map((x) => [...x]), saved.map((x) => [...x]));
  [a, b].forEach((o) => o.dispose());
  p.dispose();
});

test("OpenBLAS follows libtorch's thread count when both share the OpenMP pool, else stays at one thread", (t) => {
  const b = blasInfo();
  if (b.name !== 'openblas') return t.skip('the BLAS is not OpenBLAS');
  const n = getNumThreads();
  const expected = (k: number) => (b.threading === 'openmp' ? k : 1);
  assert.equal(b.threads, expected(n), JSON.stringify(b));
  try {
    setNumThreads(1);
    assert.equal(blasInfo().threads, 1);
    setNumThreads(2);
    assert.equal(blasInfo().threads, expected(2));
  } finally {
    setNumThreads(n);
  }
});
