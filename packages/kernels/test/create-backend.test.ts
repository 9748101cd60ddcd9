import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import type { Backend, BackendPreference, KernelErrorCode } from "../src/index.js";
import {
  BACKEND_PREFERENCES,
  createBackend,
  createCpuBackend,
  createGpuBackend,
  createReferenceBackend,
  createWasmBackend,
  fromNdarray,
  KernelError,
  toNdarray,
  wasmUnavailableReason,
} from "../src/node.js";
import * as root from "../src/index.js";

/**
 * `auto` picks gpu-webgl where a hardware GPU context can be made (never a software
 * renderer), else wasm-f32 where WebAssembly SIMD runs (Node >= 16.4), else cpu-f32.
 */
const wasmHere = wasmUnavailableReason() === null;
const gpuHere = await createGpuBackend({ allowSoftwareRenderer: false }).then(
  async (b) => {
    await b.destroy();
    return true;
  },
  () => false,
);
const autoName = gpuHere ? "gpu-webgl" : wasmHere ? "wasm-f32" : "cpu-f32";

describe("the platform-neutral root entry in Node", () => {
  it("createGpuBackend without a loadGpu says to use @hts/kernels/node", async () => {
    const e = await root.createGpuBackend().then(
      () => null,
      (error: unknown) => error,
    );
    expect(e).toBeInstanceOf(KernelError);
    expect((e as KernelError).code).toBe("HTS_BACKEND_UNAVAILABLE");
    expect((e as KernelError).message).toContain("@hts/kernels/node");
  });

  it("createBackend auto skips the gpu, saying why, and picks the next backend", async () => {
    const { backend, reason } = await root.createBackend();
    expect(backend.name).toBe(wasmHere ? "wasm-f32" : "cpu-f32");
    expect(reason).toContain("gpu: in Node the GPU runs through headless-gl");
  });

  it("createWasmBackend with workers > 1 and no threadPool is HTS_BACKEND_UNAVAILABLE naming workers", async () => {
    if (!wasmHere) return;
    const e = await root.createWasmBackend({ workers: 2 }).then(
      () => null,
      (error: unknown) => error,
    );
    expect((e as KernelError).code).toBe("HTS_BACKEND_UNAVAILABLE");
    expect((e as KernelError).parameter).toBe("workers");
  });
});

