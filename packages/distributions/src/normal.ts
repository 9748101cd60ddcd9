import type { Distribution } from "./distribution.js";
import { makeDistribution } from "./make-distribution.js";
import { type MomentOptions, readLocationScale } from "./moment-options.js";
import { standardNormal } from "./standard-variates.js";

/** Parameters of {@link normal}. */
export type NormalParams = { readonly mean: number; readonly sd: number };

/** Normal N(mean, sd^2). Draw: mean + sd Z, Z from the Marsaglia polar method ({@link standardNormal}). */
export function normal(options: MomentOptions): Distribution<NormalParams> {
  const { mean, sd } = readLocationScale("normal", options);
  return makeDistribution({
    name: "normal",
    params: { mean, sd },
    draw: (rng) => mean + sd * standardNormal(rng),
    mean,
    sd,
  });
}
