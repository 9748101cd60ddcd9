import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DatasetError } from "../src/index.js";
import { parseIdx, writeIdx } from "../src/node.js";

/** Property tests of the IDX parser: any bytes either parse or fail with a DatasetError, never anything else. */
describe("IDX parser fuzz", () => {
  it("arbitrary bytes: a result or a DatasetError (4,000 inputs, seed 1)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const r = parseIdx(bytes, "fuzz.idx");
          expect(r.data.length).toBe(r.dims.reduce((a, b) => a * b, 1));
        } catch (e) {
          expect(e).toBeInstanceOf(DatasetError);
        }
      }),
      { numRuns: 4000, seed: 1 },
    );
  });

  it("valid files with one byte changed or the end cut: a result or a DatasetError (3,000 inputs, seed 2)", () => {
    const valid = fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.boolean())
      .chain(([n, r, c, gz]) =>
        fc.tuple(fc.uint8Array({ minLength: n * r * c, maxLength: n * r * c }), fc.constant([n, r, c]), fc.constant(gz)),
      );
    fc.assert(
      fc.property(valid, fc.nat(), fc.nat({ max: 255 }), fc.nat(), ([data, dims, gz], pos, value, cut) => {
        const file = writeIdx(data, dims, gz);
        // Unchanged files round-trip exactly.
        expect(Array.from(parseIdx(file, "ok.idx").data)).toEqual(Array.from(data));
        const mutated = file.slice();
        mutated[pos % mutated.length] = value;
        const truncated = file.subarray(0, cut % file.length);
        for (const bytes of [mutated, truncated]) {
          try {
            parseIdx(bytes, "fuzz.idx");
          } catch (e) {
            expect(e).toBeInstanceOf(DatasetError);
            expect((e as DatasetError).message).toMatch(/fuzz\.idx/);
          }
        }
      }),
      { numRuns: 3000, seed: 2 },
    );
  });
});
