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
  /**
   * Require every draw to be > 0, as a time step must be (default true). Turn it off only
   * for a distribution that is never used for dt, or is clamped later by its user.
   */
  readonly positive?: boolean;
}

/**
 * Runs the package's invariants on any {@link Distribution}, yours included: every draw is
 * finite and > 0 (a time step; `positive: false` turns this off); draws respect the
 * distribution's clamp; the sample mean and sd match the declared `mean` and `sd` (when it
 * declares both, the sd finite); the same seed gives bit-identical draws,
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

  if (options.positive ?? true) {
    const neg = a.findIndex((v) => !(v > 0));
    const count = neg < 0 ? 0 : a.reduce((n, v) => n + (v > 0 ? 0 : 1), 0);
    add(
      "positive",
      neg < 0,
      neg < 0 ? `all ${draws} draws > 0 (usable as time steps)` : `${count} of ${draws} draws are <= 0 (draw ${neg} = ${a[neg]}): a time step must be > 0; clamp the distribution (clamp(d, { min: 1e-3, max: 0.5 }))`,
    );
  }

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
    // The declared sd: the sample variance against sd^2, within `sigmas` standard errors
    // of the variance, estimated from the sample's own fourth central moment.
    let m2 = 0;
    let m4 = 0;
    for (const v of a) {
      const d = (v - m) * (v - m);
      m2 += d;
      m4 += d * d;
    }
    m2 /= draws;
    m4 /= draws;
    const se = Math.sqrt(Math.max(m4 - m2 * m2, 0) / draws);
    const allowedVar = sigmas * se + 1e-12 + 1e-9 * dist.sd * dist.sd;
    add("sd", Math.abs(m2 - dist.sd * dist.sd) <= allowedVar, `sample sd ${Math.sqrt(m2)} vs declared ${dist.sd} (variance ${m2} vs ${dist.sd * dist.sd}, allowed ±${allowedVar.toPrecision(3)})`);
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
