/**
 * The names of the built-in distributions, as the CLI spells them and as `toJSON()`
 * records them.
 */
export const DISTRIBUTION_NAMES = Object.freeze([
  "constant",
  "uniform",
  "normal",
  "lognormal",
  "gamma",
  "weibull",
  "laplace",
  "exponential",
  "pareto",
  "student-t",
  "cauchy",
] as const);

/** One of {@link DISTRIBUTION_NAMES}. */
export type DistributionName = (typeof DISTRIBUTION_NAMES)[number];

/** True when `name` is one of {@link DISTRIBUTION_NAMES}. */
export function isDistributionName(name: unknown): name is DistributionName {
  return typeof name === "string" && (DISTRIBUTION_NAMES as readonly string[]).includes(name);
}
