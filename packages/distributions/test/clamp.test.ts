import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clamp, RESAMPLE_MAX_TRIES } from "../src/clamp.js";
import { constant } from "../src/constant.js";
import { createDistribution } from "../src/create-distribution.js";
import type { Distribution, DistributionJSON } from "../src/distribution.js";
import { DistributionError } from "../src/errors.js";
import { lognormal } from "../src/lognormal.js";
import { DISTRIBUTION_NAMES } from "../src/names.js";
import { normal } from "../src/normal.js";
import { createRng } from "../src/rng.js";
import { catchDistributionError, MU, SIGMA } from "./support.js";

const PROPERTY_SEED = 20_250_601;

describe("clamp bounds hold (property)", () => {
  it(`every value lies in [min, max], float32 and float64, clip and resample (fast-check seed ${PROPERTY_SEED})`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.constantFrom(...DISTRIBUTION_NAMES),
        fc.double({ min: 0.01, max: 2, noNaN: true }),
        fc.double({ min: 0.01, max: 3, noNaN: true }),
        fc.double({ min: 1e-4, max: 0.3, noNaN: true }),
        fc.double({ min: 1e-6, max: 1, noNaN: true }),
        fc.constantFrom("clip" as const, "resample" as const),
        fc.boolean(),
        fc.integer({ min: 0, max: 64 }),
        (seed, name, mean, cv, min, width, mode, single, n) => {
          const max = min + width;
          const d = clamp(createDistribution(name, { mean, sd: cv * mean }), { min, max, mode });
          const out = single ? new Float32Array(n) : new Float64Array(n);
          try {
            d.sample(createRng(seed), out);
          } catch (error) {
            // a truncated distribution can have (almost) no mass inside: that is reported
            if (mode === "resample" && error instanceof DistributionError && error.code === "HTS_SAMPLING_FAILED") {
              return;
            }
            throw error;
          }
          for (const v of out) {
            expect(v).toBeGreaterThanOrEqual(min);
            expect(v).toBeLessThanOrEqual(max);
          }
        },
      ),
      { seed: PROPERTY_SEED, numRuns: 400 },
    );
  });

  it(`clip changes only the values outside the bounds (fast-check seed ${PROPERTY_SEED + 1})`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.constantFrom(...DISTRIBUTION_NAMES),
        fc.double({ min: 1e-4, max: 0.3, noNaN: true }),
        fc.double({ min: 1e-3, max: 1, noNaN: true }),
        (seed, name, min, width) => {
          const max = min + width;
          const inner = createDistribution(name, { mean: MU, sd: SIGMA });
          const raw = inner.sample(createRng(seed), new Float64Array(50));
          const clipped = clamp(inner, { min, max }).sample(createRng(seed), new Float64Array(50));
          raw.forEach((v, i) => {
            expect(clipped[i]).toBe(Math.min(Math.max(v, min), max));
          });
        },
      ),
      { seed: PROPERTY_SEED + 1, numRuns: 200 },
    );
  });
});

describe("clamp", () => {
  it("resample is rejection sampling, one value at a time in order (seed 31)", () => {
    const inner = lognormal({ mean: MU, sd: SIGMA });
    const min = 0.25;
    const max = 0.35;
    const got = clamp(inner, { min, max, mode: "resample" }).sample(createRng(31), new Float64Array(500));
    const rng = createRng(31);
    const one = new Float64Array(1);
    const expected = new Float64Array(500);
    for (let i = 0; i < expected.length; i++) {
      do inner.sample(rng, one);
      while (!(one[0]! >= min && one[0]! <= max));
      expected[i] = one[0]!;
    }
    expect(got).toEqual(expected);
  });

  it(`resample gives up after ${RESAMPLE_MAX_TRIES} draws of one value with HTS_SAMPLING_FAILED`, () => {
    let calls = 0;
    const counting: Distribution = {
      name: "far-away",
      params: {},
      sample(_rng, out) {
        calls++;
        out.fill(7);
        return out;
      },
      toJSON: (): DistributionJSON => ({ name: "far-away", params: {} }),
    };
    const err = catchDistributionError(() =>
      clamp(counting, { mode: "resample" }).sample(createRng(1), new Float64Array(3)),
    );
    expect(err.code).toBe("HTS_SAMPLING_FAILED");
    expect(err.message).toContain("far-away");
    expect(err.message).toContain("[0.001, 0.5]");
    expect(calls).toBe(RESAMPLE_MAX_TRIES);
    const err2 = catchDistributionError(() =>
      clamp(constant({ mean: 0.7 }), { mode: "resample" }).sample(createRng(1), new Float64Array(1)),
    );
    expect(err2.code).toBe("HTS_SAMPLING_FAILED");
    expect(err2.message).toContain("constant");
  });

  it("a NaN from the inner distribution is reported, not clipped", () => {
    const broken: Distribution = {
      name: "broken",
      params: {},
      sample(_rng, out) {
        out.fill(Number.NaN);
        return out;
      },
      toJSON: () => ({ name: "broken", params: {} }),
    };
    for (const mode of ["clip", "resample"] as const) {
      const err = catchDistributionError(() => clamp(broken, { mode }).sample(createRng(1), new Float64Array(2)));
      expect(err.code).toBe("HTS_SAMPLING_FAILED");
      expect(err.message).toContain("NaN");
    }
  });

  it("keeps name and params, records the bounds, drops the analytic moments, refuses to clamp twice", () => {
    const inner = normal({ mean: MU, sd: SIGMA });
    const d = clamp(inner);
    expect(d.name).toBe("normal");
    expect(d.params).toEqual(inner.params);
    expect(d.clamp).toEqual({ min: 1e-3, max: 0.5, mode: "clip" });
    expect(d.toJSON()).toEqual({ name: "normal", params: { mean: MU, sd: SIGMA }, clamp: { min: 1e-3, max: 0.5, mode: "clip" } });
    expect(d.mean).toBeUndefined();
    expect(d.sd).toBeUndefined();
    const err = catchDistributionError(() => clamp(d, { max: 0.4 }));
    expect(err.code).toBe("HTS_INVALID_ARGUMENT");
    expect(err.parameter).toBe("dist");
  });

  it("float32 output stays inside bounds that float32 cannot represent (seed 33)", () => {
    const min = 0.1; // Math.fround(0.1) > 0.1
    const max = 0.3; // Math.fround(0.3) > 0.3
    expect(Math.fround(max)).toBeGreaterThan(max);
    const d = clamp(normal({ mean: 0.2, sd: 0.2 }), { min, max });
    const x = d.sample(createRng(33), new Float32Array(10_000));
    const largestBelowMax = Math.fround(max) - 2 ** -25; // float32 spacing in [0.25, 0.5) is 2^-25
    let atMax = 0;
    for (const v of x) {
      expect(v).toBeGreaterThanOrEqual(min);
      expect(v).toBeLessThanOrEqual(max);
      if (v === largestBelowMax) atMax++;
    }
    expect(atMax).toBeGreaterThan(1000); // about 31% of N(0.2, 0.2) is above 0.3
  });
});
