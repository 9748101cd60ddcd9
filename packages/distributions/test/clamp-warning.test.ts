import { describe, expect, it } from "vitest";
import { clamp, clampWarning, createDistribution, lognormal } from "../src/index.js";

describe("clampWarning", () => {
  it("warns when the clip piles most draws at a bound, naming the share, the bound and the cure", () => {
    const w = clampWarning(clamp(lognormal({ mean: 2, sd: 0.1 }), { min: 1e-3, max: 0.5 }));
    expect(w).toMatch(/^100\.0 % of the dt drawn from lognormal \(mean 2, sd 0\.1\) are clipped to the upper bound 0\.5 of \[0\.001, 0\.5\]/);
    expect(w).toMatch(/clamp with resample$/);
    const low = clampWarning(clamp(createDistribution("normal", { mean: -1, sd: 0.5 }), { min: 1e-3, max: 0.5 }));
    expect(low).toMatch(/clipped to the lower bound 0\.001/);
  });

  it("is quiet for the paper's setting, a resampling clamp and an unclamped distribution", () => {
    expect(clampWarning(clamp(lognormal({ mean: 0.3, sd: 0.1 }), { min: 1e-3, max: 0.5 }))).toBeNull();
    expect(clampWarning(clamp(lognormal({ mean: 2, sd: 0.1 }), { min: 1e-3, max: 2.05, mode: "resample" }))).toBeNull();
    expect(clampWarning(lognormal({ mean: 2, sd: 0.1 }))).toBeNull();
  });

  it("follows its threshold: about 31 % of normal(0.5, 0.2) is at 0.6", () => {
    const d = clamp(createDistribution("normal", { mean: 0.5, sd: 0.2 }), { min: 1e-3, max: 0.6 });
    expect(clampWarning(d)).toBeNull();
    expect(clampWarning(d, { threshold: 0.25 })).toMatch(/^3[01]\.\d % .* upper bound 0\.6/);
  });
});
