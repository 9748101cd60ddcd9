import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DatasetError } from "../src/index.js";
import { parseIdx, writeIdx } from "../src/node.js";

// A 2 x 2 x 3 unsigned-byte array written out by hand from the IDX description:
// 00 00 | 08 (unsigned byte) | 03 (dimensions) | 00000002 | 00000002 | 00000003 | 12 values.
const VALUES = [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255];
const HAND = Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, ...VALUES]);

function expectDatasetError(fn: () => unknown, code: string, ...fragments: (string | RegExp)[]): DatasetError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(DatasetError);
  const err = caught as DatasetError;
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toMatch(f);
  return err;
}

describe("writeIdx", () => {
  it("writes the layout of the IDX description byte for byte", () => {
    expect(writeIdx(VALUES, [2, 2, 3])).toEqual(HAND);
    expect(writeIdx(Uint8Array.from(VALUES), [2, 2, 3])).toEqual(HAND);
  });

  it("writes big-endian sizes above 255", () => {
    const out = writeIdx(new Uint8Array(300), [300]);
    expect(Array.from(out.subarray(0, 8))).toEqual([0, 0, 8, 1, 0, 0, 1, 44]);
  });

  it("gzip output starts with the gzip signature", () => {
    const gz = writeIdx(VALUES, [2, 2, 3], true);
    expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
  });

  it.each([
    ["dims not integers", VALUES, [2, 2.5, 3], "dims"],
    ["negative dim", VALUES, [-1, 12], "dims"],
    ["length mismatch", VALUES, [2, 2, 2], "array"],
    ["value above 255", [256], [1], "array"],
    ["fractional value", [0.5], [1], "array"],
  ])("rejects %s", (_name, array, dims, parameter) => {
    const err = expectDatasetError(() => writeIdx(array, dims), "HTS_INVALID_ARGUMENT", /writeIdx/);
    expect(err.parameter).toBe(parameter);
  });
});

describe("parseIdx", () => {
  it("reads a hand-written file", () => {
    const { dims, data } = parseIdx(HAND, "hand");
    expect(dims).toEqual([2, 2, 3]);
    expect(Array.from(data)).toEqual(VALUES);
  });

  it("round trips raw and gzip data of several shapes", () => {
    const shapes = [[0], [5], [3, 4], [2, 28, 28], [1, 1, 1, 1]];
    for (const dims of shapes) {
      const n = dims.reduce((a, b) => a * b, 1);
      const values = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) % 256);
      for (const gz of [false, true]) {
        const back = parseIdx(writeIdx(values, dims, gz), "x");
        expect(back.dims).toEqual(dims);
        expect(back.data).toEqual(values);
      }
    }
  });

  it("detects gzip by its signature, not by the name", () => {
    const back = parseIdx(new Uint8Array(gzipSync(HAND)), "no-suffix");
    expect(Array.from(back.data)).toEqual(VALUES);
  });

  it("checks the dimension count when asked", () => {
    expect(parseIdx(HAND, "f", { ndim: 3 }).dims).toEqual([2, 2, 3]);
    const err = expectDatasetError(
      () => parseIdx(HAND, "train-labels-idx1-ubyte", { ndim: 1 }),
      "HTS_DATA_FORMAT",
      "train-labels-idx1-ubyte",
      "3 dimensions, expected 1",
    );
    expect(err.file).toBe("train-labels-idx1-ubyte");
    expect(err.parameter).toBe("ndim");
  });

  const gz = new Uint8Array(gzipSync(HAND));
  /** A copy of HAND with some bytes replaced: `{ offset: value }`. */
  const patch = (changes: Record<number, number>) => {
    const b = HAND.slice();
    for (const [at, v] of Object.entries(changes)) b[Number(at)] = v;
    return b;
  };
  it.each<[string, Uint8Array, (string | RegExp)[]]>([
    ["wrong magic", patch({ 0: 1, 1: 2 }), ["wrong magic number 0x01020803", "expected 0x0000"]],
    ["a PNG file", Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), ["wrong magic number 0x89504e47"]],
    ["float32 type", patch({ 2: 0x0d }), ["0x0d (float32) is not supported", "expected 0x08"]],
    ["an empty file", new Uint8Array(0), ["truncated header: 0 bytes, expected at least 4"]],
    ["a 3-byte file", Uint8Array.from([0, 0, 8]), ["truncated header: 3 bytes"]],
    ["header cut in the sizes", HAND.slice(0, 10), ["truncated header: 10 bytes, expected 16 for 3 dimensions"]],
    ["truncated data", HAND.slice(0, HAND.length - 1), ["truncated data", "has 11 bytes", "declares 12"]],
    ["extra data", Uint8Array.from([...HAND, 7, 7]), ["extra data", "has 14 bytes", "declares 12"]],
    ["size field too large", patch({ 7: 3 }), ["truncated data", "has 12 bytes", "declares 18"]],
    ["gzip cut short", gz.slice(0, gz.length - 10), ["broken gzip"]],
    ["gzip with a damaged body", Uint8Array.from([...gz.slice(0, 12), ...gz.slice(12).map((v) => v ^ 0x5a)]), ["broken gzip"]],
    ["gzip signature only", Uint8Array.from([0x1f, 0x8b]), ["broken gzip"]],
  ])("rejects %s with HTS_DATA_FORMAT naming the file", (_name, bytes, fragments) => {
    const err = expectDatasetError(() => parseIdx(bytes, "/data/t10k-images-idx3-ubyte"), "HTS_DATA_FORMAT", "/data/t10k-images-idx3-ubyte", ...fragments);
    expect(err.file).toBe("/data/t10k-images-idx3-ubyte");
  });

  it("rejects input that is not a Uint8Array", () => {
    expectDatasetError(() => parseIdx([0, 0, 8, 0] as unknown as Uint8Array, "f"), "HTS_INVALID_ARGUMENT", "Uint8Array");
  });
});
