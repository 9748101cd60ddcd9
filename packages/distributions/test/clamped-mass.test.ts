import { describe, expect, it } from "vitest";
import { clamp } from "../src/clamp.js";
import { createDistribution } from "../src/create-distribution.js";
import type { DistributionName } from "../src/names.js";
import { createRng } from "../src/rng.js";
import { sampleLayers } from "../src/sample-layers.js";
import { summarize } from "../src/summarize.js";
import { DT_MAX, DT_MIN, MU, SIGMA } from "./support.js";

const N = 1_000_000;
const TOLERANCE = 0.003; // 0.3 percentage points

/** Masses at [1e-3, 0.5] with mu 0.3, sigma 0.1, as SPEC section 5 gives them (SciPy), in %. */
const SPEC_MASSES: [DistributionName, number, number][] = [
  ["normal", 0.14, 2.3],
  ["uniform", 0, 0],
  ["lognormal", 0, 4.1],
  ["gamma", 0, 3.7],
  ["laplace", 0.7, 3.0],
  ["student-t", 2.9, 7.0],
  ["cauchy", 10.3, 14.8],
  ["exponential", 0.3, 18.9],
];

function clippedSummary(name: DistributionName, seed: number) {
  const d = clamp(createDistribution(name, { mean: MU, sd: SIGMA }));
  const x = d.sample(createRng(seed), new Float64Array(N));
  return { d, s: summarize(x, { min: DT_MIN, max: DT_MAX }) };
}

describe("mass piled up at the bounds by the default clip [1e-3, 0.5], 10^6 draws", () => {
  it.each(SPEC_MASSES.map(([name, low, high], i) => ({ name, seed: 100 + i, low, high })))(
    "$name, seed $seed: $low percent at 1e-3 and $high percent at 0.5 (SPEC section 5)",
    ({ name, seed, low: lowPercent, high: highPercent }) => {
      const { s } = clippedSummary(name, seed);
      expect(Math.abs(s.fractionAtMin - lowPercent / 100)).toBeLessThan(TOLERANCE);
      expect(Math.abs(s.fractionAtMax - highPercent / 100)).toBeLessThan(TOLERANCE);
    },
  );

  it("weibull, seed 120: masses from its CDF 1 - exp(-(x / scale)^k)", () => {
    const { d, s } = clippedSummary("weibull", 120);
    const { shape: k, scale } = d.params as { shape: number; scale: number };
    const below = -Math.expm1(-((DT_MIN / scale) ** k));
    const above = Math.exp(-((DT_MAX / scale) ** k));
    expect(above).toBeGreaterThan(0.01); // the check has something to find
    expect(Math.abs(s.fractionAtMin - below)).toBeLessThan(TOLERANCE);
    expect(Math.abs(s.fractionAtMax - above)).toBeLessThan(TOLERANCE);
  });

  it("pareto, seed 121: masses from its CDF 1 - (x_m / x)^a", () => {
    const { d, s } = clippedSummary("pareto", 121);
    const { shape: a, xm } = d.params as { shape: number; xm: number };
    const below = xm >= DT_MIN ? 0 : 1 - (xm / DT_MIN) ** a;
    const above = (xm / DT_MAX) ** a;
    expect(above).toBeGreaterThan(0.01);
    expect(Math.abs(s.fractionAtMin - below)).toBeLessThan(TOLERANCE);
    expect(Math.abs(s.fractionAtMax - above)).toBeLessThan(TOLERANCE);
  });

  it("lognormal, seed 122: the float32 vectors of sampleLayers count the same clamped values as float64", () => {
    const d = clamp(createDistribution("lognormal", { mean: MU, sd: SIGMA }));
    const wide = d.sample(createRng(122), new Float64Array(300_000));
    const layers = sampleLayers(d, createRng(122), [100_000, 200_000]);
    const s64 = summarize(wide);
    const s32 = [summarize(layers[0]!), summarize(layers[1]!)];
    expect(s32[0]!.atMax + s32[1]!.atMax).toBe(s64.atMax);
    expect(s32[0]!.atMin + s32[1]!.atMin).toBe(s64.atMin);
  });
});
