import { describe, expect, it } from "vitest";
import { applyInputTransform, checkInputTransform, type Dataset, fitInputTransform, holdOut } from "../src/index.js";

function data(values: number[][]): Dataset {
  const dim = (values[0] as number[]).length;
  return {
    images: Float32Array.from(values.flat()),
    labels: Uint8Array.from(values.map((_, i) => i % 10)),
    indices: Uint32Array.from(values.map((_, i) => 100 + i)),
    count: values.length,
    dim,
    rows: 1,
    cols: dim,
    classes: 10,
  };
}

describe("input transforms", () => {
  const d = data([
    [0, 1, 0.5],
    [0, 0, 0.5],
    [0, 1, 0.5],
    [0, 0, 0.5],
  ]);

  it("standardize: one mean and sd over every training pixel", () => {
    const t = fitInputTransform(d, "standardize");
    const all = Array.from(d.images);
    const m = all.reduce((a, v) => a + v, 0) / all.length;
    const s = Math.sqrt(all.reduce((a, v) => a + (v - m) ** 2, 0) / all.length);
    expect(t.mean[0]).toBeCloseTo(m, 12);
    expect(t.sd[0]).toBeCloseTo(s, 12);
    const out = applyInputTransform(d, t);
    const z = Array.from(out.images);
    expect(z.reduce((a, v) => a + v, 0) / z.length).toBeCloseTo(0, 6);
    expect(Math.sqrt(z.reduce((a, v) => a + v * v, 0) / z.length)).toBeCloseTo(1, 6);
    expect(out.labels).toBe(d.labels);
  });

  it("inverted data standardize to the negated standardized data (x -> 1 - x)", () => {
    const inv = data(Array.from({ length: 4 }, (_, i) => Array.from(d.images.subarray(i * 3, i * 3 + 3), (v) => 1 - v)));
    const a = applyInputTransform(d, fitInputTransform(d, "standardize")).images;
    const b = applyInputTransform(inv, fitInputTransform(inv, "standardize")).images;
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(-(a[i] as number), 5);
  });

  it("standardize-feature: per pixel, constant pixels map to 0 with a floored sd", () => {
    const t = fitInputTransform(d, "standardize-feature");
    expect(t.mean).toEqual([0, 0.5, 0.5]);
    expect(t.sd[1]).toBeCloseTo(0.5, 12);
    expect(t.sd[0]).toBeGreaterThan(0);
    const out = applyInputTransform(d, t);
    expect(Array.from(out.images.subarray(0, 3))).toEqual([0, 1, 0]);
  });

  it("standardize with sd 0.35: mean 0 and standard deviation 0.35", () => {
    const z = Array.from(applyInputTransform(d, fitInputTransform(d, "standardize", { sd: 0.35 })).images);
    expect(z.reduce((a, v) => a + v, 0) / z.length).toBeCloseTo(0, 6);
    expect(Math.sqrt(z.reduce((a, v) => a + v * v, 0) / z.length)).toBeCloseTo(0.35, 6);
  });

  it("raw leaves the data as it is", () => {
    expect(applyInputTransform(d, fitInputTransform(d, "raw"))).toBe(d);
  });

  it("refuses a transform that does not fit the data, naming the field", () => {
    expect(() => checkInputTransform({ mode: "standardize-feature", mean: [0], sd: [1], scale: 1 }, 3)).toThrow(/mean must be 3 finite numbers, got "1 values"/);
    expect(() => checkInputTransform({ mode: "centre", mean: [], sd: [], scale: 1 }, 3)).toThrow(/mode must be raw \| standardize \| standardize-feature/);
    expect(() => checkInputTransform({ mode: "standardize", mean: [0], sd: [0], scale: 1 }, 3)).toThrow(/sd must be numbers > 0/);
    expect(() => checkInputTransform({ mode: "standardize", mean: [0], sd: [1] }, 3)).toThrow(/scale must be a finite number > 0/);
    expect(() => fitInputTransform(d, "standardize", { sd: -1 })).toThrow(/sd must be a finite number > 0, got -1/);
  });
});

describe("holdOut", () => {
  const d = data(Array.from({ length: 50 }, (_, i) => [i, i + 0.5]));

  it("splits off a seeded validation set, disjoint from the rest, which keeps its order", () => {
    const { train, validation } = holdOut(d, 10, 3);
    expect(validation.count).toBe(10);
    expect(train.count).toBe(40);
    const trainIdx = Array.from(train.indices);
    expect(trainIdx).toEqual([...trainIdx].sort((a, b) => a - b));
    const seen = new Set([...trainIdx, ...validation.indices]);
    expect(seen.size).toBe(50);
    for (let k = 0; k < validation.count; k++) {
      const src = (validation.indices[k] as number) - 100;
      expect(validation.images[2 * k]).toBe(src);
      expect(validation.labels[k]).toBe(src % 10);
    }
    expect(Array.from(holdOut(d, 10, 3).validation.indices)).toEqual(Array.from(validation.indices));
    expect(Array.from(holdOut(d, 10, 4).validation.indices)).not.toEqual(Array.from(validation.indices));
  });

  it("refuses a count that leaves nothing to train on", () => {
    expect(() => holdOut(d, 50, 0)).toThrow(/count must be an integer in \[1, 49\], got 50/);
  });
});
