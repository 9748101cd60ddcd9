import type { Distribution } from "./distribution.js";
import { makeDistribution } from "./make-distribution.js";
import { type MomentOptions, readPositiveMoments } from "./moment-options.js";
import { openUniform } from "./standard-variates.js";

/** Parameters of {@link pareto}: inputs, shape a and minimum x_m. */
export type ParetoParams = {
  readonly mean: number;
  readonly sd: number;
  /** Shape a = 1 + sqrt(1 + 1 / CV^2) (always > 2, so the variance is finite). */
  readonly shape: number;
  /** Minimum (scale) x_m = mean (a - 1) / a. */
  readonly xm: number;
};

/**
 * Pareto type I with the given mean and sd: a = 1 + sqrt(1 + 1/CV^2),
 * x_m = mean (a - 1) / a. Draw by inverse CDF: x_m (1 - u)^(-1/a), u from `openUniform`.
 * Requires mean > 0 and sd / mean in `CV_RANGE`.
 */
export function pareto(options: MomentOptions): Distribution<ParetoParams> {
  const { mean, sd, cv } = readPositiveMoments("pareto", options);
  const shape = 1 + Math.sqrt(1 + 1 / (cv * cv));
  const xm = (mean * (shape - 1)) / shape;
  const negInvShape = -1 / shape;
  return makeDistribution({
    name: "pareto",
    params: { mean, sd, shape, xm },
    draw: (rng) => xm * (1 - openUniform(rng)) ** negInvShape,
    mean,
    sd,
  });
}
