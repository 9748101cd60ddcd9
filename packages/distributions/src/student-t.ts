import type { Distribution } from "./distribution.js";
import { makeDistribution } from "./make-distribution.js";
import { readLocationScale } from "./moment-options.js";
import { createStandardGamma, standardNormal } from "./standard-variates.js";
import { requireObject, requirePositive } from "./validate.js";

/** Options of {@link studentT}. */
export interface StudentTOptions {
  /** Location (the mean when nu > 1). */
  readonly mean: number;
  /** Scale; the sd is scale sqrt(nu / (nu - 2)) for nu > 2, infinite below. */
  readonly sd: number;
  /** Degrees of freedom, > 0; default 3. */
  readonly nu?: number;
}

/** Parameters of {@link studentT}: inputs (nu resolved), location and scale. */
export type StudentTParams = {
  readonly mean: number;
  readonly sd: number;
  readonly nu: number;
  readonly location: number;
  readonly scale: number;
};

/** The default degrees of freedom of {@link studentT}. */
export const DEFAULT_STUDENT_T_NU = 3;

/**
 * Student-t with `nu` degrees of freedom (default 3), location `mean` and scale `sd`:
 * heavy-tailed, and its sd is not `sd`. Draw: location + scale Z / sqrt(V / nu), with Z
 * standard normal (polar method) drawn first and V = 2 G, G ~ Gamma(nu / 2, 1)
 * (Marsaglia-Tsang), a chi-square with nu degrees of freedom.
 */
export function studentT(options: StudentTOptions): Distribution<StudentTParams> {
  const { mean, sd } = readLocationScale("studentT", options);
  const raw = requireObject("studentT", "options", options).nu;
  const nu = raw === undefined ? DEFAULT_STUDENT_T_NU : requirePositive("studentT", "nu", raw);
  const location = mean;
  const scale = sd;
  const halfChi2 = createStandardGamma(nu / 2);
  return makeDistribution({
    name: "student-t",
    params: { mean, sd, nu, location, scale },
    draw: (rng) => {
      const z = standardNormal(rng);
      const v = 2 * halfChi2(rng);
      return location + (scale * z) / Math.sqrt(v / nu);
    },
    mean: nu > 1 ? location : undefined,
    sd: nu > 2 ? scale * Math.sqrt(nu / (nu - 2)) : undefined,
  });
}
