import { createCpuBackend, createReferenceBackend } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import { allocParamGradients, EnergyError, hopfieldEnergy, type NetworkParams, primitiveEnergy } from "../src/index.js";

describe("an energy bound to another backend than its parameters' or its input's", () => {
  it.each([["hopfield", hopfieldEnergy()], ["primitive", primitiveEnergy()]] as const)("%s: a coded error naming the matrix and both backends", (_n, energy) => {
    const cpu = createCpuBackend();
    const ref = createReferenceBackend();
    const g = allocParamGradients(cpu, [4, 3, 2]);
    const params: NetworkParams = { sizes: [4, 3, 2], W: g.W, b: g.b };
    let error: unknown;
    try {
      energy.bind(ref, params, 2);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnergyError);
    expect((error as EnergyError).code).toBe("HTS_INVALID_ARGUMENT");
    expect((error as Error).message).toMatch(/bind: params\.W\[0\] \(W1\) lives on the cpu-f32 backend, not on reference-f64/);
    const bound = energy.bind(cpu, params, 2);
    expect(() => bound.setInput(ref.matrix(2, 4))).toThrow(/setInput: x lives on the reference-f64 backend, not on cpu-f32/);
    expect(() => bound.setInput(cpu.matrix(2, 4))).not.toThrow();
  });
});
