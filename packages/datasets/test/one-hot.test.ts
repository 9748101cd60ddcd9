import { describe, expect, it } from "vitest";
import { DatasetError, oneHot } from "../src/index.js";

describe("oneHot", () => {
  it("sets one column per row", () => {
    expect(Array.from(oneHot(Uint8Array.from([2, 0]), 3))).toEqual([0, 0, 1, 1, 0, 0]);
    expect(oneHot([9]).indexOf(1)).toBe(9);
    expect(oneHot([]).length).toBe(0);
  });

  it.each([
    ["labels[1]", () => oneHot([1, 10])],
    ["labels[0]", () => oneHot([-1])],
    ["classes", () => oneHot([0], 0)],
  ])("rejects %s", (parameter, run) => {
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
