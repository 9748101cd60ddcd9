import { DEFAULT_CLAMP, readClampSpec } from "./clamp.js";
import { float32Inside } from "./float32-bounds.js";
import { invalidArgument } from "./validate.js";

/** Bounds for {@link summarize}; default [1e-3, 0.5]. */
export interface SummarizeOptions {
  /** The lower clamp bound; default 1e-3. */
  readonly min?: number;
  /** The upper clamp bound; default 0.5. */
  readonly max?: number;
}

/** What {@link summarize} reports about a dt vector. */
export interface DtSummary {
  /** Number of values. */
  readonly count: number;
  /** Arithmetic mean. */
  readonly mean: number;
  /** Population standard deviation (divides by count). */
  readonly sd: number;
  /** Smallest value. */
  readonly min: number;
  /** Largest value. */
  readonly max: number;
  /** Values at or below the lower bound. */
  readonly atMin: number;
  /** Values at or above the upper bound. */
  readonly atMax: number;
  /** atMin / count. */
  readonly fractionAtMin: number;
  /** atMax / count. */
  readonly fractionAtMax: number;
}

/**
 * Summarizes a dt vector for `hts sample`: count, mean, population sd, range, and how
 * many values sit at the clamp bounds. A value equal to a bound counts as clamped, and
 * so does one beyond it (for an unclamped vector, the mass the clamp would move). For a
 * `Float32Array` the bounds are first moved inward to the nearest float32 inside
 * [min, max], which is where a clip stores them.
 *
 * @throws DistributionError `HTS_INVALID_ARGUMENT` for an empty vector or bad bounds.
 */
export function summarize(values: ArrayLike<number>, options: SummarizeOptions = {}): DtSummary {
  const { min, max } = readClampSpec("summarize", { min: options.min, max: options.max, mode: DEFAULT_CLAMP.mode });
  const count = values?.length;
  if (typeof count !== "number" || count === 0) {
    throw invalidArgument("summarize", "values", values, "a non-empty array of numbers");
  }
  let lo = min;
  let hi = max;
  if (values instanceof Float32Array) {
    const inside = float32Inside(min, max);
    lo = inside.low;
    hi = inside.high;
  }
  let sum = 0;
  let smallest = Number.POSITIVE_INFINITY;
  let largest = Number.NEGATIVE_INFINITY;
  let atMin = 0;
  let atMax = 0;
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    sum += v;
    if (v < smallest) smallest = v;
    if (v > largest) largest = v;
    if (v <= lo) atMin++;
    else if (v >= hi) atMax++;
  }
  const mean = sum / count;
  let squares = 0;
  for (let i = 0; i < count; i++) {
    const d = values[i]! - mean;
    squares += d * d;
  }
  return {
    count,
    mean,
    sd: Math.sqrt(squares / count),
    min: smallest,
    max: largest,
    atMin,
    atMax,
    fractionAtMin: atMin / count,
    fractionAtMax: atMax / count,
  };
}
