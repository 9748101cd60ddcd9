import type { Distribution } from "./distribution.js";
import { makeDistribution } from "./make-distribution.js";
import { requireFinite, requireObject } from "./validate.js";

/** Parameters of {@link constant}. */
export type ConstantParams = { readonly mean: number };

/**
 * The scalar baseline: every draw is `mean` (sd 0). Consumes nothing from the generator.
 * `mean` may be any finite number; clamp it to keep dt > 0.
 */
export function constant(options: { readonly mean: number }): Distribution<ConstantParams> {
  const o = requireObject("constant", "options", options);
  const mean = requireFinite("constant", "mean", o.mean);
  return makeDistribution({ name: "constant", params: { mean }, draw: () => mean, mean, sd: 0 });
}
