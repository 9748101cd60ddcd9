import type { Distribution } from "./distribution.js";
import { logGamma } from "./log-gamma.js";
import { makeDistribution } from "./make-distribution.js";
import { type MomentOptions, readPositiveMoments } from "./moment-options.js";
import { openUniform } from "./standard-variates.js";
import { weibullShapeForCv } from "./weibull-shape.js";

/** Parameters of {@link weibull}: inputs, shape k and scale lambda. */
export type WeibullParams = {
  readonly mean: number;
  readonly sd: number;
  /** Shape k solving Gamma(1 + 2/k) / Gamma(1 + 1/k)^2 = 1 + CV^2. */
  readonly shape: number;
  /** Scale lambda = mean / Gamma(1 + 1/k). */
  readonly scale: number;
};

/**
 * Weibull with the given mean and sd: shape k from {@link weibullShapeForCv}, scale
 * lambda = mean / Gamma(1 + 1/k). Draw by inverse CDF: lambda (-ln(1 - u))^(1/k), u from
 * `openUniform`. Requires mean > 0 and sd / mean in `CV_RANGE`.
 */
export function weibull(options: MomentOptions): Distribution<WeibullParams> {
  const { mean, sd, cv } = readPositiveMoments("weibull", options);
  const shape = weibullShapeForCv(cv);
  const scale = mean / Math.exp(logGamma(1 + 1 / shape));
  const invShape = 1 / shape;
  return makeDistribution({
    name: "weibull",
    params: { mean, sd, shape, scale },
    draw: (rng) => scale * (-Math.log(1 - openUniform(rng))) ** invShape,
    mean,
    sd,
  });
}
