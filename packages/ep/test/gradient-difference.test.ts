import { createRng } from "@hts/distributions";
import { type BoundEnergy, createCost, createEnergy, type Energy } from "@hts/energy";
import { createReferenceBackend } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import { createNetwork, createTrainer, type Nudge } from "../src/index.js";
import { maxAbs, syntheticData } from "./helpers.js";

/**
 * The trainer takes the EP estimate's difference of two parameter gradients through
 * `BoundEnergy.paramGradientDifference` where the energy has it (the input layer's weights
 * in one product of x with the difference of the activations), and through two
 * `paramGradient` calls where it does not. Both must train the same weights: in float64
 * they differ only by the order of the sums.
 */
const data = syntheticData(48, 16, 4, 11);

/** The Hopfield energy, with or without its paramGradientDifference, counting the calls. */
function counted(withDifference: boolean): { energy: Energy; calls: { difference: number; plain: number } } {
  const inner = createEnergy("hopfield");
  const calls = { difference: 0, plain: 0 };
  const energy: Energy = {
    name: inner.name,
    activation: inner.activation,
    bind(be, params, batch) {
      const b = inner.bind(be, params, batch);
      const bound: BoundEnergy = {
        batch,
        setInput: (x) => b.setInput(x),
        value: (s) => b.value(s),
        drive: (s, out, layers) => b.drive(s, out, layers),
        stateGradient: (s, out, layers) => b.stateGradient(s, out, layers),
        paramGradient: (s, out, o) => {
          calls.plain++;
          b.paramGradient(s, out, o);
        },
      };
      if (withDifference) {
        return {
          ...bound,
          paramGradientDifference: (plus, minus, out, o) => {
            calls.difference++;
            (b.paramGradientDifference as NonNullable<BoundEnergy["paramGradientDifference"]>)(plus, minus, out, o);
          },
        };
      }
      return bound;
    },
  };
  return { energy, calls };
}

function train(withDifference: boolean, nudge: Nudge): { weights: number[][]; calls: { difference: number; plain: number } } {
  const be = createReferenceBackend();
  const network = createNetwork({ backend: be, sizes: [16, 12, 8, 4], dt: 0.3, weightRng: createRng(2) });
  const { energy, calls } = counted(withDifference);
  const trainer = createTrainer({
    network,
    energy,
    cost: createCost("mse"),
    nudgeRng: createRng(3),
    config: { t1: 20, t2: 6, beta: 0.5, nudge, dynamics: "leaky", batch: 12, optimizer: { name: "sgd", lr: [0.3, 0.2, 0.1] } },
  });
  for (let i = 0; i < 4; i++) trainer.trainBatch(data.images.subarray(i * 12 * 16, (i + 1) * 12 * 16), data.labels.subarray(i * 12, (i + 1) * 12));
  const weights = [...network.params.W, ...network.params.b].map((m) => Array.from(be.read(m)));
  return { weights, calls };
}

describe("the trainer's gradient difference", () => {
  it.each(["one-sided", "symmetric", "random-sign"] as const)("%s: the same weights through paramGradientDifference as through two paramGradient calls", (nudge) => {
    const fused = train(true, nudge);
    const plain = train(false, nudge);
    expect(fused.calls).toEqual({ difference: 4, plain: 0 });
    expect(plain.calls).toEqual({ difference: 0, plain: 8 });
    const start = createNetwork({ backend: createReferenceBackend(), sizes: [16, 12, 8, 4], dt: 0.3, weightRng: createRng(2) });
    const initial = [...start.params.W, ...start.params.b].map((m) => Array.from(start.backend.read(m)));
    fused.weights.forEach((w, i) => {
      const p = plain.weights[i] as number[];
      // The training moved the weights, by far more than the two paths differ.
      expect(maxAbs(p, initial[i] as number[])).toBeGreaterThan(1e-3);
      expect(maxAbs(w, p)).toBeLessThan(1e-12);
    });
  });
});
