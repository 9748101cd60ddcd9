import type { Distribution } from "./distribution.js";
import { makeDistribution } from "./make-distribution.js";
import { openUniform } from "./standard-variates.js";
import { requireObject, requirePositive } from "./validate.js";

/** Parameters of {@link exponential}. */
export type ExponentialParams = { readonly mean: number };

/**
 * Exponential with the given mean (rate 1 / mean). It has one parameter, so its sd is
 * the mean: a requested sd is not used (`createDistribution` drops it). Draw by inverse
 * CDF: -mean ln(1 - u), u from `openUniform`.
 */
export function exponential(options: { readonly mean: number }): Distribution<ExponentialParams> {
  const o = requireObject("exponential", "options", options);
  const mean = requirePositive("exponential", "mean", o.mean);
  return makeDistribution({
    name: "exponential",
    params: { mean },
    draw: (rng) => -mean * Math.log(1 - openUniform(rng)),
    mean,
    sd: mean,
  });
}
