import type { Distribution } from "./distribution.js";
import { makeDistribution } from "./make-distribution.js";
import { type MomentOptions, readLocationScale } from "./moment-options.js";
import { openUniform } from "./standard-variates.js";

/** Parameters of {@link cauchy}: inputs, location and scale. */
export type CauchyParams = {
  readonly mean: number;
  readonly sd: number;
  /** Location (the median) = mean. */
  readonly location: number;
  /** Scale (half the interquartile range) = sd. */
  readonly scale: number;
};

/**
 * Cauchy with location `mean` and scale `sd`: no mean, no sd (both undefined here).
 * Draw by inverse CDF: location + scale sin(t) / cos(t), t = pi (u - 1/2), u from
 * `openUniform` (tan written as sin / cos).
 */
export function cauchy(options: MomentOptions): Distribution<CauchyParams> {
  const { mean, sd } = readLocationScale("cauchy", options);
  const location = mean;
  const scale = sd;
  return makeDistribution({
    name: "cauchy",
    params: { mean, sd, location, scale },
    draw: (rng) => {
      const t = Math.PI * (openUniform(rng) - 0.5);
      return location + (scale * Math.sin(t)) / Math.cos(t);
    },
    mean: undefined,
    sd: undefined,
  });
}
