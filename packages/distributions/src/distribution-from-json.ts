import { clamp, readClampSpec } from "./clamp.js";
import { createDistribution } from "./create-distribution.js";
import type { Distribution } from "./distribution.js";
import { DistributionError } from "./errors.js";
import { DISTRIBUTION_NAMES, isDistributionName } from "./names.js";
import { describe, invalidArgument, requireObject } from "./validate.js";

const FN = "distributionFromJSON";
/** Derived parameters must agree with the recomputed ones to this relative tolerance. */
const DERIVED_RTOL = 1e-12;

/**
 * Rebuilds a built-in distribution, clamped or not, from its `toJSON()` (or from the
 * parsed JSON text of it). The inputs (`mean`, `sd`, `nu`) are validated by the factory;
 * derived parameters, where present, must agree with the recomputed ones (relative
 * 1e-12), so a record that no longer matches what this version computes is refused
 * rather than silently replayed differently. A clamped record needs all of `min`, `max`
 * and `mode`.
 *
 * @throws DistributionError `HTS_INVALID_ARGUMENT` naming the offending field: an unknown
 *   name (the message lists the names), an unknown or bad parameter, bad clamp bounds.
 */
export function distributionFromJSON(json: unknown): Distribution {
  const o = requireObject(FN, "json", json);
  for (const key of Object.keys(o)) {
    if (key !== "name" && key !== "params" && key !== "clamp") {
      throw invalidArgument(FN, key, o[key], "absent (a distribution JSON has name, params and clamp only)");
    }
  }
  const name = o.name;
  if (!isDistributionName(name)) {
    throw invalidArgument(FN, "name", name, `one of ${DISTRIBUTION_NAMES.join(", ")}`);
  }
  const params = requireObject(FN, "params", o.params);
  const inputs: { mean: number; sd?: number; nu?: number } = { mean: params.mean as number };
  if ("sd" in params) inputs.sd = params.sd as number;
  if ("nu" in params) inputs.nu = params.nu as number;

  let dist: Distribution;
  try {
    dist = createDistribution(name, inputs);
  } catch (error) {
    if (error instanceof DistributionError && error.parameter !== undefined) {
      const parameter = `params.${error.parameter}`;
      throw new DistributionError(
        error.code,
        `${FN}: ${parameter} must be ${error.expected ?? "valid"} for ${name}, got ${describe(error.value)}`,
        { parameter, value: error.value, expected: error.expected ?? "valid" },
      );
    }
    throw error;
  }

  for (const key of Object.keys(params)) {
    const parameter = `params.${key}`;
    if (!(key in dist.params)) {
      throw invalidArgument(FN, parameter, params[key], `absent (${name} has ${Object.keys(dist.params).join(", ")})`);
    }
    const recorded = params[key];
    const computed = dist.params[key] as number;
    const ok =
      typeof recorded === "number" &&
      Math.abs(recorded - computed) <= DERIVED_RTOL * Math.max(Math.abs(recorded), Math.abs(computed));
    if (!ok) {
      throw invalidArgument(FN, parameter, recorded, `${computed} (as ${name} computes it from the inputs)`);
    }
  }

  if (o.clamp === undefined) return dist;
  const c = requireObject(FN, "clamp", o.clamp);
  for (const key of ["min", "max", "mode"] as const) {
    if (c[key] === undefined) throw invalidArgument(FN, `clamp.${key}`, undefined, "present in a clamped record");
  }
  for (const key of Object.keys(c)) {
    if (key !== "min" && key !== "max" && key !== "mode") {
      throw invalidArgument(FN, `clamp.${key}`, c[key], "absent (clamp has min, max and mode only)");
    }
  }
  return clamp(dist, readClampSpec(FN, c, "clamp."));
}
