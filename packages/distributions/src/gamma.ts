import type { Distribution } from "./distribution.js";
import { makeDistribution } from "./make-distribution.js";
import { type MomentOptions, readPositiveMoments } from "./moment-options.js";
import { createStandardGamma } from "./standard-variates.js";

/** Parameters of {@link gamma}: inputs, shape k and scale theta. */
export type GammaParams = {
  readonly mean: number;
  readonly sd: number;
  /** Shape k = 1 / CV^2 = (mean / sd)^2. */
  readonly shape: number;
  /** Scale theta = sd^2 / mean. */
  readonly scale: number;
};

/**
 * Gamma with the given mean and sd: shape k = (mean / sd)^2, scale = sd^2 / mean. Draw:
 * scale G, G ~ Gamma(k, 1) by Marsaglia-Tsang (with the u^(1/k) boost for k < 1), see
 * {@link createStandardGamma}. Requires mean > 0 and sd / mean in `CV_RANGE`.
 */
export function gamma(options: MomentOptions): Distribution<GammaParams> {
  const { mean, sd, cv } = readPositiveMoments("gamma", options);
  const shape = 1 / (cv * cv);
  const scale = (sd * sd) / mean;
  const standard = createStandardGamma(shape);
  return makeDistribution({
    name: "gamma",
    params: { mean, sd, shape, scale },
    draw: (rng) => scale * standard(rng),
    mean,
    sd,
  });
}
