import type { Distribution } from "./distribution.js";
import { makeDistribution } from "./make-distribution.js";
import { type MomentOptions, readLocationScale } from "./moment-options.js";

/** Parameters of {@link uniform}: inputs and the support [low, high]. */
export type UniformParams = {
  readonly mean: number;
  readonly sd: number;
  readonly low: number;
  readonly high: number;
};

/**
 * Uniform on [mean - sqrt(3) sd, mean + sqrt(3) sd], which has the given mean and sd.
 * Draw: low + (high - low) U with U = `rng.uniform()` in [0, 1).
 */
export function uniform(options: MomentOptions): Distribution<UniformParams> {
  const { mean, sd } = readLocationScale("uniform", options);
  const half = Math.sqrt(3) * sd;
  const low = mean - half;
  const high = mean + half;
  const width = high - low;
  return makeDistribution({
    name: "uniform",
    params: { mean, sd, low, high },
    draw: (rng) => low + width * rng.uniform(),
    mean,
    sd,
  });
}
