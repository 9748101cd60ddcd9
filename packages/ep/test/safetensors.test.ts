import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSafetensorsFile, writeSafetensorsFile } from "../src/node.js";
import { CheckpointError, decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from "../src/safetensors.js";

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const concat = (...parts: (Uint8Array | number[])[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
const u64 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24, 0, 0, 0, 0];

/** A file made of a header string (as given, no padding added) and data bytes. */
function file(header: string, data: number[] | Uint8Array = []): Uint8Array {
  const h = new TextEncoder().encode(header);
  return concat(u64(h.length), h, data);
}

function expectFormatError(bytes: Uint8Array, ...fragments: (string | RegExp)[]): CheckpointError {
  let caught: unknown;
  try {
    decodeSafetensors(bytes, "model.safetensors");
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(CheckpointError);
  const err = caught as CheckpointError;
  expect(err.code).toBe("HTS_CHECKPOINT_FORMAT");
  expect(err.file).toBe("model.safetensors");
  expect(err.message).toContain("model.safetensors");
  for (const f of fragments) expect(err.message).toMatch(f);
  return err;
}

describe("encodeSafetensors: layout", () => {
  it("matches the bytes the reference Python bindings produce for a zero 2x2 I32 tensor", () => {
    // safetensors' own test (bindings/python/tests/test_simple.py) saves np.zeros((2, 2),
    // int32) as "test"; current releases pad the 60-byte header with 4 spaces to 64 (0x40).
    const json = '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}';
    expect(json.length).toBe(60);
    const expected = concat([0x40, 0, 0, 0, 0, 0, 0, 0], ascii(`${json}    `), new Array(16).fill(0));
    const out = encodeSafetensors({ test: { dtype: "I32", shape: [2, 2], data: new Int32Array(4) } });
    expect(out).toEqual(expected);
  });

  it("lays out metadata, two tensors and their little-endian bytes as computed by hand", () => {
    const out = encodeSafetensors(
      new Map<string, SafetensorsTensor>([
        ["w", { dtype: "F32", shape: [2], data: Float32Array.of(1, -2) }],
        ["b", { dtype: "U8", shape: [1, 3], data: Uint8Array.of(7, 8, 9) }],
      ]),
      { k: "v" },
    );
    // The header, counted piece by piece (26 + 53 + 55 = 134 characters):
    //   {"__metadata__":{"k":"v"},                       26
    //   "w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},   53
    //   "b":{"dtype":"U8","shape":[1,3],"data_offsets":[8,11]}} 55
    const json =
      '{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[1,3],"data_offsets":[8,11]}}';
    expect(json.length).toBe(134);
    // 134 rounds up to 136 = 0x88: two spaces of padding.
    const expected = concat(
      [0x88, 0, 0, 0, 0, 0, 0, 0],
      ascii(`${json}  `),
      [0x00, 0x00, 0x80, 0x3f], // 1.0f: 0x3F800000
      [0x00, 0x00, 0x00, 0xc0], // -2.0f: 0xC0000000
      [7, 8, 9],
    );
    expect(out).toEqual(expected);
  });

  it("pads every header to a multiple of 8 bytes with spaces", () => {
    for (let len = 1; len <= 24; len++) {
      const name = "x".repeat(len);
      const out = encodeSafetensors({ [name]: { dtype: "U8", shape: [len], data: new Uint8Array(len) } });
      const n = new DataView(out.buffer).getUint32(0, true);
      expect(n % 8).toBe(0);
      const header = new TextDecoder().decode(out.subarray(8, 8 + n));
      expect(header.trimEnd().endsWith("}")).toBe(true);
      expect(header.slice(header.trimEnd().length)).toMatch(/^ {0,7}$/);
      expect(out.length).toBe(8 + n + len);
    }
  });

  it("writes tensors contiguously in insertion order", () => {
    const out = encodeSafetensors(
      new Map<string, SafetensorsTensor>([
        ["z", { dtype: "F64", shape: [1], data: Float64Array.of(1) }],
        ["10", { dtype: "I16", shape: [2], data: Int16Array.of(1, 2) }],
        ["a", { dtype: "U8", shape: [0], data: new Uint8Array(0) }],
        ["m", { dtype: "I32", shape: [], data: Int32Array.of(-1) }],
      ]),
    );
    const { tensors } = decodeSafetensors(out);
    expect([...tensors.keys()]).toEqual(["z", "10", "a", "m"]);
    const n = new DataView(out.buffer).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(out.subarray(8, 8 + n))) as Record<string, { data_offsets: number[] }>;
    expect(header.z!.data_offsets).toEqual([0, 8]);
    expect(header["10"]!.data_offsets).toEqual([8, 12]);
    expect(header.a!.data_offsets).toEqual([12, 12]);
    expect(header.m!.data_offsets).toEqual([12, 16]);
  });
});

describe("round trip", () => {
  it("is bit-exact for every dtype, including -0, subnormals, infinities and NaN payloads", () => {
    const f32 = new Float32Array(8);
    const f32bits = new Uint32Array(f32.buffer);
    f32bits.set([0x80000000, 0x00000001, 0x807fffff, 0x7f800000, 0xff800000, 0x7fc00001, 0x3f800000, 0x00800000]);
    const f64 = Float64Array.of(-0, 5e-324, -2.2250738585072009e-308, Number.MAX_VALUE, Math.PI, Number.NEGATIVE_INFINITY);
    const input: Record<string, SafetensorsTensor> = {
      f64: { dtype: "F64", shape: [2, 3], data: f64 },
      f32: { dtype: "F32", shape: [8], data: f32 },
      f16: { dtype: "F16", shape: [2], data: Uint16Array.of(0x8000, 0x3c00) },
      bf16: { dtype: "BF16", shape: [1], data: Uint16Array.of(0x3f80) },
      i64: { dtype: "I64", shape: [2], data: BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n) },
      i32: { dtype: "I32", shape: [3], data: Int32Array.of(-(2 ** 31), 0, 2 ** 31 - 1) },
      i16: { dtype: "I16", shape: [2], data: Int16Array.of(-32768, 32767) },
      i8: { dtype: "I8", shape: [2], data: Int8Array.of(-128, 127) },
      u64: { dtype: "U64", shape: [1], data: BigUint64Array.of(2n ** 64n - 1n) },
      u32: { dtype: "U32", shape: [1], data: Uint32Array.of(0xffffffff) },
      u16: { dtype: "U16", shape: [1], data: Uint16Array.of(0xffff) },
      u8: { dtype: "U8", shape: [1, 1, 2], data: Uint8Array.of(0, 255) },
      bool: { dtype: "BOOL", shape: [2], data: Uint8Array.of(1, 0) },
      empty: { dtype: "F32", shape: [0, 5], data: new Float32Array(0) },
      scalar: { dtype: "F32", shape: [], data: Float32Array.of(0.1) },
    };
    const { tensors, metadata } = decodeSafetensors(encodeSafetensors(input, { step: "12", note: "é ✓" }));
    expect(metadata).toEqual({ step: "12", note: "é ✓" });
    expect([...tensors.keys()]).toEqual(Object.keys(input));
    for (const [name, t] of Object.entries(input)) {
      const back = tensors.get(name)!;
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      expect(back.data.constructor).toBe(t.data.constructor);
      const a = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      const b = new Uint8Array(back.data.buffer, back.data.byteOffset, back.data.byteLength);
      expect(b).toEqual(a);
    }
    expect(Object.is(tensors.get("f64")!.data[0], -0)).toBe(true);
    expect(new Uint32Array((tensors.get("f32")!.data as Float32Array).buffer)[5]).toBe(0x7fc00001);
  });

  it("reads unpadded headers and unaligned offsets by copying", () => {
    // A 1-byte U8 tensor first puts the F32 tensor at an odd offset; the header is unpadded.
    const header = '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}';
    expect((8 + header.length + 1) % 4).not.toBe(0);
    const bytes = file(header, [42, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc1]);
    const { tensors } = decodeSafetensors(bytes);
    expect(Array.from(tensors.get("a")!.data as Uint8Array)).toEqual([42]);
    const b = tensors.get("b")!.data;
    expect(b).toBeInstanceOf(Float32Array);
    expect(Array.from(b as Float32Array)).toEqual([1, -10]);
    // A copy: changing the input does not change the result.
    bytes[bytes.length - 1] = 0;
    expect((b as Float32Array)[1]).toBe(-10);
  });

  it("decodes a subarray that starts at an odd offset of a larger buffer", () => {
    const inner = encodeSafetensors({ w: { dtype: "F64", shape: [1], data: Float64Array.of(2.5) } });
    const outer = new Uint8Array(inner.length + 3);
    outer.set(inner, 3);
    expect(Array.from(decodeSafetensors(outer.subarray(3)).tensors.get("w")!.data as Float64Array)).toEqual([2.5]);
  });

  it("reads the reference bindings' unpadded zero 2x2 I32 example", () => {
    const bytes = file('{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}', new Array(16).fill(0));
    expect(bytes[0]).toBe(0x3c);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({});
    expect(tensors.get("test")).toEqual({ dtype: "I32", shape: [2, 2], data: new Int32Array(4) });
  });
});

describe("decodeSafetensors: corrupt files", () => {
  const ok = (extra = "") => `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}${extra}}`;
  const data8 = new Array(8).fill(0);
  const tooLong = concat(u64(200), ascii("{}"));
  const hugeHeader = concat([0, 0xe2, 0xf5, 0x05, 0, 0, 0, 0], ascii("{}")); // 0x05F5E200 = 100,000,256
  const highWord = concat([0, 0, 0, 0, 1, 0, 0, 0], ascii("{}"));

  it.each<[string, Uint8Array, (string | RegExp)[], string?]>([
    ["an empty file", new Uint8Array(0), ["0 bytes, shorter than the 8-byte header length"]],
    ["7 bytes", new Uint8Array(7), ["7 bytes, shorter than the 8-byte header length"]],
    ["a header length past the end", tooLong, ["header length 200 exceeds the file (10 bytes"]],
    ["a header of exactly 100 MB in a short file", concat([0, 0xe1, 0xf5, 0x05, 0, 0, 0, 0], ascii("{}")), ["header length 100000000 exceeds the file"]],
    ["a header above 100 MB", hugeHeader, ["not a safetensors file: its first 8 bytes give a header length of 100000256, above the limit of 100000000"]],
    ["a header length above 2^32", highWord, [/header length of 4294967296, above the limit/]],
    ["invalid UTF-8", concat(u64(4), [0x7b, 0xff, 0xfe, 0x7d]), ["not valid UTF-8"]],
    ["invalid JSON", file('{"a":', []), ["not valid JSON"]],
    ["a JSON array", file("[]"), ["not a JSON object but an array"]],
    ["JSON null", file("null"), ["not a JSON object but null"]],
    ["a JSON string", file('"x"'), ["not a JSON object but string"]],
    ["metadata that is an array", file('{"__metadata__":[]}'), ['"__metadata__" must be an object of strings']],
    ["metadata with a number", file('{"__metadata__":{"epoch":3}}'), ['"epoch" holds 3']],
    ["metadata with a nested object", file('{"__metadata__":{"x":{}}}'), ['"x" holds {}']],
    ["an entry that is not an object", file('{"a":[1]}'), ['tensor "a": entry must be an object'], "a"],
    ["an unknown field", file('{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0],"offset":1}}'), ['unknown field "offset"'], "a"],
    ["an unknown dtype", file('{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}', [0]), ['unknown dtype "F8_E4M3"'], "a"],
    ["a missing dtype", file('{"a":{"shape":[1],"data_offsets":[0,1]}}', [0]), ["unknown dtype undefined"], "a"],
    ["a lower-case dtype", file('{"a":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}}', data8), ['unknown dtype "f32"'], "a"],
    ["a negative dimension", file('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}'), ["shape must be an array of non-negative integers, got [-1]"], "a"],
    ["a fractional dimension", file('{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,0]}}'), ["got [1.5]"], "a"],
    ["a shape that is a number", file('{"a":{"dtype":"U8","shape":4,"data_offsets":[0,4]}}', [0, 0, 0, 0]), ["got 4"], "a"],
    ["a dimension as a string", file('{"a":{"dtype":"U8","shape":["4"],"data_offsets":[0,4]}}', [0, 0, 0, 0]), ['got ["4"]'], "a"],
    ["three offsets", file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,1]}}', [0]), ["data_offsets must be two non-negative integers"], "a"],
    ["a missing offset pair", file('{"a":{"dtype":"U8","shape":[1]}}', [0]), ["data_offsets must be two"], "a"],
    ["fractional offsets", file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,0.5]}}', [0]), ["data_offsets must be two"], "a"],
    ["begin after end", file('{"a":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}}', [0]), ["[1, 0] has begin after end"], "a"],
    ["offsets past the data", file(ok(), [0, 0, 0, 0]), ["[0, 8] runs past the data section (4 bytes)"], "a"],
    ["offsets not matching the shape", file('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', data8), ["span 8 bytes, but shape [3] of F32 needs 12"], "a"],
    [
      "overlapping tensors",
      file('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}', [0, 0, 0, 0, 0, 0]),
      ['"a" [0, 4) and "b" [2, 6) overlap'],
      "b",
    ],
    [
      "two tensors on the same bytes",
      file('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"I16","shape":[1],"data_offsets":[0,2]}}', [0, 0]),
      ["overlap"],
    ],
    [
      "a gap between tensors",
      file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}', [0, 0, 0]),
      ["bytes [1, 2) of the data section belong to no tensor"],
    ],
    ["unused bytes at the start", file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', [0, 0]), ["bytes [0, 1)"]],
    ["unused bytes at the end", file(ok(), [...data8, 0, 0]), ["bytes [8, 10) at the end of the data section belong to no tensor"]],
    ["data but no tensors", file("{}", [1]), ["bytes [0, 1) at the end"]],
    ["a duplicated tensor name", file(`{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, data8), ['duplicate name "a"'], "a"],
    ["a duplicate spelled with an escape", file(ok(',"\\u0061":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}'), data8), ['duplicate name "a"'], "a"],
    ["a duplicated __metadata__", file(`{"__metadata__":{},"__metadata__":{"x":"y"}}`), ['duplicate name "__metadata__"']],
    ["a duplicated field in an entry", file('{"a":{"dtype":"F64","dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data8), ['duplicate key "dtype" inside "a"'], "a"],
    ["a duplicated metadata key", file('{"__metadata__":{"k":"1","k":"2"}}'), ['duplicate key "k" inside "__metadata__"']],
  ])("rejects %s", (_name, bytes, fragments, tensor) => {
    const err = expectFormatError(bytes, ...fragments);
    if (tensor !== undefined) expect(err.tensor).toBe(tensor);
  });

  it("accepts what those cases were changed from", () => {
    expect(decodeSafetensors(file(ok(), data8)).tensors.get("a")!.shape).toEqual([2]);
    expect(decodeSafetensors(file('{"__metadata__":{"k":"1"}}')).metadata).toEqual({ k: "1" });
    // Keys that only look alike inside string values are not duplicates.
    const tricky = file('{"__metadata__":{"a":"\\"a\\":","b":"{\\"a\\":1,\\"a\\":2}"},"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}');
    expect(decodeSafetensors(tricky).metadata).toEqual({ a: '"a":', b: '{"a":1,"a":2}' });
  });

  it("keeps a metadata key named __proto__ as data", () => {
    const { metadata } = decodeSafetensors(file('{"__metadata__":{"__proto__":"x"}}'));
    expect(Object.keys(metadata)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
  });

  it("names the default file <buffer>", () => {
    expect(() => decodeSafetensors(new Uint8Array(3))).toThrow(/<buffer>/);
  });
});

describe("encodeSafetensors: bad arguments", () => {
  it.each<[string, () => unknown, string]>([
    ["an unknown dtype", () => encodeSafetensors({ a: { dtype: "F8", shape: [1], data: new Uint8Array(1) } as unknown as SafetensorsTensor }), "dtype"],
    ["a wrong array type", () => encodeSafetensors({ a: { dtype: "F32", shape: [1], data: new Float64Array(1) } as unknown as SafetensorsTensor }), "data"],
    ["a length not matching the shape", () => encodeSafetensors({ a: { dtype: "F32", shape: [2, 2], data: new Float32Array(3) } }), "data"],
    ["a negative dimension", () => encodeSafetensors({ a: { dtype: "U8", shape: [-1], data: new Uint8Array(0) } }), "shape"],
    ["the reserved name", () => encodeSafetensors({ __metadata__: { dtype: "U8", shape: [0], data: new Uint8Array(0) } }), "name"],
    ["a lone surrogate in a name", () => encodeSafetensors({ "\ud800": { dtype: "U8", shape: [0], data: new Uint8Array(0) } }), "name"],
    ["non-string metadata", () => encodeSafetensors({}, { epoch: 3 } as unknown as Record<string, string>), "metadata"],
    ["tensors that are not an object", () => encodeSafetensors(null as unknown as Record<string, SafetensorsTensor>), "tensors"],
  ])("rejects %s", (_name, run, parameter) => {
    try {
      run();
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CheckpointError);
      expect((e as CheckpointError).code).toBe("HTS_INVALID_ARGUMENT");
      expect((e as CheckpointError).parameter).toBe(parameter);
      expect((e as CheckpointError).message).toMatch(/^encodeSafetensors: /);
    }
  });
});

describe("files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hts-safetensors-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes, reads back, and leaves no temporary file", async () => {
    const path = join(dir, "a.safetensors");
    const w = Float32Array.from({ length: 784 * 3 }, (_, i) => Math.fround(Math.sin(i)));
    await writeSafetensorsFile(path, { w: { dtype: "F32", shape: [784, 3], data: w } }, { epoch: "1" });
    const back = await readSafetensorsFile(path);
    expect(back.metadata).toEqual({ epoch: "1" });
    expect(back.tensors.get("w")!.data).toEqual(w);
    expect(await readdir(dir)).toEqual(["a.safetensors"]);
  });

  it("replaces an existing file", async () => {
    const path = join(dir, "b.safetensors");
    await writeFile(path, "old content");
    await writeSafetensorsFile(path, { x: { dtype: "U8", shape: [1], data: Uint8Array.of(5) } });
    expect(Array.from((await readSafetensorsFile(path)).tensors.get("x")!.data as Uint8Array)).toEqual([5]);
    expect((await readdir(dir)).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("leaves the old file untouched when the folder is missing", async () => {
    const path = join(dir, "missing", "c.safetensors");
    await expect(writeSafetensorsFile(path, { x: { dtype: "U8", shape: [1], data: Uint8Array.of(1) } })).rejects.toMatchObject({
      code: "ENOENT",
    });
    expect((await readdir(dir)).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("does not touch the old file when the target cannot be replaced", async () => {
    // Renaming a file over a non-empty folder fails after the temporary file was written.
    const target = join(dir, "d.safetensors");
    await mkdir(target);
    await writeFile(join(target, "keep"), "keep me");
    await expect(writeSafetensorsFile(target, { x: { dtype: "U8", shape: [1], data: Uint8Array.of(1) } })).rejects.toThrow();
    expect(await readFile(join(target, "keep"), "utf8")).toBe("keep me");
    expect((await readdir(dir)).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("does not create or change anything when the tensors are invalid", async () => {
    const path = join(dir, "e.safetensors");
    await writeFile(path, "previous");
    await expect(
      writeSafetensorsFile(path, { x: { dtype: "F32", shape: [2], data: new Float32Array(1) } }),
    ).rejects.toBeInstanceOf(CheckpointError);
    expect(await readFile(path, "utf8")).toBe("previous");
    expect((await readdir(dir)).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("names the path in read errors", async () => {
    const path = join(dir, "f.safetensors");
    await writeFile(path, "short");
    await expect(readSafetensorsFile(path)).rejects.toMatchObject({
      code: "HTS_CHECKPOINT_FORMAT",
      file: path,
      message: expect.stringContaining(`readSafetensorsFile: ${path}: file is 5 bytes`),
    });
  });
});
