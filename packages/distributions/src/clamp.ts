import type { ClampMode, ClampSpec, Distribution, DistributionJSON, DistributionParams } from "./distribution.js";
import { DistributionError } from "./errors.js";
import { float32Inside } from "./float32-bounds.js";
import type { Rng } from "./rng.js";
import { invalidArgument, requireObject } from "./validate.js";

/** Options of {@link clamp}; every field has a default. */
export interface ClampOptions {
  /** Lower bound, included; finite and > 0 (a time step is positive). Default 1e-3. */
  readonly min?: number;
  /** Upper bound, included; finite and > min. Default 0.5. */
  readonly max?: number;
  /** `"clip"` (default) or `"resample"`. */
  readonly mode?: ClampMode;
}

/** The default bounds and mode of {@link clamp}: [1e-3, 0.5], clip (SPEC section 5). */
export const DEFAULT_CLAMP: ClampSpec = Object.freeze({ min: 1e-3, max: 0.5, mode: "clip" });

/** In resample mode, the most draws spent on one value before `HTS_SAMPLING_FAILED`. */
export const RESAMPLE_MAX_TRIES = 10_000;

/**
 * Reads and validates clamp bounds: min and max finite, 0 < min < max, and at least one
 * float32 in [min, max] (dt vectors are stored as float32). `prefix` goes before the
 * parameter names in errors (e.g. `"clamp."`).
 */
export function readClampSpec(fn: string, options: unknown, prefix = ""): ClampSpec {
  const o = options === undefined ? {} : requireObject(fn, "options", options);
  const min = o.min === undefined ? DEFAULT_CLAMP.min : o.min;
  const max = o.max === undefined ? DEFAULT_CLAMP.max : o.max;
  const mode = o.mode === undefined ? DEFAULT_CLAMP.mode : o.mode;
  if (typeof min !== "number" || !Number.isFinite(min) || min <= 0) {
    throw invalidArgument(fn, `${prefix}min`, min, "a finite number > 0");
  }
  if (typeof max !== "number" || !Number.isFinite(max) || max <= min) {
    throw invalidArgument(fn, `${prefix}max`, max, `a finite number > min (${min})`);
  }
  const inside = float32Inside(min, max);
  if (inside.low > inside.high) {
    throw invalidArgument(fn, `${prefix}max`, max, `a bound such that [min, max] contains a float32 value (min = ${min})`);
  }
  if (mode !== "clip" && mode !== "resample") {
    throw invalidArgument(fn, `${prefix}mode`, mode, '"clip" or "resample"');
  }
  return Object.freeze({ min, max, mode });
}

/**
 * Clamps a distribution to [min, max] and returns another {@link Distribution} with the
 * same `name` and `params`, `clamp` set, and `clamp` recorded in `toJSON()`. Its analytic
 * `mean` and `sd` are undefined (clamping changes them).
 *
 * - `"clip"`: a value below min becomes min, above max becomes max.
 * - `"resample"`: values are drawn one at a time, in order; a value outside the bounds is
 *   drawn again, up to {@link RESAMPLE_MAX_TRIES} times, then `HTS_SAMPLING_FAILED`.
 *
 * A NaN from the inner distribution throws `HTS_SAMPLING_FAILED` in both modes. Values are
 * decided in float64; into a `Float32Array` they are stored rounded to float32 and, where
 * rounding would cross a bound, set to the nearest float32 inside [min, max]. So the
 * float32 vector is within the bounds and has the same draws as the float64 one.
 *
 * @throws DistributionError `HTS_INVALID_ARGUMENT` for bad bounds or mode, or when `dist`
 *   is already clamped (clamp the unclamped distribution instead).
 */
export function clamp<P extends DistributionParams>(dist: Distribution<P>, options?: ClampOptions): Distribution<P> {
  if (dist === null || typeof dist !== "object" || typeof dist.sample !== "function") {
    throw invalidArgument("clamp", "dist", dist, "a Distribution");
  }
  if (dist.clamp !== undefined || dist.toJSON().clamp !== undefined) {
    throw invalidArgument("clamp", "dist", dist.toJSON(), "an unclamped distribution");
  }
  const spec = readClampSpec("clamp", options);
  const { min, max, mode } = spec;
  const inside = float32Inside(min, max);
  const low32 = inside.low;
  const high32 = inside.high;
  const label = `clamp(${dist.name}, [${min}, ${max}], ${mode})`;
  const one = new Float64Array(1);

  const fail = (message: string): DistributionError =>
    new DistributionError("HTS_SAMPLING_FAILED", `${label}: ${message}`, {
      parameter: "dist",
      value: dist.toJSON(),
      expected: `values in [${min}, ${max}]`,
    });

  const clip = (v: number): number => {
    if (v < min) return min;
    if (v > max) return max;
    if (Number.isNaN(v)) throw fail(`${dist.name} produced NaN`);
    return v;
  };

  const drawInside = (rng: Rng): number => {
    for (let tries = 0; tries < RESAMPLE_MAX_TRIES; tries++) {
      const v = dist.sample(rng, one)[0]!;
      if (v >= min && v <= max) return v;
      if (Number.isNaN(v)) throw fail(`${dist.name} produced NaN`);
    }
    throw fail(`no value of ${dist.name} fell inside the bounds in ${RESAMPLE_MAX_TRIES} draws`);
  };

  const fill = (rng: Rng, out: Float64Array): void => {
    if (mode === "clip") {
      dist.sample(rng, out);
      for (let i = 0; i < out.length; i++) out[i] = clip(out[i]!);
    } else {
      for (let i = 0; i < out.length; i++) out[i] = drawInside(rng);
    }
  };

  return Object.freeze({
    name: dist.name,
    params: dist.params,
    mean: undefined,
    sd: undefined,
    clamp: spec,
    sample<T extends Float64Array | Float32Array>(rng: Rng, out: T): T {
      if (out instanceof Float64Array) {
        fill(rng, out);
        return out;
      }
      const wide = new Float64Array(out.length);
      fill(rng, wide);
      for (let i = 0; i < wide.length; i++) {
        const f = Math.fround(wide[i]!);
        out[i] = f < min ? low32 : f > max ? high32 : f;
      }
      return out;
    },
    toJSON(): DistributionJSON {
      return { ...dist.toJSON(), clamp: { ...spec } };
    },
  });
}
