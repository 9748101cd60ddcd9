import type { Backend, Matrix } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import { ACTIVATIONS, type Energy, hopfieldEnergy, type NetworkParams, primitiveEnergy, softmaxCrossEntropy, squaredError } from "../src/index.js";
import { checkCost, checkEnergy } from "../src/testing.js";

describe("@hts/energy/testing", () => {
  it.each(ACTIVATIONS.flatMap((a) => [["hopfield", a, hopfieldEnergy({ activation: a })] as const, ["primitive", a, primitiveEnergy({ activation: a })] as const]))(
    "checkEnergy passes the built-in %s energy with %s",
    (_n, _a, energy) => {
      const r = checkEnergy(energy);
      expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    },
  );

  it.each([
    ["mse", squaredError()],
    ["ce", softmaxCrossEntropy()],
  ] as const)("checkCost passes the built-in %s cost", (_n, cost) => {
    expect(checkCost(cost).ok).toBe(true);
  });

  it("checkEnergy fails an energy whose state gradient has the wrong sign", () => {
    const base = hopfieldEnergy();
    const flipped: Energy = {
      name: "flipped",
      activation: base.activation,
      bind(be: Backend, params: NetworkParams, batch: number) {
        const inner = base.bind(be, params, batch);
        return {
          ...inner,
          batch,
          setInput: (x: Matrix) => inner.setInput(x),
          value: (s) => inner.value(s),
          drive: (s, out) => inner.drive(s, out),
          paramGradient: (s, out, o) => inner.paramGradient(s, out, o),
          stateGradient(s, out) {
            inner.stateGradient(s, out);
            for (const m of out) be.axpby(-1, m, 0, m, m);
          },
        };
      },
    };
    const r = checkEnergy(flipped);
    expect(r.ok).toBe(false);
    expect(r.checks.find((c) => c.name === "state gradient")?.ok).toBe(false);
    expect(r.checks.find((c) => c.name === "parameter gradient")?.ok).toBe(true);
  });

  /** The Hopfield energy with some bound methods replaced. */
  const broken = (change: (inner: ReturnType<Energy["bind"]>, be: Backend) => Partial<ReturnType<Energy["bind"]>>): Energy => {
    const base = hopfieldEnergy();
    return {
      name: "broken",
      activation: base.activation,
      bind(be: Backend, params: NetworkParams, batch: number) {
        const inner = base.bind(be, params, batch);
        return {
          batch,
          setInput: (x: Matrix) => inner.setInput(x),
          value: (s) => inner.value(s),
          drive: (s, out, layers) => inner.drive(s, out, layers),
          stateGradient: (s, out, layers) => inner.stateGradient(s, out, layers),
          paramGradient: (s, out, o) => inner.paramGradient(s, out, o),
          ...change(inner, be),
        };
      },
    };
  };
  const BROKEN: [string, Energy, string][] = [
    [
      "a drive 5 % too strong (the leaky rule's fixed point moves; the gradients are right)",
      broken((inner, be) => ({
        drive(s, out, layers) {
          inner.drive(s, out, layers);
          for (const m of out) be.axpby(1, m, 0.05, m, m);
        },
      })),
      "drive",
    ],
    [
      "a drive that ignores the layers asked for (writes only odd layers whatever is asked)",
      broken((inner) => ({ drive: (s, out, layers) => inner.drive(s, out, layers === "even" ? "odd" : layers) })),
      "layer parity",
    ],
    ["a parameter gradient that ignores scale", broken((inner) => ({ paramGradient: (s, out, o) => inner.paramGradient(s, out, o?.accumulate ? { accumulate: true } : {}) })), "scale"],
    ["a parameter gradient that overwrites when asked to accumulate", broken((inner) => ({ paramGradient: (s, out, o) => inner.paramGradient(s, out, { scale: o?.scale ?? 1 }) })), "accumulate"],
    ["a gradient difference that leaves out the minus state", broken((inner) => ({ paramGradientDifference: (plus, _minus, out, o) => inner.paramGradient(plus, out, { scale: o?.scale ?? 1 }) })), "difference"],
    ["a gradient difference that adds to out instead of overwriting it", broken((inner) => ({ paramGradientDifference: (plus, minus, out, o) => {
      inner.paramGradient(plus, out, { scale: o?.scale ?? 1, accumulate: true });
      inner.paramGradient(minus, out, { scale: -(o?.scale ?? 1), accumulate: true });
    } })), "difference"],
  ];
  it.each(BROKEN)("checkEnergy fails %s", (_what, energy, check) => {
    const r = checkEnergy(energy);
    expect(r.ok).toBe(false);
    expect(r.checks.find((c) => c.name === check)?.ok).toBe(false);
    expect(r.checks.find((c) => c.name === "state gradient")?.ok).toBe(true);
  });
});
