import type { Distribution } from "./distribution.js";
import { isDistributionName } from "./names.js";
import { distributionFromJSON } from "./distribution-from-json.js";
import { createRng } from "./rng.js";

/** One invariant checked by {@link checkDistribution}. */
export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The outcome of {@link checkDistribution}: `ok` when every check passed. */
export interface CheckReport {
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
}

/** Options of {@link checkDistribution}. */
export interface CheckDistributionOptions {
  /** Draws per check (default 100,000). */
  readonly draws?: number;
  /** Seed of the generator (default 1). */
  readonly seed?: number;
  /**
   * Allowed |sample mean - declared mean| in units of the declared sd / sqrt(draws)
   * (default 6: a false alarm about once in 10^9 runs for a correct sampler).
   */
  readonly sigmas?: number;
}

/**
 * Runs the package's invariants on any {@link Distribution}, yours included: every draw is
 * finite; draws respect the distribution's clamp; the sample mean matches the declared
 * `mean` (when it declares one and a finite `sd`); the same seed gives bit-identical draws,
 * in float64 and float32 arrays alike; `toJSON()` is plain JSON and, for the built-in
 * names, rebuilds a distribution that draws the same values. Returns a report rather than
 * throwing, so it fits any test runner: `expect(checkDistribution(d).ok).toBe(true)`.
 */
export function checkDistribution(dist: Distribution, options: CheckDistributionOptions = {}): CheckReport {
  const draws = options.draws ?? 100_000;
  const seed = options.seed ?? 1;
  const sigmas = options.sigmas ?? 6;
  const checks: CheckResult[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const sample = () => dist.sample(createRng(seed), new Float64Array(draws));

  let a: Float64Array;
  try {
    a = sample();
  } catch (e) {
    add("samples", false, `sample() threw: ${(e as Error).message}`);
    return { ok: false, checks };
  }
  const bad = a.findIndex((v) => !Number.isFinite(v));
  add("finite", bad < 0, bad < 0 ? `${draws} finite draws` : `draw ${bad} is ${a[bad]}`);

  if (dist.clamp) {
    const { min, max } = dist.clamp;
    const out = a.findIndex((v) => v < min || v > max);
    add("clamp", out < 0, out < 0 ? `all draws in [${min}, ${max}]` : `draw ${out} = ${a[out]} is outside [${min}, ${max}]`);
  }

  if (dist.mean !== undefined && dist.sd !== undefined && Number.isFinite(dist.sd)) {
    let s = 0;
    for (const v of a) s += v;
    const m = s / draws;
    const allowed = (sigmas * dist.sd) / Math.sqrt(draws) + 1e-12;
    add("mean", Math.abs(m - dist.mean) <= allowed, `sample mean ${m} vs declared ${dist.mean} (allowed ±${allowed.toPrecision(3)})`);
  }

  const b = sample();
  const same = a.every((v, i) => Object.is(v, b[i]));
  add("reproducible", same, same ? "same seed, bit-identical draws" : "two draws with the same seed differ");

  const f32 = dist.sample(createRng(seed), new Float32Array(Math.min(draws, 1000)));
  const f32ok = f32.every((v) => Number.isFinite(v) && (!dist.clamp || (v >= dist.clamp.min - 1e-7 && v <= dist.clamp.max + 1e-7)));
  add("float32", f32ok, f32ok ? "fills Float32Array within bounds" : "a float32 draw is non-finite or outside the clamp");

  let json: unknown;
  try {
    json = JSON.parse(JSON.stringify(dist.toJSON()));
    add("json", true, "toJSON() is plain JSON");
  } catch (e) {
    add("json", false, `toJSON() is not serialisable: ${(e as Error).message}`);
  }
  if (json !== undefined && isDistributionName(dist.name)) {
    try {
      const back = distributionFromJSON(json).sample(createRng(seed), new Float64Array(Math.min(draws, 1000)));
      const eq = back.every((v, i) => Object.is(v, a[i]));
      add("json round trip", eq, eq ? "distributionFromJSON(toJSON()) draws the same values" : "the rebuilt distribution draws other values");
    } catch (e) {
      add("json round trip", false, `distributionFromJSON failed: ${(e as Error).message}`);
    }
  }
  return { ok: checks.every((c) => c.ok), checks };
}
