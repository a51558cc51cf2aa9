// Monte-Carlo estimates of the three feedback-training losses at a forward point, normalised by
// sigma^2, beside the Jacobian quantity each one measures as sigma -> 0 (first order in sigma):
//   DTP reconstruction   (1/s^2) E||G(F(x+e)) - (x+e)||^2          -> ||J_G J_F - I||^2 + ||G(F(x)) - x||^2 / s^2
//                        (zero iff G inverts F locally: the IJMC, Proposition 1)
//   DRL (one block)      (1/s^2) E||G(F(x+e)) - G(F(x)) - e||^2     -> ||J_G J_F - I||^2   (difference form)
//   LDRL                 (1/s^2) E[-2 e.(G(F(x+e)) - G(F(x))) + ||G(F(x)+f) - G(F(x))||^2]
//                                                                  -> ||J_G - J_F^T||^2 - ||J_F||^2
//                        (so LDRL is minimised exactly at the TJMC, Proposition 3)
// Norms are Frobenius, per example, averaged over the batch.
import { Tensor, noGrad, randnLike, tidy } from '../engine';

export interface FeedbackLosses {
  reconstruction: number;
  drl: number;
  ldrl: number;
}

export function feedbackLosses(F: (x: Tensor) => Tensor, G: (y: Tensor) => Tensor, x: Tensor, sigma: number, samples = 200): FeedbackLosses {
  return noGrad(() =>
    tidy(() => {
      const B = x.shape[0];
      const y = F(x);
      const r = G(y);
      let rec = 0;
      let drl = 0;
      let ldrl = 0;
      for (let k = 0; k < samples; k++)
        tidy(() => {
          const e = randnLike(x).mul(sigma);
          const re = G(F(x.add(e)));
          rec += re.sub(x.add(e)).square().sum().item();
          drl += re.sub(r).sub(e).square().sum().item();
          const f = randnLike(y).mul(sigma);
          ldrl += e.mul(re.sub(r)).sum().item() * -2 + G(y.add(f)).sub(r).square().sum().item();
        });
      const n = samples * B * sigma * sigma;
      return { reconstruction: rec / n, drl: drl / n, ldrl: ldrl / n };
    }),
  );
}