/** Runs `fn` and returns what it threw (failing the test if it threw nothing). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  expect.fail("expected a throw");
}

describe("createBackend", () => {
  it.each<{ prefer: BackendPreference; name: string; precision: string }>([
    { prefer: "auto", name: autoName, precision: "float32" },
    ...(wasmHere ? [{ prefer: "wasm" as const, name: "wasm-f32", precision: "float32" }] : []),
    { prefer: "cpu", name: "cpu-f32", precision: "float32" },
    { prefer: "reference", name: "reference-f64", precision: "float64" },
  ])("prefer=$prefer picks $name and says why", async ({ prefer, name, precision }) => {
    const choice = await createBackend({ prefer });
    expect(choice.backend.name).toBe(name);
    expect(choice.backend.precision).toBe(precision);
    expect(choice.reason.startsWith(`${prefer}:`)).toBe(true);
    expect(choice.reason.length).toBeGreaterThan(`${prefer}:`.length + 3);
  });

  it("defaults to auto and reports what it picked", async () => {
    for (const choice of [await createBackend(), await createBackend({})]) {
      expect(choice.backend.name).toBe(autoName);
      expect(choice.reason).toMatch(new RegExp(`^auto: picked ${autoName}`));
    }
  });

  it("lists exactly the preferences it accepts", async () => {
    expect([...BACKEND_PREFERENCES]).toEqual(["auto", "gpu", "wasm", "cpu", "reference"]);
    for (const prefer of BACKEND_PREFERENCES) {
      // gpu needs a GPU context (see gpu-backend.test.ts); without one it says what is missing.
      const made = createBackend({ prefer });
      if (prefer === "gpu") await made.then((c) => expect(c.backend.name).toBe("gpu-webgl"), (e: KernelError) => expect(e.code).toBe("HTS_BACKEND_UNAVAILABLE"));
      else await expect(made).resolves.toHaveProperty("backend");
    }
  });

  it.each(["gpu2", "CPU", "", " cpu", "webgl", 0, true])("prefer=%j throws HTS_INVALID_ARGUMENT naming prefer", async (prefer) => {
    const error = await createBackend({ prefer: prefer as BackendPreference }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KernelError);
    expect(error).toBeInstanceOf(Error);
    const e = error as KernelError;
    expect(e.name).toBe("KernelError");
    expect(e.code).toBe("HTS_INVALID_ARGUMENT");
    expect(e.parameter).toBe("prefer");
    expect(e.value).toBe(prefer);
    expect(e.message).toMatch(/createBackend/);
    expect(e.message).toMatch(/prefer/);
    expect(e.expected).toMatch(/auto/);
  });
});

const factories: [string, () => Backend][] = [
  ["cpu-f32", createCpuBackend],
  ["reference-f64", createReferenceBackend],
];
if (wasmHere) {
  const wasm = await createWasmBackend();
  factories.push(["wasm-f32", () => wasm]);
}

describe.each(factories)("%s: bad input", (_name, create) => {
  const be = create();

  it.each<[string, () => unknown, KernelErrorCode, string]>([
    ["matrix(0, 3)", () => be.matrix(0, 3), "HTS_INVALID_ARGUMENT", "shape"],
    ["matrix(3, 0)", () => be.matrix(3, 0), "HTS_INVALID_ARGUMENT", "shape"],
    ["matrix(-1, 2)", () => be.matrix(-1, 2), "HTS_INVALID_ARGUMENT", "shape"],
    ["matrix(2.5, 2)", () => be.matrix(2.5, 2), "HTS_INVALID_ARGUMENT", "shape"],
    ["matrix(NaN, 2)", () => be.matrix(Number.NaN, 2), "HTS_INVALID_ARGUMENT", "shape"],
    ["matrix(2, Infinity)", () => be.matrix(2, Number.POSITIVE_INFINITY), "HTS_INVALID_ARGUMENT", "shape"],
    ["matrix('2', 2)", () => be.matrix("2" as unknown as number, 2), "HTS_INVALID_ARGUMENT", "shape"],
    ["matrix(2, 3, 5 values)", () => be.matrix(2, 3, [1, 2, 3, 4, 5]), "HTS_SHAPE_MISMATCH", "values"],
    ["matrix(2, 3, 7 values)", () => be.matrix(2, 3, new Float32Array(7)), "HTS_SHAPE_MISMATCH", "values"],
    ["write(2x3, 0 values)", () => be.write(be.matrix(2, 3), []), "HTS_SHAPE_MISMATCH", "values"],
    ["write(2x3, 5 values)", () => be.write(be.matrix(2, 3), [1, 2, 3, 4, 5]), "HTS_SHAPE_MISMATCH", "values"],
    ["write(2x3, 12 values)", () => be.write(be.matrix(2, 3), new Float64Array(12)), "HTS_SHAPE_MISMATCH", "values"],
  ])("%s throws %s naming %s", (_label, call, code, parameter) => {
    const error = thrown(call);
    expect(error).toBeInstanceOf(KernelError);
    const e = error as KernelError;
    expect(e.code).toBe(code);
    expect(e.parameter).toBe(parameter);
    expect(e.message).toContain(be.name);
    expect(e.expected).toBeTypeOf("string");
  });

  it("a failed write leaves the matrix unchanged", () => {
    const m = be.matrix(1, 3, [1, 2, 3]);
    expect(() => be.write(m, [9, 9])).toThrow(KernelError);
    expect(Array.from(be.read(m))).toEqual([1, 2, 3]);
  });
});

describe.each(factories)("%s: host round trips", (_name, create) => {
  const be = create();

  it("read() returns a copy: mutating it does not change the matrix", () => {
    const m = be.matrix(2, 2, [1, 2, 3, 4]);
    const first = be.read(m);
    first[0] = 99;
    first.fill(-1, 1);
    expect(Array.from(be.read(m))).toEqual([1, 2, 3, 4]);
    // ...and later writes do not show through an earlier read.
    const second = be.read(m);
    be.write(m, [5, 6, 7, 8]);
    expect(Array.from(second)).toEqual([1, 2, 3, 4]);
    expect(be.read(m)).not.toBe(be.read(m));
  });

  it("toNdarray gives a rows x cols view of a copy", () => {
    const m = be.matrix(2, 3, [1, 2, 3, 4, 5, 6]);
    const view = toNdarray(be, m);
    expect(view.shape).toEqual([2, 3]);
    expect(view.get(0, 0)).toBe(1);
    expect(view.get(0, 2)).toBe(3);
    expect(view.get(1, 0)).toBe(4);
    expect(view.get(1, 2)).toBe(6);
    view.set(0, 0, 42);
    expect(be.read(m)[0]).toBe(1);
  });

  it("fromNdarray(toNdarray(m)) round-trips", () => {
    const values = [0.5, -1.25, 3, 8, -0.125, 0, 7.75, 2];
    const m = be.matrix(4, 2, values);
    const back = fromNdarray(be, toNdarray(be, m));
    expect(back.rows).toBe(4);
    expect(back.cols).toBe(2);
    expect(Array.from(be.read(back))).toEqual(values);
  });

  it("fromNdarray reads a transposed (strided) ndarray in logical order", () => {
    // A 3 x 4 row-major array; its transpose is a 4 x 3 view with strides [1, 4].
    const data = new Float64Array([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
    const t = ndarray(data, [3, 4]).transpose(1, 0);
    expect(t.shape).toEqual([4, 3]);
    expect(t.stride).toEqual([1, 4]);
    const m = fromNdarray(be, t);
    expect([m.rows, m.cols]).toEqual([4, 3]);
    expect(Array.from(be.read(m))).toEqual([0, 10, 20, 1, 11, 21, 2, 12, 22, 3, 13, 23]);
    // And back: the view of the uploaded matrix agrees with the strided source entry by entry.
    const view = toNdarray(be, m);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) expect(view.get(i, j)).toBe(t.get(i, j));
  });

  it("fromNdarray reads an offset, stepped view and a number[]-backed ndarray", () => {
    const data = new Float32Array([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
    // Rows 1..2, every other column from column 1: [[11, 13], [21, 23]].
    const view = ndarray(data, [3, 4]).lo(1, 1).step(1, 2);
    expect(Array.from(be.read(fromNdarray(be, view)))).toEqual([11, 13, 21, 23]);
    const plain = ndarray([1, 2, 3, 4, 5, 6], [3, 2]);
    expect(Array.from(be.read(fromNdarray(be, plain)))).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
