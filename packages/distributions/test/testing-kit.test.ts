import { describe, expect, it } from "vitest";
import { clamp, createDistribution, DISTRIBUTION_NAMES, type Distribution, lognormal } from "../src/index.js";
import { checkDistribution } from "../src/testing.js";

describe("@hts/distributions/testing: checkDistribution", () => {
  it.each(DISTRIBUTION_NAMES.map((n) => [n]))("passes every built-in distribution, clamped (%s)", (name) => {
    const d = clamp(createDistribution(name, { mean: 0.3, sd: 0.1 }), { min: 1e-3, max: 0.5, mode: "clip" });
    const r = checkDistribution(d, { draws: 20_000 });
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.checks.map((c) => c.name)).toContain("clamp");
  });

  it("positive: false lets a distribution that is not a time step through", () => {
    const r = checkDistribution(createDistribution("normal", { mean: 0.3, sd: 0.5 }), { draws: 20_000, positive: false });
    expect(r.checks.find((c) => c.name === "positive")).toBeUndefined();
    expect(r.ok).toBe(true);
  });

  it("checks the declared mean of an unclamped distribution", () => {
    const r = checkDistribution(lognormal({ mean: 0.3, sd: 0.1 }), { draws: 50_000 });
    expect(r.ok).toBe(true);
    expect(r.checks.find((c) => c.name === "mean")?.ok).toBe(true);
    expect(r.checks.find((c) => c.name === "sd")?.ok).toBe(true);
  });

  const broken: [string, Distribution, string][] = [
    [
      "a sampler that ignores its clamp",
      { name: "leaky", params: {}, clamp: { min: 0.1, max: 0.2, mode: "clip" }, sample: (rng, out) => out.map(() => rng.uniform()) as typeof out, toJSON: () => ({ name: "leaky", params: {} }) },
      "clamp",
    ],
    [
      "a declared mean that is wrong",
      { name: "biased", params: {}, mean: 0.3, sd: 0.1, sample: (rng, out) => out.map(() => 0.35 + 0.1 * (rng.uniform() - 0.5)) as typeof out, toJSON: () => ({ name: "biased", params: {} }) },
      "mean",
    ],
    [
      "a sampler that is not reproducible",
      { name: "clock", params: {}, sample: (_rng, out) => out.map(() => Math.random()) as typeof out, toJSON: () => ({ name: "clock", params: {} }) },
      "reproducible",
    ],
    [
      "a declared sd that is wrong",
      { name: "narrow", params: {}, mean: 0.3, sd: 0.05, sample: (rng, out) => out.map(() => 0.3 + 0.2 * (rng.uniform() - 0.5)) as typeof out, toJSON: () => ({ name: "narrow", params: {} }) },
      "sd",
    ],
    [
      "an unclamped normal that draws negative time steps",
      createDistribution("normal", { mean: 0.3, sd: 0.5 }),
      "positive",
    ],
    [
      "a sampler that returns NaN",
      { name: "nan", params: {}, sample: (_rng, out) => out.map(() => Number.NaN) as typeof out, toJSON: () => ({ name: "nan", params: {} }) },
      "finite",
    ],
  ];
  it.each(broken)("fails %s", (_what, dist, check) => {
    const r = checkDistribution(dist, { draws: 5_000 });
    expect(r.ok).toBe(false);
    expect(r.checks.find((c) => c.name === check)?.ok).toBe(false);
  });
});
