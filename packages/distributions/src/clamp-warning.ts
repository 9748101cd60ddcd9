import type { Distribution } from "./distribution.js";
import { createRng } from "./rng.js";
import { summarize } from "./summarize.js";

/** Options of {@link clampWarning}. */
export interface ClampWarningOptions {
  /** Draws of the estimate (default 20,000). */
  readonly draws?: number;
  /** Seed of the estimate (default 0). */
  readonly seed?: number;
  /** Warn above this fraction of the draws at one bound (default 0.5). */
  readonly threshold?: number;
}

/**
 * A one-line warning when a clipping clamp piles more than `threshold` of the draws at one
 * of its bounds (say `--dt-mean 2` clipped to [1e-3, 0.5]: nearly every neuron gets
 * dt = 0.5, the distribution asked for is not the one used), or null. Estimated from
 * `draws` seeded draws; a resampling clamp moves no mass to its bounds, and an unclamped
 * distribution has none, so both give null.
 */
export function clampWarning(dist: Distribution, options: ClampWarningOptions = {}): string | null {
  const c = dist.clamp;
  if (c?.mode !== "clip") return null;
  const draws = options.draws ?? 20_000;
  const threshold = options.threshold ?? 0.5;
  const s = summarize(dist.sample(createRng(options.seed ?? 0), new Float64Array(draws)), { min: c.min, max: c.max });
  const [side, fraction, bound] = s.fractionAtMax >= s.fractionAtMin ? (["upper", s.fractionAtMax, c.max] as const) : (["lower", s.fractionAtMin, c.min] as const);
  if (!(fraction > threshold)) return null;
  const { mean, sd } = dist.params as { mean?: unknown; sd?: unknown };
  const asked = typeof mean === "number" ? ` (mean ${mean}${typeof sd === "number" ? `, sd ${sd}` : ""})` : "";
  return `${(100 * fraction).toFixed(1)} % of the dt drawn from ${dist.name}${asked} are clipped to the ${side} bound ${bound} of [${c.min}, ${c.max}]: most neurons get dt = ${bound}, not the distribution asked for; move the bounds or the distribution, or clamp with resample`;
}
