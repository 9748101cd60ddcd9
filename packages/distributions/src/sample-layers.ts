import type { Distribution } from "./distribution.js";
import type { Rng } from "./rng.js";
import { invalidArgument } from "./validate.js";

/**
 * Draws one dt vector per layer: `sizes` are the neuron counts of layers 1..L, and the
 * vectors are drawn in that order, layer by layer, from the same generator. Values are
 * computed in float64 and stored as float32 (a clamped distribution keeps them inside
 * its bounds after rounding).
 *
 * @throws DistributionError `HTS_INVALID_ARGUMENT` when `sizes` is not an array of
 *   non-negative safe integers.
 */
export function sampleLayers(dist: Distribution, rng: Rng, sizes: readonly number[]): Float32Array[] {
  if (!Array.isArray(sizes)) {
    throw invalidArgument("sampleLayers", "sizes", sizes, "an array of layer sizes");
  }
  sizes.forEach((n, l) => {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw invalidArgument("sampleLayers", `sizes[${l}]`, n, "a non-negative integer");
    }
  });
  return sizes.map((n) => dist.sample(rng, new Float32Array(n)));
}
