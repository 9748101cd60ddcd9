import type { Distribution } from "./distribution.js";
import { makeDistribution } from "./make-distribution.js";
import { type MomentOptions, readPositiveMoments } from "./moment-options.js";
import { standardNormal } from "./standard-variates.js";

/** Parameters of {@link lognormal}: inputs and the mean and sd of ln(X). */
export type LognormalParams = {
  readonly mean: number;
  readonly sd: number;
  /** Mean of ln(X): ln(mean) - sigmaLog^2 / 2. */
  readonly muLog: number;
  /** Standard deviation of ln(X): sqrt(ln(1 + CV^2)), CV = sd / mean. */
  readonly sigmaLog: number;
};

/**
 * Lognormal with the given mean and sd: sigmaLog = sqrt(ln(1 + CV^2)),
 * muLog = ln(mean) - sigmaLog^2 / 2. Draw: exp(muLog + sigmaLog Z), Z standard normal
 * (polar method). Requires mean > 0 and sd / mean in `CV_RANGE`.
 */
export function lognormal(options: MomentOptions): Distribution<LognormalParams> {
  const { mean, sd, cv } = readPositiveMoments("lognormal", options);
  const sigmaLog = Math.sqrt(Math.log1p(cv * cv));
  const muLog = Math.log(mean) - (sigmaLog * sigmaLog) / 2;
  return makeDistribution({
    name: "lognormal",
    params: { mean, sd, muLog, sigmaLog },
    draw: (rng) => Math.exp(muLog + sigmaLog * standardNormal(rng)),
    mean,
    sd,
  });
}
