import type { Distribution } from "./distribution.js";
import { makeDistribution } from "./make-distribution.js";
import { type MomentOptions, readLocationScale } from "./moment-options.js";
import { openUniform } from "./standard-variates.js";

/** Parameters of {@link laplace}: inputs, location and scale b. */
export type LaplaceParams = {
  readonly mean: number;
  readonly sd: number;
  /** Location = mean. */
  readonly location: number;
  /** Scale b = sd / sqrt(2). */
  readonly scale: number;
};

/**
 * Laplace with location mean and scale b = sd / sqrt(2) (so its sd is `sd`). Draw by
 * inverse CDF with u from `openUniform`: location + b ln(2u) for u < 1/2, else
 * location - b ln(2 - 2u).
 */
export function laplace(options: MomentOptions): Distribution<LaplaceParams> {
  const { mean, sd } = readLocationScale("laplace", options);
  const location = mean;
  const scale = sd / Math.SQRT2;
  return makeDistribution({
    name: "laplace",
    params: { mean, sd, location, scale },
    draw: (rng) => {
      const u = openUniform(rng);
      return u < 0.5 ? location + scale * Math.log(2 * u) : location - scale * Math.log(2 - 2 * u);
    },
    mean,
    sd,
  });
}
