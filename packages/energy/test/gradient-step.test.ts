import { type Backend, createCpuBackend, createReferenceBackend, createWasmBackend, type Matrix, wasmUnavailableReason } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import { type Energy, hopfieldEnergy, type LayerParity, primitiveEnergy } from "../src/index.js";

/** A small deterministic generator for test data (independent of the code under test). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const backends: [string, () => Promise<Backend>][] = [
  ["reference-f64", async () => createReferenceBackend()],
  ["cpu-f32", async () => createCpuBackend()],
];
if (wasmUnavailableReason() === null) backends.push(["wasm-f32", () => createWasmBackend()]);

// Two shapes: a wide layer below a 3-neuron output (short inner dimension: the fused drive
// of wasm-f32), and three relaxed layers.
const shapes = [
  [6, 9, 3],
  [5, 7, 6, 3],
];
const energies: [string, Energy][] = [
  ["hopfield hard-sigmoid", hopfieldEnergy({ activation: "hard-sigmoid" })],
  ["hopfield sigmoid", hopfieldEnergy({ activation: "sigmoid" })],
  ["primitive hard-sigmoid", primitiveEnergy({ activation: "hard-sigmoid" })],
];

describe.each(backends)("BoundEnergy.gradientStep on %s", (_name, make) => {
  it.each(shapes.flatMap((sizes) => energies.flatMap(([label, energy]) => (["all", "odd", "even"] as LayerParity[]).flatMap((layers) => [0, 0.5].map((beta) => ({ sizes, label, energy, layers, beta }))))))(
    "$label $sizes layers=$layers beta=$beta: bit for bit stateGradient, the nudge's axpby and eulerStep",
    async ({ sizes, energy, layers, beta }) => {
      const be = await make();
      const r = lcg(sizes.length * 7 + (beta > 0 ? 1 : 0));
      const B = 5;
      const L = sizes.length - 1;
      const mat = (rows: number, cols: number, lo: number, hi: number) => be.matrix(rows, cols, Array.from({ length: rows * cols }, () => Math.fround(lo + (hi - lo) * r())));
      const W = sizes.slice(1).map((n, i) => mat(sizes[i] as number, n, -0.5, 0.5));
      const b = sizes.slice(1).map((n) => mat(1, n, -0.1, 0.1));
      const bound = energy.bind(be, { sizes, W, b }, B);
      bound.setInput(mat(B, sizes[0] as number, 0, 1));
      // states with entries outside [0, 1] too, so that the clip and rho' matter
      const state = sizes.slice(1).map((n) => mat(B, n, -0.2, 1.2));
      const dt = sizes.slice(1).map((n) => mat(1, n, 0.1, 0.5));
      const costGradient = mat(B, sizes[L] as number, -1, 1);
      const clip = [0, 1] as const;
      const inParity = (l: number) => layers === "all" || (layers === "odd") === (l % 2 === 1);
      const topIn = inParity(L);
      const alloc = () => sizes.slice(1).map((n) => be.matrix(B, n));

      // the composition
      const work0 = alloc();
      const next0 = alloc();
      bound.stateGradient(state, work0, layers);
      if (beta !== 0 && topIn) be.axpby(1, work0[L - 1] as Matrix, beta, costGradient, work0[L - 1] as Matrix);
      for (let l = 1; l <= L; l++) if (inParity(l)) be.eulerStep(state[l - 1] as Matrix, work0[l - 1] as Matrix, dt[l - 1] as Matrix, next0[l - 1] as Matrix, { scale: -1, clip });

      // the one call
      const work1 = alloc();
      const next1 = alloc();
      expect(bound.gradientStep).toBeTypeOf("function");
      bound.gradientStep?.(state, work1, next1, layers, { dt, scale: -1, clip, nudge: beta !== 0 && topIn ? { beta, costGradient } : null });

      let compared = 0;
      for (let l = 1; l <= L; l++) {
        if (!inParity(l)) continue;
        expect(Array.from(be.read(next1[l - 1] as Matrix))).toEqual(Array.from(be.read(next0[l - 1] as Matrix)));
        expect(Array.from(be.read(work1[l - 1] as Matrix))).toEqual(Array.from(be.read(work0[l - 1] as Matrix)));
        compared++;
      }
      expect(compared).toBeGreaterThan(0);
      // the states moved (the step is not a no-op)
      const moved = state.some((s, l) => inParity(l + 1) && be.maxAbsDiff(s, next1[l] as Matrix) > 0);
      expect(moved).toBe(true);
    },
  );
});
