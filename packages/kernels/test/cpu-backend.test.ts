import { describe, expect, it } from "vitest";
import { createCpuBackend } from "../src/index.js";
import { randomValues, seededUniform } from "./helpers.js";

// The float32 CPU backend promises more than the conformance tolerance: products are
// accumulated in float64 and rounded to float32 once, on store. These tests pin that down
// exactly, with inputs whose float32 running sum would lose the small terms.

const cpu = createCpuBackend();

describe("cpu-f32 backend", () => {
  it("is named cpu-f32, stores float32 and rounds written values to float32", () => {
    expect(cpu.name).toBe("cpu-f32");
    expect(cpu.precision).toBe("float32");
    const back = cpu.read(cpu.matrix(1, 2, [0.1, 1 + 2 ** -30]));
    expect(back).toBeInstanceOf(Float32Array);
    expect(Array.from(back)).toEqual([Math.fround(0.1), 1]);
  });

  // 1 + 4 * 2^-25 = 1 + 2^-23 is a float32 value; adding 2^-25 to 1 four times in float32
  // gives 1, because each partial sum rounds back to 1.
  const t = 2 ** -25;
  const exact = 1 + 4 * t;
  const combos = [
    { transA: false, transB: false },
    { transA: false, transB: true },
    { transA: true, transB: false },
    { transA: true, transB: true },
  ];

  it.each(combos)("gemm transA=$transA transB=$transB accumulates in float64, rounds once", ({ transA, transB }) => {
    // op(a) = [1 1 1 1 1] (1 x 5), op(b) = [1 t t t t]^T (5 x 1).
    const a = cpu.matrix(transA ? 5 : 1, transA ? 1 : 5, [1, 1, 1, 1, 1]);
    const b = cpu.matrix(transB ? 1 : 5, transB ? 5 : 1, [1, t, t, t, t]);
    const out = cpu.matrix(1, 1, [Number.NaN]);
    cpu.gemm(a, b, out, { transA, transB });
    expect(cpu.read(out)[0]).toBe(Math.fround(exact));
    expect(Math.fround(exact)).toBe(exact);
  });

  it.each(combos)("gemm transA=$transA transB=$transB rounds alpha * sum + beta * out once", ({ transA, transB }) => {
    // out = 1 * (4t) + 0.5 * 2 = 1 + 4t, a float32 value; adding the terms one by one to
    // the scaled previous value in float32 would give 1.
    const a = cpu.matrix(transA ? 4 : 1, transA ? 1 : 4, [1, 1, 1, 1]);
    const b = cpu.matrix(transB ? 1 : 4, transB ? 4 : 1, [t, t, t, t]);
    const out = cpu.matrix(1, 1, [2]);
    cpu.gemm(a, b, out, { transA, transB, alpha: 1, beta: 0.5 });
    expect(cpu.read(out)[0]).toBe(exact);
  });

  it.each(combos)("gemm transA=$transA transB=$transB equals float64 products rounded to float32", ({ transA, transB }) => {
    const rand = seededUniform(77);
    const m = 6;
    const k = 300;
    const n = 5;
    const opA = randomValues(rand, m * k); // row-major m x k
    const opB = randomValues(rand, k * n); // row-major k x n
    const storedA = transA ? transposeFlat(opA, m, k) : opA;
    const storedB = transB ? transposeFlat(opB, k, n) : opB;
    const out = cpu.matrix(m, n);
    cpu.gemm(cpu.matrix(transA ? k : m, transA ? m : k, storedA), cpu.matrix(transB ? n : k, transB ? k : n, storedB), out, {
      transA,
      transB,
    });
    const expected: number[] = [];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += opA[i * k + p]! * opB[p * n + j]!;
        expected.push(Math.fround(acc));
      }
    }
    // Summation order may differ from this loop, so allow one float32 ulp of the result.
    const got = cpu.read(out);
    for (let i = 0; i < expected.length; i++) {
      const e = expected[i]!;
      expect(Math.abs(got[i]! - e)).toBeLessThanOrEqual(ulp32(e));
    }
  });

  it("columnSums accumulates in float64, rounds once", () => {
    const x = cpu.matrix(5, 1, [1, t, t, t, t]);
    const out = cpu.matrix(1, 1);
    cpu.columnSums(x, out);
    expect(cpu.read(out)[0]).toBe(exact);
  });
});

function transposeFlat(x: readonly number[], rows: number, cols: number): number[] {
  const out = new Array<number>(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j]!;
  return out;
}

/** The spacing of float32 values at |x|. */
function ulp32(x: number): number {
  const a = Math.abs(x);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}
