import { invalidArgument, requireFinite, requireObject, requirePositive } from "./validate.js";

/** Options of the moment-matched factories: the target mean and standard deviation. */
export interface MomentOptions {
  /** Target mean mu (the location for student-t and cauchy). */
  readonly mean: number;
  /** Target standard deviation sigma (the scale for student-t and cauchy). */
  readonly sd: number;
}

/** The range of the coefficient of variation sd / mean accepted by the shape families. */
export const CV_RANGE = Object.freeze({ min: 1e-6, max: 1e6 });

/** Reads `{ mean, sd }` for a location family: mean finite, sd finite and > 0. */
export function readLocationScale(fn: string, options: unknown): { mean: number; sd: number } {
  const o = requireObject(fn, "options", options);
  const mean = requireFinite(fn, "mean", o.mean);
  const sd = requirePositive(fn, "sd", o.sd);
  return { mean, sd };
}

/**
 * Reads `{ mean, sd }` for a positive family (lognormal, gamma, weibull, pareto): both
 * finite and > 0, with sd / mean in {@link CV_RANGE}, where moment matching is accurate
 * in float64.
 */
export function readPositiveMoments(fn: string, options: unknown): { mean: number; sd: number; cv: number } {
  const o = requireObject(fn, "options", options);
  const mean = requirePositive(fn, "mean", o.mean);
  const sd = requirePositive(fn, "sd", o.sd);
  const cv = sd / mean;
  if (!(cv >= CV_RANGE.min && cv <= CV_RANGE.max)) {
    throw invalidArgument(fn, "sd", sd, `a finite number > 0 with sd / mean in [${CV_RANGE.min}, ${CV_RANGE.max}] (sd / mean = ${cv})`);
  }
  return { mean, sd, cv };
}
