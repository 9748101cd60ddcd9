import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DatasetError, mulberry32, seededPermutation } from "../src/index.js";

// Expected values printed by scripts/reference-shuffle.py, an independent implementation of
// the documented algorithm with Python's unbounded integers.
describe("mulberry32", () => {
  it.each([
    [0, [1144304738, 1416247, 958946056, 627933444, 2007157716]],
    [1, [2693262067, 11749833, 2265367787, 4213581821, 4159151403]],
    [42, [2581720956, 1925393290, 3661312704, 2876485805, 750819978]],
    [4294967295, [3850105811, 813802916, 3073704848, 4054706436, 3630262831]],
  ])("seed %i gives the reference sequence", (seed, expected) => {
    const next = mulberry32(seed);
    expect(expected.map(() => next())).toEqual(expected);
  });
});

describe("seededPermutation", () => {
  it("matches the reference script", () => {
    expect(Array.from(seededPermutation(10, 0))).toEqual([4, 1, 2, 3, 6, 9, 5, 0, 7, 8]);
    expect(Array.from(seededPermutation(10, 7))).toEqual([0, 4, 8, 1, 7, 3, 5, 6, 9, 2]);
    const p0 = seededPermutation(10000, 0);
    expect(Array.from(p0.subarray(0, 8))).toEqual([6653, 6152, 5352, 1515, 4354, 4217, 9028, 7760]);
    expect(Array.from(p0.subarray(-4))).toEqual([1880, 7882, 6388, 4738]);
    const p1 = seededPermutation(10000, 1);
    expect(Array.from(p1.subarray(0, 8))).toEqual([9488, 3668, 6439, 9363, 2311, 3526, 7910, 5827]);
    expect(Array.from(p1.subarray(-4))).toEqual([6273, 951, 1008, 2067]);
  });

  it("is a permutation, and the same for the same seed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffffffff }), (n, seed) => {
        const p = seededPermutation(n, seed);
        expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(seededPermutation(n, seed)).toEqual(p);
      }),
      { seed: 1, numRuns: 200 },
    );
  });

  it("puts each element at each position about equally often", () => {
    // 4 elements, 24000 seeds: each position count is Binomial(24000, 1/4), sd about 67.
    const counts = Array.from({ length: 4 }, () => new Array<number>(4).fill(0));
    for (let seed = 0; seed < 24000; seed++) {
      const p = seededPermutation(4, seed);
      for (let pos = 0; pos < 4; pos++) counts[pos]![p[pos]!]! += 1;
    }
    for (const row of counts) for (const c of row) expect(Math.abs(c - 6000)).toBeLessThan(400);
  });

  it.each([
    ["n", () => seededPermutation(-1, 0)],
    ["n", () => seededPermutation(2.5, 0)],
    ["seed", () => seededPermutation(3, -1)],
    ["seed", () => seededPermutation(3, 2 ** 32)],
    ["seed", () => mulberry32(0.5)],
  ])("rejects a bad %s", (parameter, run) => {
    try {
      run();
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DatasetError);
      expect((e as DatasetError).code).toBe("HTS_INVALID_ARGUMENT");
      expect((e as DatasetError).parameter).toBe(parameter);
    }
  });
});
