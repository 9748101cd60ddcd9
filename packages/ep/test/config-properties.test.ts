import { createRng } from "@hts/distributions";
import { createCost, hopfieldEnergy } from "@hts/energy";
import { createCpuBackend } from "@hts/kernels";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createEvaluator, createNetwork, createOptimizer, createTrainer, EpError } from "../src/index.js";

/**
 * Properties of the configuration validators: whatever a caller passes (numbers of any
 * kind, strings, null, missing fields, objects), createTrainer, createEvaluator and
 * createOptimizer either accept it or throw an EpError HTS_INVALID_ARGUMENT that names one
 * of the fields, never a raw TypeError; and a value they accept is a valid one.
 */
const network = createNetwork({ backend: createCpuBackend(), sizes: [3, 2, 2], dt: 0.3, weightRng: createRng(1) });
const anything = fc.oneof(
  fc.double(),
  fc.integer({ min: -5, max: 50 }),
  fc.constantFrom(undefined, null, "", "leaky", "gradient", "sync", "even-odd", "one-sided", "symmetric", "random-sign", "sgd", "adam", true, [] as unknown, {} as unknown, Number.NaN),
);
const maybe = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: anything });
const FIELDS = ["t1", "t2", "beta", "nudge", "dynamics", "batch", "tolerance", "order", "persistent", "optimizer", "config", "nudgeRng"];

function outcome(f: () => unknown): { ok: true } | { ok: false; parameter: string } {
  try {
    f();
    return { ok: true };
  } catch (e) {
    if (!(e instanceof EpError)) throw e;
    expect(e.code).toBe("HTS_INVALID_ARGUMENT");
    return { ok: false, parameter: String((e as unknown as { parameter: string }).parameter) };
  }
}

describe("configuration validators (fast-check)", () => {
  it("createTrainer accepts a valid config or names the bad field", () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            t1: maybe(fc.integer({ min: 1, max: 5 })),
            t2: maybe(fc.integer({ min: 1, max: 5 })),
            beta: maybe(fc.double({ min: 0.01, max: 2, noNaN: true })),
            nudge: maybe(fc.constantFrom("one-sided", "symmetric")),
            dynamics: maybe(fc.constantFrom("leaky", "gradient")),
            batch: maybe(fc.integer({ min: 1, max: 4 })),
            tolerance: maybe(fc.double({ min: 0, max: 1, noNaN: true })),
            order: maybe(fc.constantFrom("sync", "even-odd")),
            persistent: maybe(fc.boolean()),
          },
          { requiredKeys: [] },
        ),
        (c) => {
          const config = { optimizer: { name: "sgd", lr: [0.1, 0.1] }, ...c };
          const r = outcome(() => createTrainer({ network, energy: hopfieldEnergy(), cost: createCost("mse"), config: config as never }));
          if (!r.ok) {
            expect(FIELDS.some((f) => r.parameter === f || r.parameter.startsWith(`${f}.`) || r.parameter.startsWith("config."))).toBe(true);
            return;
          }
          // Accepted: every field present is valid.
          const v = config as Record<string, unknown>;
          for (const k of ["t1", "t2", "batch"]) expect(Number.isInteger(v[k]) && (v[k] as number) >= 1).toBe(true);
          expect(typeof v.beta === "number" && Number.isFinite(v.beta) && v.beta > 0).toBe(true);
          if (v.tolerance !== undefined) expect(typeof v.tolerance === "number" && v.tolerance >= 0).toBe(true);
          if (v.order !== undefined) expect(["sync", "even-odd"]).toContain(v.order);
          if (v.persistent !== undefined) expect(typeof v.persistent).toBe("boolean");
        },
      ),
      { numRuns: 400, seed: 11 },
    );
  });

  it("createEvaluator accepts a valid inference config or names the bad field", () => {
    fc.assert(
      fc.property(fc.record({ t1: maybe(fc.integer({ min: 1, max: 5 })), dynamics: maybe(fc.constantFrom("leaky", "gradient")), tolerance: maybe(fc.double({ min: 0, max: 1, noNaN: true })) }, { requiredKeys: [] }), (c) => {
        const r = outcome(() => createEvaluator({ network, energy: hopfieldEnergy(), cost: createCost("mse"), config: c as never }));
        if (!r.ok) expect(["t1", "dynamics", "tolerance", "config"]).toContain(r.parameter);
        else expect(Number.isInteger(c.t1) && (c.t1 as number) >= 1 && (c.dynamics === "leaky" || c.dynamics === "gradient")).toBe(true);
      }),
      { numRuns: 300, seed: 12 },
    );
  });

  it("createOptimizer accepts valid settings or names the bad one", () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            name: maybe(fc.constantFrom("sgd", "momentum", "adam")),
            lr: maybe(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 2 })),
            momentum: maybe(fc.double({ min: 0, max: 0.99, noNaN: true })),
            weightDecay: maybe(fc.double({ min: 0, max: 0.1, noNaN: true })),
          },
          { requiredKeys: ["name", "lr"] },
        ),
        (c) => {
          const r = outcome(() => createOptimizer(network.backend, network.sizes, c as never));
          if (!r.ok) expect(["name", "lr", "momentum", "weightDecay", "beta1", "beta2", "epsilon", "config"].some((f) => r.parameter === f || r.parameter.startsWith(`${f}[`))).toBe(true);
          else expect(["sgd", "momentum", "adam"]).toContain(c.name);
        },
      ),
      { numRuns: 300, seed: 13 },
    );
  });
});
