import { describe, expect, it } from "vitest";
import { summarize } from "../src/summarize.js";

describe("summarize", () => {
  it("counts, moments and range of a small vector, with values at and beyond the bounds as clamped", () => {
    const values = [0.001, 0.0005, 0.2, 0.3, 0.5, 0.7];
    const s = summarize(values, { min: 0.001, max: 0.5 });
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    expect(s.count).toBe(6);
    expect(s.mean).toBeCloseTo(mean, 15);
    expect(s.sd).toBeCloseTo(Math.sqrt(variance), 15);
    expect(s.min).toBe(0.0005);
    expect(s.max).toBe(0.7);
    expect(s.atMin).toBe(2);
    expect(s.atMax).toBe(2);
    expect(s.fractionAtMin).toBeCloseTo(2 / 6, 15);
    expect(s.fractionAtMax).toBeCloseTo(2 / 6, 15);
  });

  it("defaults to the bounds [1e-3, 0.5]", () => {
    const s = summarize(Float64Array.of(1e-3, 0.25, 0.5));
    expect([s.atMin, s.atMax]).toEqual([1, 1]);
  });

  it("in a Float32Array, counts the float32 images of the bounds as at the bounds", () => {
    // float32 cannot hold 1e-3 or 0.3 exactly: Math.fround(1e-3) > 1e-3, and the largest
    // float32 <= 0.3 is Math.fround(0.3) - 2^-25
    const atLow = Math.fround(1e-3);
    const atHigh = Math.fround(0.3) - 2 ** -25;
    const s = summarize(Float32Array.of(atLow, 0.2, atHigh, atHigh), { min: 1e-3, max: 0.3 });
    expect([s.atMin, s.atMax]).toEqual([1, 2]);
    // the same numbers in a float64 vector are inside the bounds
    const t = summarize(Float64Array.of(atLow, 0.2, atHigh, atHigh), { min: 1e-3, max: 0.3 });
    expect([t.atMin, t.atMax]).toEqual([0, 0]);
  });
});
