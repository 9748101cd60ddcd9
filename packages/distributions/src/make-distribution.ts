import type { Distribution, DistributionJSON, DistributionParams } from "./distribution.js";
import type { Rng } from "./rng.js";

/** What {@link makeDistribution} needs: a name, frozen params, one-value draw, moments. */
export interface DistributionParts<P extends DistributionParams> {
  readonly name: string;
  readonly params: P;
  /** Draws one value; called once per element of `out`, in order. */
  readonly draw: (rng: Rng) => number;
  readonly mean: number | undefined;
  readonly sd: number | undefined;
}

/**
 * Builds a {@link Distribution} from a one-value draw: `sample` fills `out[0]`, `out[1]`, ...
 * in order, so filling n values in one call or in several calls gives the same values.
 */
export function makeDistribution<P extends DistributionParams>(parts: DistributionParts<P>): Distribution<P> {
  const { name, params, draw, mean, sd } = parts;
  const frozen = Object.freeze({ ...params }) as P;
  return Object.freeze({
    name,
    params: frozen,
    mean,
    sd,
    sample<T extends Float64Array | Float32Array>(rng: Rng, out: T): T {
      const n = out.length;
      for (let i = 0; i < n; i++) out[i] = draw(rng);
      return out;
    },
    toJSON(): DistributionJSON {
      return { name, params: { ...frozen } };
    },
  });
}
